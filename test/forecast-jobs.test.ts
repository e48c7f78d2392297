/**
 * Forecast runs as background jobs on the queue (pg-boss on the test database): the demo
 * tenant's 50 products with progress advancing, a worker killed mid-run whose job another worker
 * retries, a run that keeps failing ends FAILED with the previous forecasts in place, and the
 * fleet-wide chores run once however many servers schedule them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { sql } from 'slonik';
import { z } from 'zod';
import { DEMO_FORECAST_REQUEST, ensureDemoTenant } from '../src/demo/demo-tenant.js';
import { BILLING_SWEEP } from '../src/jobs/chores.js';
import { JobQueue } from '../src/jobs/queue.js';
import { createLogger } from '../src/logger.js';
import { createApiKey } from '../src/auth/api-keys.js';
import type { Tenant } from '../src/tenants/lifecycle.js';
import {
  ForecastRunDocument,
  GenerateForecastsDocument,
  RunForecastsDocument,
  type ForecastRunQuery,
} from './generated/graphql.js';
import { startApi, tenantWithKeys, testJobSettings, type Api } from './support/api.js';
import { cliEnv, cliPath, runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { GraphQLClient } from 'graphql-request';

let db: TestDatabase;
let demo: Tenant;
let demoKey: string;
/** Every one of the demo's 50 products (three of them discontinued). */
let demoProducts: string[];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Run = NonNullable<ForecastRunQuery['forecastRun']>;

/** Polls a run until `until` holds; every productsDone seen, in order. */
async function follow(
  client: GraphQLClient,
  id: string,
  until: (run: Run) => boolean,
  timeoutMs = 90_000,
) {
  const seen: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await client.request(ForecastRunDocument, { id })).forecastRun!;
    if (seen.at(-1) !== run.productsDone) seen.push(run.productsDone);
    if (until(run)) return { run, seen };
    if (Date.now() > deadline)
      throw new Error(`run ${id} still ${run.status} (${run.productsDone} done)`);
    await sleep(100);
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  demo = (await ensureDemoTenant(db.lifecycle)).tenant;
  demoKey = (
    await createApiKey(db.pool, {
      tenantId: demo.id,
      name: 'test',
      scopes: ['read', 'write'],
      actor: 'test',
    })
  ).key;
  demoProducts = [
    ...(await db.pool.anyFirst(sql.type(z.object({ id: z.string() }))`
      SELECT id FROM ${sql.identifier([demo.schemaName, 'products'])} ORDER BY sku`)),
  ];
}, 120_000);
afterAll(async () => {
  await db?.drop();
});

const demoRun = (client: GraphQLClient) =>
  client.request(GenerateForecastsDocument, {
    input: { ...DEMO_FORECAST_REQUEST, horizon: 30, productIds: demoProducts },
  });

describe('a run of the demo tenant’s products as a background job', () => {
  let api: Api;
  beforeAll(async () => {
    api = await startApi(db, { jobs: {} });
  });
  afterAll(async () => {
    await api?.close();
  });

  test('comes back QUEUED, advances product by product, and succeeds', async () => {
    const client = api.client(demoKey);
    const queued = (await demoRun(client)).generateForecasts;
    expect(demoProducts).toHaveLength(50);
    expect(queued).toMatchObject({
      status: 'QUEUED',
      productsTotal: 50,
      productsDone: 0,
      model: 'AUTO',
    });
    const { run, seen } = await follow(
      client,
      queued.id,
      (each) => each.status === 'SUCCEEDED' || each.status === 'FAILED',
    );
    expect(run).toMatchObject({ status: 'SUCCEEDED', productsDone: 50, attempts: 1, error: null });
    // Progress was seen between the start and the end, and never went back.
    expect(seen.some((done) => done > 0 && done < 50)).toBe(true);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(run.accuracy.mape).not.toBeNull();
    // Every product forecast 30 days (the API lists at most 1000 rows: count them here).
    const counts = await db.pool.any(sql.type(
      z.object({ product_id: z.string(), rows: z.number() }),
    )`
      SELECT product_id, count(*)::int AS rows FROM ${sql.identifier([demo.schemaName, 'forecasts'])}
      WHERE run_id = ${run.id} GROUP BY product_id`);
    const skipped = run.fallbacks.filter((fallback) => fallback.model === null).length;
    expect(skipped).toBe(0);
    expect(counts).toHaveLength(50);
    expect(counts.every((count) => count.rows === 30)).toBe(true);

    // Another tenant sees neither the run nor its forecasts.
    const other = await tenantWithKeys(db, 'other');
    const outsider = api.client(other.readKey);
    expect((await outsider.request(ForecastRunDocument, { id: run.id })).forecastRun).toBeNull();
    expect((await outsider.request(RunForecastsDocument, { runId: run.id })).forecasts).toEqual([]);
  }, 120_000);
});

