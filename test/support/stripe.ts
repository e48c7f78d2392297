/**
 * A local stand-in for Stripe's API (node:http), for the endpoints the server calls: it answers
 * with the JSON objects Stripe returns (the fields the SDK and our code read), replays a POST
 * with a known Idempotency-Key as Stripe does, and records every request (method, path, query,
 * form body, Idempotency-Key) so tests can assert what was sent. The server under test gets a
 * real Stripe SDK client pointed at it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

export type RecordedRequest = {
  method: string;
  path: string;
  /** The query string (GET), flattened as the SDK encodes it: `lookup_keys[0]`. */
  query: Record<string, string>;
  /** The form body (POST), flattened: `metadata[tenant_id]`, `line_items[0][price]`. */
  form: Record<string, string>;
  idempotencyKey: string | undefined;
  authorization: string | undefined;
};

export type FakeStripe = {
  /** A client of this fake, as the server under test gets it (no retries: one request per call). */
  client(): Stripe;
  requests: RecordedRequest[];
  /** Requests to `METHOD /path` since the last reset. */
  calls(method: string, path: string): RecordedRequest[];
  reset(): void;
  /** Prices by lookup key; tests may add or remove some. */
  prices: Map<string, { id: string; unitAmount: number; interval: 'month' | 'year' }>;
  /** Answers `METHOD /path` with this HTTP status and a Stripe error until cleared. */
  fail(method: string, path: string, status: number | null): void;
  /** Holds each POST /v1/customers this long (to make concurrent calls overlap). */
  customerDelayMs: number;
  close(): Promise<void>;
};

const flatten = (text: string) => Object.fromEntries(new URLSearchParams(text));

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const failures = new Map<string, number>();
  const replays = new Map<string, { status: number; body: unknown }>();
  let sequence = 0;
  const prices: FakeStripe['prices'] = new Map();
  for (const tier of ['starter', 'professional'] as const) {
    for (const [cycle, interval] of [
      ['monthly', 'month'],
      ['annual', 'year'],
    ] as const) {
      const amount = { starter: 4_900, professional: 19_900 }[tier] * (cycle === 'annual' ? 10 : 1);
      prices.set(`${tier}_${cycle}`, {
        id: `price_${tier}_${cycle}`,
        unitAmount: amount,
        interval,
      });
    }
  }
  const fake: Pick<FakeStripe, 'customerDelayMs'> = { customerDelayMs: 0 };

  const priceObject = (lookupKey: string) => {
    const price = prices.get(lookupKey)!;
    return {
      id: price.id,
      object: 'price',
      active: true,
      currency: 'usd',
      lookup_key: lookupKey,
      unit_amount: price.unitAmount,
      recurring: { interval: price.interval, interval_count: 1 },
      type: 'recurring',
      product: { id: `prod_${lookupKey.split('_')[0]}`, object: 'product', active: true },
    };
  };

  async function answer(request: RecordedRequest): Promise<{ status: number; body: unknown }> {
    const key = `${request.method} ${request.path}`;
    const failure = failures.get(key);
    if (failure !== undefined) {
      return {
        status: failure,
        body: {
          error: {
            type: failure >= 500 ? 'api_error' : 'invalid_request_error',
            message: 'Simulated Stripe failure with internal detail',
          },
        },
      };
    }
    const now = Math.floor(Date.now() / 1000);
    const id = () => String(++sequence).padStart(6, '0');
    switch (key) {
      case 'GET /v1/prices': {
        const lookupKeys = Object.entries(request.query)
          .filter(([name]) => name.startsWith('lookup_keys['))
          .map(([, value]) => value);
        return {
          status: 200,
          body: {
            object: 'list',
            url: '/v1/prices',
            has_more: false,
            data: lookupKeys.filter((lookup) => prices.has(lookup)).map(priceObject),
          },
        };
      }
      case 'POST /v1/customers': {
        if (fake.customerDelayMs > 0) {
          await new Promise((resolve) => setTimeout(resolve, fake.customerDelayMs));
        }
        const customerId = `cus_test${id()}`;
        return {
          status: 200,
          body: {
            id: customerId,
            object: 'customer',
            name: request.form.name ?? null,
            email: null,
            metadata: Object.fromEntries(
              Object.entries(request.form)
                .filter(([name]) => name.startsWith('metadata['))
                .map(([name, value]) => [name.slice('metadata['.length, -1), value]),
            ),
            created: now,
            livemode: false,
          },
        };
      }
      case 'POST /v1/checkout/sessions': {
        const sessionId = `cs_test_${id()}`;
        return {
          status: 200,
          body: {
            id: sessionId,
            object: 'checkout.session',
            mode: request.form.mode,
            customer: request.form.customer,
            client_reference_id: request.form.client_reference_id ?? null,
            url: `https://checkout.stripe.com/c/pay/${sessionId}`,
            expires_at: now + 86_400,
            status: 'open',
            success_url: request.form.success_url,
            cancel_url: request.form.cancel_url,
            livemode: false,
          },
        };
      }
      case 'POST /v1/billing_portal/sessions': {
        const sessionId = `bps_test_${id()}`;
        return {
          status: 200,
          body: {
            id: sessionId,
            object: 'billing_portal.session',
            customer: request.form.customer,
            return_url: request.form.return_url ?? null,
            url: `https://billing.stripe.com/p/session/${sessionId}`,
            created: now,
            livemode: false,
          },
        };
      }
      default:
        return {
          status: 404,
          body: {
            error: { type: 'invalid_request_error', message: `Unrecognized request URL (${key})` },
          },
        };
    }
  }

  const handle = async (incoming: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const url = new URL(incoming.url ?? '/', 'http://stripe.test');
    const header = (name: string) => {
      const value = incoming.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const request: RecordedRequest = {
      method: incoming.method ?? 'GET',
      path: url.pathname,
      query: flatten(url.search),
      form: flatten(Buffer.concat(chunks).toString('utf8')),
      idempotencyKey: header('idempotency-key'),
      authorization: header('authorization'),
    };
    requests.push(request);
    const replayKey = request.idempotencyKey && `${request.path} ${request.idempotencyKey}`;
    let result = replayKey ? replays.get(replayKey) : undefined;
    if (!result) {
      result = await answer(request);
      if (replayKey && result.status < 500) replays.set(replayKey, result);
    }
    response.writeHead(result.status, {
      'content-type': 'application/json',
      'request-id': `req_test${sequence}`,
      ...(request.idempotencyKey ? { 'idempotency-key': request.idempotencyKey } : {}),
    });
    response.end(JSON.stringify(result.body));
  };

  const server = createServer((incoming, response) => {
    handle(incoming, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { type: 'api_error', message: String(error) } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return Object.assign(fake, {
    client: () =>
      new Stripe('sk_test_capliquify_fake', {
        host: '127.0.0.1',
        port,
        protocol: 'http' as const,
        maxNetworkRetries: 0,
      }),
    requests,
    calls: (method: string, path: string) =>
      requests.filter((request) => request.method === method && request.path === path),
    reset: () => {
      requests.length = 0;
    },
    prices,
    fail: (method: string, path: string, status: number | null) => {
      if (status === null) failures.delete(`${method} ${path}`);
      else failures.set(`${method} ${path}`, status);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  });
}
