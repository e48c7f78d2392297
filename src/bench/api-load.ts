/**
 * Worker thread of `npm run bench`: runs autocannon off the servers' event loop, sending the same
 * POST body with the tenants' keys in turn (one key per request, round-robin over all tenants),
 * and posts the figures back. A response with GraphQL errors counts as a mismatch.
 */
import autocannon from 'autocannon';
import { parentPort, workerData } from 'node:worker_threads';

export type LoadJob = {
  url: string;
  body: string;
  keys: string[];
  durationSeconds: number;
  connections: number;
  /** Stop after this many requests instead (durationSeconds then only bounds the watchdog). */
  amount?: number;
};

export type LoadResult = {
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  /** The start of the first answer that carried errors, if any did. */
  firstFailure?: string;
};

type AggregateResult = (results: unknown[], options: autocannon.Options) => autocannon.Result;

const job = workerData as LoadJob;
let next = 0;
/** The first answer that failed verification, to say why requests failed. */
let firstFailure: string | undefined;

const options: autocannon.Options = {
  url: job.url,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: job.body,
  ...(job.amount ? { amount: job.amount } : { duration: job.durationSeconds }),
  connections: job.connections,
  timeout: 10,
  requests: [
    {
      setupRequest: (request) => ({
        ...request,
        headers: {
          ...request.headers,
          authorization: `Bearer ${job.keys[next++ % job.keys.length]}`,
        },
      }),
    },
  ],
  verifyBody: (body) => {
    const ok = body !== undefined && !body.includes('"errors"');
    if (!ok && firstFailure === undefined) firstFailure = String(body).slice(0, 300);
    return ok;
  },
};
// Off the main thread autocannon returns its raw histograms (it expects to be one of its own
// workers); aggregateResult, public but untyped, turns them into the usual figures.
const aggregate = (autocannon as unknown as { aggregateResult: AggregateResult }).aggregateResult;
const result = aggregate([await autocannon(options)], options);

const message: LoadResult = {
  requests: result.requests.total,
  seconds: result.duration,
  p50: result.latency.p50,
  p99: result.latency.p99,
  errors: result.errors,
  timeouts: result.timeouts,
  non2xx: result.non2xx,
  mismatches: result.mismatches,
  firstFailure,
};
parentPort!.postMessage(message);