describe('a worker killed in the middle of a run', () => {
  test('its job expires and another worker runs it again to the end', async () => {
    // This server only sends; the worker is a separate `capliquify worker` process.
    const sender = await startApi(db, { jobs: { work: false, forecastTimeoutSeconds: 20 } });
    let worker: ChildProcess | undefined;
    let rescuer: JobQueue | undefined;
    try {
      const client = sender.client(demoKey);
      const queued = (await demoRun(client)).generateForecasts;
      worker = spawn(process.execPath, [cliPath, 'worker'], {
        env: cliEnv({
          DATABASE_URL: db.url,
          JOBS_POLL_S: '1',
          JOBS_MAINTENANCE_S: '1',
          USAGE_SNAPSHOT_MS: '0',
        }),
        stdio: 'ignore',
      });
      const started = await follow(client, queued.id, (run) => run.productsDone > 0);
      expect(started.run).toMatchObject({ status: 'RUNNING', attempts: 1 });
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker!.once('exit', resolve));
      const stalled = (await client.request(ForecastRunDocument, { id: queued.id })).forecastRun!;
      expect(stalled.status).toBe('RUNNING');
      expect(stalled.productsDone).toBeLessThan(50);

      rescuer = await JobQueue.start({
        settings: testJobSettings(db, { forecastTimeoutSeconds: 20 }),
        pool: db.pool,
        logger: createLogger('silent'),
      });
      const { run } = await follow(
        client,
        queued.id,
        (each) => each.status === 'SUCCEEDED' || each.status === 'FAILED',
        120_000,
      );
      expect(run).toMatchObject({ status: 'SUCCEEDED', attempts: 2, productsDone: 50 });
    } finally {
      worker?.kill('SIGKILL');
      await rescuer?.stop();
      await sender.close();
    }
  }, 180_000);
});

describe('a run that keeps failing', () => {
  test('ends FAILED with the reason, and the previous forecasts stay current', async () => {
    const api = await startApi(db, { jobs: { retryLimit: 1 } });
    const role = sql.identifier([demo.schemaName]);
    const forecasts = sql.identifier([demo.schemaName, 'forecasts']);
    try {
      const client = api.client(demoKey);
      const before = (await client.request(RunForecastsDocument, {})).forecasts;
      expect(before.length).toBeGreaterThan(0);
      // The tenant's role may no longer write forecasts: every attempt fails at its last step.
      await db.pool.query(sql.unsafe`REVOKE INSERT ON ${forecasts} FROM ${role}`);
      const queued = (await demoRun(client)).generateForecasts;
      const { run } = await follow(
        client,
        queued.id,
        (each) => each.status === 'FAILED' || each.status === 'SUCCEEDED',
      );
      expect(run.status).toBe('FAILED');
      expect(run.error).toMatch(/failed 2 times.*permission denied for table forecasts/);
      expect(run.finishedAt).not.toBeNull();
      const after = (await client.request(RunForecastsDocument, {})).forecasts;
      expect(after).toEqual(before);
    } finally {
      await db.pool.query(sql.unsafe`GRANT INSERT ON ${forecasts} TO ${role}`);
      await api.close();
    }
  }, 120_000);
});

describe('fleet-wide chores', () => {
  test('two servers scheduling the billing sweep run it once per slot', async () => {
    const late = await tenantWithKeys(db, 'late-payer');
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET subscription_status = 'past_due', past_due_since = now() - interval '30 days'
      WHERE id = ${late.id}`);
    const chores = { billingGraceDays: 7, billingSweepCron: '* * * * *' };
    const servers = await Promise.all(
      [0, 1].map(() => startApi(db, { jobs: { chores, cronIntervalSeconds: 1 } })),
    );
    try {
      const jobs = () =>
        db.pool.any(sql.type(z.object({ state: z.string(), slot: z.string() }))`
          SELECT state::text AS state, coalesce(singleton_on::text, '') AS slot FROM pgboss.job WHERE name = ${BILLING_SWEEP}
          UNION ALL
          SELECT state::text, coalesce(singleton_on::text, '') FROM pgboss.archive WHERE name = ${BILLING_SWEEP}`);
      const deadline = Date.now() + 100_000;
      while (!(await jobs()).some((job) => job.state === 'completed')) {
        if (Date.now() > deadline) throw new Error('the billing sweep never ran');
        await sleep(500);
      }
      const all = await jobs();
      const perSlot = new Map<string, number>();
      for (const job of all) perSlot.set(job.slot, (perSlot.get(job.slot) ?? 0) + 1);
      expect([...perSlot.values()].every((count) => count === 1)).toBe(true);
      const suspended = await db.pool.any(sql.unsafe`
        SELECT 1 FROM public.audit_logs WHERE tenant_id = ${late.id} AND action = 'billing.suspended'`);
      expect(suspended).toHaveLength(1);
      const status = await db.pool.oneFirst(sql.unsafe`
        SELECT subscription_status::text FROM public.tenants WHERE id = ${late.id}`);
      expect(status).toBe('suspended');
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  }, 150_000);
});

describe('capliquify forecasts generate', () => {
  test('runs here with progress, prints the finished run, and is audited as the cli', async () => {
    const result = await runCli(
      [
        'forecasts',
        'generate',
        '--tenant',
        demo.slug,
        '--type',
        'REVENUE',
        '--period',
        'MONTHLY',
        '--horizon',
        '3',
        '--model',
        'ETS',
      ],
      { DATABASE_URL: db.url },
    );
    expect(result.code).toBe(0);
    const run = JSON.parse(result.stdout);
    const active = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM ${sql.identifier([demo.schemaName, 'products'])} WHERE is_active`);
    expect(run).toMatchObject({
      status: 'SUCCEEDED',
      type: 'REVENUE',
      periodType: 'MONTHLY',
      horizon: 3,
      productsTotal: active,
      productsDone: active,
    });
    expect(result.stderr).toContain(`products ${active}/${active} (100%)`);
    const audit = await db.pool.oneFirst(sql.type(z.object({ actor: z.string() }))`
      SELECT actor FROM public.audit_logs WHERE resource_id = ${run.id} AND action = 'forecast.generated'`);
    expect(audit).toBe('cli');
    const bad = await runCli(['forecasts', 'generate', '--tenant', demo.slug, '--horizon', '400'], {
      DATABASE_URL: db.url,
    });
    expect(bad).toMatchObject({
      code: 1,
      stderr: 'capliquify: horizon must be a whole number of periods from 1 to 366 for DAILY.\n',
    });
  }, 120_000);
});
