/**
 * Usage against the plan, as a tenant sees it through the real server (`usage`, `usageHistory`),
 * the snapshots that measure what is too costly to count per request (refreshUsageSnapshots, run
 * by the job queue's schedule and `capliquify usage refresh`), and the meter whose counts they add up.
 */
import type { AddressInfo } from 'node:net';
import { GraphQLClient } from 'graphql-request';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { createApiKey } from '../src/auth/api-keys.js';
import { periodOf, UsageMeter } from '../src/billing/metering.js';
import { percentOf } from '../src/billing/usage.js';
import { openSnapshotPool, refreshUsageSnapshots } from '../src/billing/usage-snapshots.js';
import { defaultPoolSettings } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { buildApp } from '../src/server/app.js';
import { createTenant, deleteTenant, type Tenant } from '../src/tenants/lifecycle.js';
import type { Tier } from '../src/tenants/tiers.js';
import {
  CreateProductDocument,
  UsageDocument,
  UsageHistoryDefaultDocument,
  UsageHistoryDocument,
  ViewerDocument,
  type UsageQuery,
} from './generated/graphql.js';
import { failure, firstError, TEST_ENCRYPTION_KEY, type TenantWithKeys } from './support/api.js';
import { sessionToken, strictClerkConfig } from './support/clerk.js';
import { runCli } from './support/cli.js';
import { hasFeature } from '../src/billing/plans.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { statementCounter } from './support/statements.js';

const HOUR = 3_600_000;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

type Server = {
  url: string;
  client(credential: string): GraphQLClient;
  close(): Promise<void>;
};

/**
 * The real server with the usage settings under test: a flush interval of an hour means the
 * meter writes only when the server closes, so what `usage` shows is exact and known.
 */
async function startServer(
  options: {
    usageFlushMs?: number;
    pool?: DatabasePool;
  } = {},
): Promise<Server> {
  const app = await buildApp({
    pool: options.pool ?? db.pool,
    migrations: db.migrations,
    logger: createLogger('silent'),
    apiKeyCacheTtlMs: 0,
    encryptionKey: TEST_ENCRYPTION_KEY,
    clerk: strictClerkConfig(),
    usageFlushMs: options.usageFlushMs ?? HOUR,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/graphql`;
  let closing: Promise<void> | undefined;
  return {
    url,
    client: (credential) =>
      new GraphQLClient(url, { headers: { authorization: `Bearer ${credential}` } }),
    // Idempotent: a test may close its server early and again in its finally block.
    close: () => (closing ??= app.close()),
  };
}

/**
 * A tenant on a tier, linked to a Clerk organisation, with a read-write and a read-only key (API
 * keys need the Professional plan or better) and session tokens for its members.
 */
async function tenantOn(tier: Tier, slug: string): Promise<TenantWithKeys> {
  const organizationId = `org_${slug.replaceAll('-', '')}`;
  const tenant = await createTenant(db.lifecycle, {
    slug,
    name: `${slug} Ltd`,
    tier,
    clerkOrganizationId: organizationId,
  });
  // Keys only where the plan has them (creating one on Starter is PAYMENT_REQUIRED).
  const keys = hasFeature(tier, 'api_keys')
    ? await Promise.all(
        [['read', 'write'], ['read']].map((scopes) =>
          createApiKey(db.pool, {
            tenantId: tenant.id,
            name: scopes.join('+'),
            scopes,
            actor: 'test',
          }),
        ),
      )
    : [{ key: '' }, { key: '' }];
  const companyId = await db.pool.oneFirst(sql.type(z.object({ id: z.string() }))`
    SELECT id FROM ${sql.identifier([tenant.schemaName, 'companies'])}`);
  return {
    ...tenant,
    key: keys[0]!.key,
    readKey: keys[1]!.key,
    companyId,
    organizationId,
    session: (role, userId = `user_${role}`) =>
      sessionToken({ userId, orgId: organizationId, orgSlug: slug, role }),
  };
}

/* -------------------------------------------------------------------------------------------- */
/* Seeding with plain SQL                                                                        */
/* -------------------------------------------------------------------------------------------- */

const monthStart = (back: number, now = new Date()) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));

async function addUsers(
  tenantId: string,
  users: { id: string; active?: boolean; deleted?: boolean; lastLogin?: Date | null }[],
) {
  for (const user of users) {
    await db.pool.query(sql.unsafe`
      INSERT INTO public.users (tenant_id, clerk_user_id, role, is_active, deleted_at, last_login_at)
      VALUES (${tenantId}, ${user.id}, 'member', ${user.active ?? true},
        ${user.deleted ? sql.fragment`now()` : null},
        ${user.lastLogin ? sql.timestamp(user.lastLogin) : null})`);
  }
}

async function addProducts(tenant: Tenant, active: number, inactive = 0, prefix = 'SKU') {
  await db.pool.query(sql.unsafe`
    INSERT INTO ${sql.identifier([tenant.schemaName, 'products'])} (company_id, sku, name, is_active)
    SELECT (SELECT id FROM ${sql.identifier([tenant.schemaName, 'companies'])} LIMIT 1),
      ${prefix} || '-' || g, 'Product ' || g, g <= ${active}
    FROM generate_series(1, ${active + inactive}) g`);
}

/** Company-level forecasts created at the given times. */
/** Finished forecast runs created at these times (what FORECASTS_GENERATED counts). */
async function addForecastRuns(tenant: Tenant, createdAt: Date[]) {
  for (const created of createdAt) {
    await db.pool.query(sql.unsafe`
      INSERT INTO ${sql.identifier([tenant.schemaName, 'forecast_runs'])}
        (status, forecast_type, period_type, horizon, model, as_of, confidence_level, requested_by, created_at)
      VALUES ('SUCCEEDED', 'CASH_FLOW', 'MONTHLY', 3, 'ETS', '2026-01-31', 0.95, 'test', ${sql.timestamp(created)})`);
  }
}

const MetricsRow = z.object({
  active_users_count: z.number(),
  total_entities_count: z.number(),
  storage_used_mb: z.number(),
  api_requests_count: z.number(),
  api_errors_count: z.number(),
  forecasts_generated: z.number(),
  reports_exported: z.number(),
});

/** A tenant's usage_metrics row for the period that starts at `start`; null when there is none. */
const metricsRow = (tenantId: string, start = periodOf(new Date()).start) =>
  db.pool.maybeOne(sql.type(MetricsRow)`
    SELECT active_users_count, total_entities_count, storage_used_mb, api_requests_count,
      api_errors_count, forecasts_generated, reports_exported
    FROM public.usage_metrics WHERE tenant_id = ${tenantId} AND period_start = ${sql.timestamp(start)}`);

async function setMetrics(
  tenantId: string,
  start: Date,
  values: Partial<Record<keyof z.infer<typeof MetricsRow>, number>>,
) {
  const end = periodOf(start).end;
  const v = {
    active_users_count: 0,
    total_entities_count: 0,
    storage_used_mb: 0,
    api_requests_count: 0,
    api_errors_count: 0,
    forecasts_generated: 0,
    reports_exported: 0,
    ...values,
  };
  await db.pool.query(sql.unsafe`
    INSERT INTO public.usage_metrics (tenant_id, period_start, period_end, active_users_count,
      total_entities_count, storage_used_mb, api_requests_count, api_errors_count,
      forecasts_generated, reports_exported)
    VALUES (${tenantId}, ${sql.timestamp(start)}, ${sql.timestamp(end)}, ${v.active_users_count},
      ${v.total_entities_count}, ${v.storage_used_mb}, ${v.api_requests_count},
      ${v.api_errors_count}, ${v.forecasts_generated}, ${v.reports_exported})
    ON CONFLICT (tenant_id, period_start) DO UPDATE SET
      active_users_count = EXCLUDED.active_users_count,
      total_entities_count = EXCLUDED.total_entities_count,
      storage_used_mb = EXCLUDED.storage_used_mb,
      api_requests_count = EXCLUDED.api_requests_count,
      api_errors_count = EXCLUDED.api_errors_count,
      forecasts_generated = EXCLUDED.forecasts_generated,
      reports_exported = EXCLUDED.reports_exported`);
}

/** The size of a tenant schema's tables, rounded up to MB, straight from the catalog. */
const schemaMb = (tenant: Tenant) =>
  db.pool.oneFirst(sql.type(z.object({ mb: z.number() }))`
    SELECT ceil(coalesce(sum(pg_total_relation_size(c.oid)), 0) / 1048576.0)::int AS mb
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${tenant.schemaName} AND c.relkind = 'r'`);

type Item = UsageQuery['usage']['items'][number];
const byMetric = (usage: UsageQuery['usage']) =>
  Object.fromEntries(usage.items.map((item) => [item.metric, item])) as Record<
    Item['metric'],
    Item
  >;

const item = (metric: Item['metric'], used: number, limit: number | null): Item => ({
  metric,
  used,
  limit,
  percent: limit === null ? null : Math.round((used * 1000) / limit) / 10,
});

/* -------------------------------------------------------------------------------------------- */
/* usage                                                                                         */
/* -------------------------------------------------------------------------------------------- */

describe('usage', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  test('every role of the tenant sees the same figures: live users and products, snapshot storage and forecasts, every request counted', async () => {
    const acme = await tenantOn('professional', 'acme');
    const now = new Date();
    let requests = 0;
    let errors = 0;
    // Each session's user is recorded by its first request.
    for (const role of ['viewer', 'member', 'admin', 'owner'] as const) {
      await server.client(acme.session(role)).request(ViewerDocument);
      requests += 1;
    }
    await addUsers(acme.id, [
      { id: 'user_left', active: false },
      { id: 'user_erased', deleted: true, active: false },
    ]);
    await addProducts(acme, 7, 2);
    await addForecastRuns(acme, [
      now,
      now,
      monthStart(0, now),
      new Date(monthStart(0, now).getTime() - 1),
    ]);
    await refreshUsageSnapshots(db.pool, now);
    const storage = await schemaMb(acme);
    expect(storage).toBeGreaterThan(0);

    // Requests with errors count as errors (validation of months happens in the resolver).
    for (const months of [0, 25]) {
      await failure(server.client(acme.key), UsageHistoryDocument, { months });
      requests += 1;
      errors += 1;
    }

    const callers: [string, string][] = [
      ['read key', acme.readKey],
      ['write key', acme.key],
      ['VIEWER', acme.session('viewer')],
      ['MEMBER', acme.session('member')],
      ['ADMIN', acme.session('admin')],
      ['OWNER', acme.session('owner')],
    ];
    for (const [caller, credential] of callers) {
      const { usage } = await server.client(credential).request(UsageDocument);
      expect({ caller, usage }).toEqual({
        caller,
        usage: {
          periodStart: periodOf(now).start.toISOString(),
          periodEnd: periodOf(now).end.toISOString(),
          items: [
            item('API_REQUESTS', requests, 500_000),
            item('API_ERRORS', errors, null),
            item('USERS', 4, 20),
            item('PRODUCTS', 7, 500),
            item('STORAGE_MB', storage, 10_240),
            item('FORECASTS_GENERATED', 3, 1_000),
            item('EXPORTS', 0, null),
          ],
        },
      });
      // This request is counted once its response is ready, so the next one sees it.
      requests += 1;
    }
    expect(byMetric((await server.client(acme.key).request(UsageDocument)).usage).USERS).toEqual({
      metric: 'USERS',
      used: 4,
      limit: 20,
      percent: 20,
    });
  });

  test('users and products are live: a product archived or a user deactivated shows at once', async () => {
    const live = await tenantOn('professional', 'live');
    await addUsers(live.id, [{ id: 'user_live_1' }, { id: 'user_live_2' }]);
    await addProducts(live, 3);
    const before = byMetric((await server.client(live.key).request(UsageDocument)).usage);
    expect([before.USERS.used, before.PRODUCTS.used]).toEqual([2, 3]);

    await db.pool.query(sql.unsafe`
      UPDATE public.users SET is_active = false WHERE clerk_user_id = 'user_live_1'`);
    await db.pool.query(sql.unsafe`
      UPDATE ${sql.identifier([live.schemaName, 'products'])} SET is_active = false WHERE sku = 'SKU-1'`);
    const after = byMetric((await server.client(live.key).request(UsageDocument)).usage);
    expect([after.USERS.used, after.PRODUCTS.used]).toEqual([1, 2]);
  });

  test('percent has one decimal, passes 100 when over the limit, and is null without a limit (enterprise)', async () => {
    expect([percentOf(1, 3), percentOf(2, 3), percentOf(0, 5), percentOf(1, 16)]).toEqual([
      33.3, 66.7, 0, 6.3,
    ]);
    expect(percentOf(5, null)).toBeNull();

    // Starter: sessions only (API keys need Professional).
    const starter = await tenantOn('starter', 'starter-co');
    const owner = server.client(starter.session('owner'));
    await setMetrics(starter.id, periodOf(new Date()).start, { storage_used_mb: 341 });
    await addProducts(starter, 30);
    expect((await owner.request(UsageDocument)).usage.items).toEqual([
      item('API_REQUESTS', 0, 50_000),
      item('API_ERRORS', 0, null),
      { metric: 'USERS', used: 1, limit: 5, percent: 20 },
      { metric: 'PRODUCTS', used: 30, limit: 100, percent: 30 },
      { metric: 'STORAGE_MB', used: 341, limit: 1_024, percent: 33.3 },
      item('FORECASTS_GENERATED', 0, 100),
      item('EXPORTS', 0, null),
    ]);
    await setMetrics(starter.id, periodOf(new Date()).start, { storage_used_mb: 2_048 });
    expect(byMetric((await owner.request(UsageDocument)).usage).STORAGE_MB).toEqual({
      metric: 'STORAGE_MB',
      used: 2_048,
      limit: 1_024,
      percent: 200,
    });

    const pro = await tenantOn('professional', 'pro-co');
    await addUsers(pro.id, [{ id: 'user_pro_1' }, { id: 'user_pro_2' }, { id: 'user_pro_3' }]);
    const pros = byMetric((await server.client(pro.readKey).request(UsageDocument)).usage);
    expect([pros.USERS, pros.API_REQUESTS.limit, pros.STORAGE_MB.limit]).toEqual([
      { metric: 'USERS', used: 3, limit: 20, percent: 15 },
      500_000,
      10_240,
    ]);

    const big = await tenantOn('enterprise', 'big-corp');
    await addUsers(big.id, [{ id: 'user_big_1' }, { id: 'user_big_2' }, { id: 'user_big_3' }]);
    await addProducts(big, 120);
    expect((await server.client(big.key).request(UsageDocument)).usage.items).toEqual([
      item('API_REQUESTS', 0, 5_000_000),
      item('API_ERRORS', 0, null),
      { metric: 'USERS', used: 3, limit: null, percent: null },
      { metric: 'PRODUCTS', used: 120, limit: null, percent: null },
      item('STORAGE_MB', 0, 102_400),
      item('FORECASTS_GENERATED', 0, 10_000),
      item('EXPORTS', 0, null),
    ]);
  });

  test("one tenant's usage never shows another's figures", async () => {
    const north = await tenantOn('professional', 'north');
    const south = await tenantOn('professional', 'south');
    const start = periodOf(new Date()).start;
    await addUsers(north.id, [{ id: 'user_north_1' }]);
    await addUsers(south.id, [
      { id: 'user_south_1' },
      { id: 'user_south_2' },
      { id: 'user_south_3' },
    ]);
    await addProducts(north, 2);
    await addProducts(south, 11);
    await setMetrics(north.id, start, {
      api_requests_count: 10,
      api_errors_count: 1,
      storage_used_mb: 5,
      forecasts_generated: 2,
      reports_exported: 1,
    });
    await setMetrics(south.id, start, {
      api_requests_count: 900,
      api_errors_count: 90,
      storage_used_mb: 50,
      forecasts_generated: 20,
      reports_exported: 9,
    });
    // South's requests on this server stay pending in its meter; north must not see them.
    for (let i = 0; i < 3; i += 1) await server.client(south.key).request(ViewerDocument);

    const northUsage = (await server.client(north.readKey).request(UsageDocument)).usage;
    expect(northUsage.items.map((each) => [each.metric, each.used])).toEqual([
      ['API_REQUESTS', 10],
      ['API_ERRORS', 1],
      ['USERS', 1],
      ['PRODUCTS', 2],
      ['STORAGE_MB', 5],
      ['FORECASTS_GENERATED', 2],
      ['EXPORTS', 1],
    ]);
    const southUsage = (await server.client(south.session('viewer')).request(UsageDocument)).usage;
    expect(southUsage.items.map((each) => [each.metric, each.used])).toEqual([
      ['API_REQUESTS', 903],
      ['API_ERRORS', 90],
      // user_viewer came with the session.
      ['USERS', 4],
      ['PRODUCTS', 11],
      ['STORAGE_MB', 50],
      ['FORECASTS_GENERATED', 20],
      ['EXPORTS', 9],
    ]);
    const [northNow] = (await server.client(north.key).request(UsageHistoryDocument, { months: 1 }))
      .usageHistory;
    expect(northNow).toMatchObject({ apiRequests: 11, storageMb: 5, exports: 1 });
  });

  test('reads the row and counts in one statement inside the request transaction', async () => {
    const counter = statementCounter();
    const counted = await startServer({
      pool: await db.openPool({ interceptors: [counter.interceptor] }),
    });
    try {
      const quiet = await tenantOn('professional', 'quiet');
      counter.reset();
      await counted.client(quiet.key).request(UsageDocument);
      const names = counter.statements.map((text) => /\/\*\s*(\w+)\s*\*\//.exec(text)?.[1]);
      const inside = names.slice(names.indexOf('enterTenant') + 1);
      expect(inside).toEqual(['currentUsage']);
      counter.reset();
      await counted.client(quiet.key).request(UsageHistoryDocument, { months: 24 });
      const history = counter.statements.map((text) => /\/\*\s*(\w+)\s*\*\//.exec(text)?.[1]);
      expect(history.slice(history.indexOf('enterTenant') + 1)).toEqual(['usageHistory']);
    } finally {
      await counted.close();
    }
  });
});

/* -------------------------------------------------------------------------------------------- */
/* Counting requests                                                                             */
/* -------------------------------------------------------------------------------------------- */

describe('API requests and errors', () => {
  test('after N requests and a clean shutdown the row holds exactly N; errors are the responses with errors; refused and invalid requests cost nothing', async () => {
    const server = await startServer();
    try {
      const counted = await tenantOn('professional', 'counted');
      const N = 25;
      await Promise.all(
        Array.from({ length: N }, () => server.client(counted.key).request(ViewerDocument)),
      );
      // Three requests whose responses carry errors.
      for (const months of [0, 25, -1]) {
        expect(
          firstError(await failure(server.client(counted.key), UsageHistoryDocument, { months })),
        ).toEqual({
          status: 200,
          code: 'BAD_USER_INPUT',
          message: 'months must be from 1 to 24.',
        });
      }
      // Refused before the transaction (a read-only key writing): not counted.
      expect(
        firstError(
          await failure(server.client(counted.readKey), CreateProductDocument, {
            input: { sku: 'NOPE', name: 'Nope' },
          }),
        ),
      ).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      // Invalid documents never reach the tenant: not counted.
      const invalid = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${counted.key}` },
        body: JSON.stringify({ query: '{ usage { nothing } }' }),
      });
      expect(invalid.status).toBe(400);

      const { usage } = await server.client(counted.key).request(UsageDocument);
      expect(usage.items.slice(0, 2)).toEqual([
        item('API_REQUESTS', N + 3, 500_000),
        item('API_ERRORS', 3, null),
      ]);
      // Nothing written yet: the flush interval is an hour.
      expect(await metricsRow(counted.id)).toBeNull();

      await server.close();
      expect(await metricsRow(counted.id)).toMatchObject({
        // N, the three failures and the usage request itself.
        api_requests_count: N + 4,
        api_errors_count: 3,
      });

      // Another server adds its own pending counts to the row.
      const next = await startServer();
      try {
        await next.client(counted.key).request(ViewerDocument);
        await next.client(counted.key).request(ViewerDocument);
        const again = byMetric((await next.client(counted.readKey).request(UsageDocument)).usage);
        expect([again.API_REQUESTS.used, again.API_ERRORS.used]).toEqual([N + 6, 3]);
      } finally {
        await next.close();
      }
      expect(await metricsRow(counted.id)).toMatchObject({
        api_requests_count: N + 7,
        api_errors_count: 3,
      });
    } finally {
      await server.close();
    }
  });

  test('with flushes every 50 ms, usage and the final row still agree with the requests made', async () => {
    const server = await startServer({ usageFlushMs: 50 });
    try {
      const busy = await tenantOn('professional', 'busy');
      let requests = 0;
      for (let round = 0; round < 5; round += 1) {
        await Promise.all(
          Array.from({ length: 8 }, () => server.client(busy.key).request(ViewerDocument)),
        );
        requests += 8;
        await new Promise((resolve) => setTimeout(resolve, 30));
        const { usage } = await server.client(busy.readKey).request(UsageDocument);
        expect(byMetric(usage).API_REQUESTS.used).toBe(requests);
        requests += 1;
      }
      await server.close();
      expect((await metricsRow(busy.id))?.api_requests_count).toBe(requests);
    } finally {
      await server.close();
    }
  });
});

/* -------------------------------------------------------------------------------------------- */
/* usageHistory                                                                                  */
/* -------------------------------------------------------------------------------------------- */

describe('usageHistory', () => {
  let server: Server;
  let history: TenantWithKeys;
  const now = new Date();
  beforeAll(async () => {
    server = await startServer();
    history = await tenantOn('professional', 'history');
    await setMetrics(history.id, monthStart(1, now), {
      api_requests_count: 1_000,
      api_errors_count: 10,
      active_users_count: 3,
      total_entities_count: 40,
      storage_used_mb: 7,
      forecasts_generated: 12,
      reports_exported: 2,
    });
    await setMetrics(history.id, monthStart(3, now), {
      api_requests_count: 300,
      storage_used_mb: 6,
    });
    await setMetrics(history.id, monthStart(23, now), { api_requests_count: 23 });
    // Older than any window, and another tenant's rows: never shown.
    await setMetrics(history.id, monthStart(24, now), { api_requests_count: 24 });
    const other = await tenantOn('professional', 'history-other');
    await setMetrics(other.id, monthStart(2, now), { api_requests_count: 777 });
    await setMetrics(other.id, monthStart(0, now), { api_requests_count: 888 });
  });
  afterAll(async () => {
    await server?.close();
  });

  const zeros = (back: number) => ({
    periodStart: monthStart(back, now).toISOString(),
    periodEnd: monthStart(back - 1, now).toISOString(),
    apiRequests: 0,
    apiErrors: 0,
    activeUsers: 0,
    products: 0,
    storageMb: 0,
    forecastsGenerated: 0,
    exports: 0,
  });

  test('six months by default, newest first, months without a row as zeros, the current one with pending requests', async () => {
    const client = server.client(history.key);
    const defaults = (await client.request(UsageHistoryDefaultDocument)).usageHistory;
    expect(defaults.map((period) => period.periodStart)).toEqual(
      [0, 1, 2, 3, 4, 5].map((back) => monthStart(back, now).toISOString()),
    );
    const { usageHistory } = await client.request(UsageHistoryDocument, { months: 6 });
    expect(usageHistory).toEqual([
      // The request above is pending in this server's meter.
      { ...zeros(0), apiRequests: 1 },
      {
        ...zeros(1),
        apiRequests: 1_000,
        apiErrors: 10,
        activeUsers: 3,
        products: 40,
        storageMb: 7,
        forecastsGenerated: 12,
        exports: 2,
      },
      zeros(2),
      { ...zeros(3), apiRequests: 300, storageMb: 6 },
      zeros(4),
      zeros(5),
    ]);
    // Explicit null is the default.
    expect(
      (await client.request(UsageHistoryDocument, { months: null })).usageHistory,
    ).toHaveLength(6);
  });

  test('1 and 24 months are the bounds; anything else is BAD_USER_INPUT on months', async () => {
    const client = server.client(history.readKey);
    const one = (await client.request(UsageHistoryDocument, { months: 1 })).usageHistory;
    expect(one.map((period) => period.periodStart)).toEqual([monthStart(0, now).toISOString()]);
    const all = (await client.request(UsageHistoryDocument, { months: 24 })).usageHistory;
    expect(all).toHaveLength(24);
    expect(all[23]).toEqual({ ...zeros(23), apiRequests: 23 });
    expect(all.map((period) => period.apiRequests).reduce((a, b) => a + b, 0)).toBe(
      1_000 + 300 + 23 + all[0]!.apiRequests,
    );
    // Consecutive calendar months, each ending where the newer one starts.
    for (let i = 1; i < all.length; i += 1) expect(all[i]!.periodEnd).toBe(all[i - 1]!.periodStart);

    for (const months of [0, 25, -3, 1_000]) {
      const result = await failure(client, UsageHistoryDocument, { months });
      expect({
        ...firstError(result),
        field: result.errors[0]?.extensions.field,
      }).toEqual({
        status: 200,
        code: 'BAD_USER_INPUT',
        message: 'months must be from 1 to 24.',
        field: 'months',
      });
    }
  });
});

/* -------------------------------------------------------------------------------------------- */
/* Snapshots                                                                                     */
/* -------------------------------------------------------------------------------------------- */

describe('refreshUsageSnapshots', () => {
  test("measures each live tenant's users, products, storage and forecasts, and leaves the API counters alone", async () => {
    const now = new Date();
    const start = periodOf(now).start;
    const lastMonth = new Date(start.getTime() - 86_400_000);
    const tenants = await Promise.all(
      ['snap-a', 'snap-b', 'snap-c'].map((slug) =>
        createTenant(db.lifecycle, { slug, name: `${slug} Ltd` }),
      ),
    );
    const [a, b, c] = tenants as [Tenant, Tenant, Tenant];
    await addUsers(a.id, [
      { id: 'user_a_now', lastLogin: now },
      { id: 'user_a_start', lastLogin: start },
      { id: 'user_a_old', lastLogin: lastMonth },
      { id: 'user_a_never' },
      { id: 'user_a_left', active: false, lastLogin: now },
      { id: 'user_a_erased', active: false, deleted: true, lastLogin: now },
    ]);
    await addUsers(b.id, [{ id: 'user_b_now', lastLogin: now }]);
    await addProducts(a, 4, 1);
    await addProducts(b, 9);
    await addForecastRuns(a, [now, start, lastMonth]);
    await addForecastRuns(c, [now]);
    // The meter's counters, and a column the snapshot does not own.
    await setMetrics(a.id, start, {
      api_requests_count: 1_234,
      api_errors_count: 56,
      reports_exported: 3,
      active_users_count: 99,
      storage_used_mb: 99,
    });
    // A deleted tenant is not measured.
    const gone = await createTenant(db.lifecycle, { slug: 'snap-gone', name: 'Gone Ltd' });
    await deleteTenant(db.lifecycle, 'snap-gone');

    const run = await refreshUsageSnapshots(db.pool, now);
    expect(run.failed).toEqual([]);
    expect(run.aborted).toBe(false);

    expect(await metricsRow(a.id)).toEqual({
      active_users_count: 2,
      total_entities_count: 4,
      storage_used_mb: await schemaMb(a),
      api_requests_count: 1_234,
      api_errors_count: 56,
      forecasts_generated: 2,
      reports_exported: 3,
    });
    expect(await metricsRow(b.id)).toEqual({
      active_users_count: 1,
      total_entities_count: 9,
      storage_used_mb: await schemaMb(b),
      api_requests_count: 0,
      api_errors_count: 0,
      forecasts_generated: 0,
      reports_exported: 0,
    });
    expect(await metricsRow(c.id)).toMatchObject({
      active_users_count: 0,
      total_entities_count: 0,
      forecasts_generated: 1,
      storage_used_mb: await schemaMb(c),
    });
    expect(await metricsRow(gone.id)).toBeNull();
    // Every live tenant of the database (other tests' too) has its row now.
    const live = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM public.tenants WHERE deleted_at IS NULL`);
    expect(run.tenants).toBe(live);
  });

  test('storage grows with the rows inserted; the next run writes it, still leaving the API counters', async () => {
    const grow = await createTenant(db.lifecycle, { slug: 'grow', name: 'Grow Ltd' });
    await refreshUsageSnapshots(db.pool);
    const before = (await metricsRow(grow.id))!.storage_used_mb;
    expect(before).toBe(await schemaMb(grow));

    await db.pool.query(sql.unsafe`
      UPDATE public.usage_metrics SET api_requests_count = 77, api_errors_count = 7
      WHERE tenant_id = ${grow.id}`);
    // About 6 MB of product descriptions (random text, which TOAST cannot compress away).
    await db.pool.query(sql.unsafe`
      INSERT INTO ${sql.identifier([grow.schemaName, 'products'])} (company_id, sku, name, description)
      SELECT (SELECT id FROM ${sql.identifier([grow.schemaName, 'companies'])} LIMIT 1),
        'BULK-' || g, 'Bulk ' || g,
        (SELECT string_agg(md5(random()::text || g || i), '') FROM generate_series(1, 100) i)
      FROM generate_series(1, 2000) g`);
    // Measured before and after the run: autovacuum may add a page or two meanwhile.
    const low = await schemaMb(grow);
    await refreshUsageSnapshots(db.pool);
    const high = await schemaMb(grow);
    const after = await metricsRow(grow.id);
    expect(after).toMatchObject({
      total_entities_count: 2_000,
      api_requests_count: 77,
      api_errors_count: 7,
    });
    expect(after!.storage_used_mb).toBeGreaterThanOrEqual(low);
    expect(after!.storage_used_mb).toBeLessThanOrEqual(high);
    expect(after!.storage_used_mb).toBeGreaterThanOrEqual(before + 5);
  });

  test('chunks bound the statements; a tenant that cannot be measured costs the others nothing', async () => {
    const live = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM public.tenants WHERE deleted_at IS NULL`);
    const counted = await refreshUsageSnapshots(db.pool, new Date(), { chunkSize: 4 });
    expect(counted).toEqual({
      tenants: live,
      failed: [],
      statements: 1 + Math.ceil(live / 4),
      aborted: false,
    });

    const broken = await createTenant(db.lifecycle, { slug: 'broken', name: 'Broken Ltd' });
    const products = sql.identifier([broken.schemaName, 'products']);
    await db.pool.query(sql.unsafe`ALTER TABLE ${products} RENAME COLUMN is_active TO active`);
    try {
      const run = await refreshUsageSnapshots(db.pool, new Date(), { chunkSize: 1_000 });
      expect(run.failed).toEqual([
        { tenantId: broken.id, error: expect.stringContaining('is_active') },
      ]);
      // The listing, the chunk that failed, then each of its tenants on its own.
      expect(run).toMatchObject({ tenants: live, statements: 2 + live + 1 });
      expect(await metricsRow(broken.id)).toBeNull();
    } finally {
      await db.pool.query(sql.unsafe`ALTER TABLE ${products} RENAME COLUMN active TO is_active`);
    }
  });

  test('the snapshot pool gives each statement a fresh backend, so no catalog cache outlives a chunk', async () => {
    const pool = await openSnapshotPool(db.url, defaultPoolSettings);
    try {
      const pid = () =>
        pool.oneFirst(sql.type(z.object({ pid: z.number() }))`SELECT pg_backend_pid() AS pid`);
      const pids = [await pid(), await pid(), await pid()];
      expect(new Set(pids).size).toBe(3);
      const run = await refreshUsageSnapshots(pool, new Date(), { chunkSize: 3 });
      expect(run.failed).toEqual([]);
      expect(run.tenants).toBeGreaterThan(3);
    } finally {
      await pool.end();
    }
  });

  test('an aborted run stops between chunks', async () => {
    const stop = new AbortController();
    stop.abort();
    expect(await refreshUsageSnapshots(db.pool, new Date(), { signal: stop.signal })).toEqual({
      tenants: 0,
      failed: [],
      statements: 1,
      aborted: true,
    });
  });
});

describe('capliquify usage refresh', () => {
  test('refreshes every live tenant and prints one line', async () => {
    const cli = await createTenant(db.lifecycle, { slug: 'cli-usage', name: 'CLI Ltd' });
    await addProducts(cli, 6);
    const live = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
      SELECT count(*)::int AS count FROM public.tenants WHERE deleted_at IS NULL`);
    const result = await runCli(['usage', 'refresh'], { DATABASE_URL: db.url });
    expect(result).toEqual({
      code: 0,
      stdout: expect.stringMatching(
        new RegExp(`^Refreshed the usage snapshots of ${live} tenants in \\d+\\.\\d\\d s\\.\\n$`),
      ),
      stderr: '',
    });
    expect(await metricsRow(cli.id)).toMatchObject({
      total_entities_count: 6,
      storage_used_mb: await schemaMb(cli),
    });
  });

  test('names the tenants it could not measure and exits 1', async () => {
    const broken = await createTenant(db.lifecycle, { slug: 'cli-broken', name: 'Broken Ltd' });
    const forecasts = sql.identifier([broken.schemaName, 'forecast_runs']);
    await db.pool.query(sql.unsafe`ALTER TABLE ${forecasts} RENAME COLUMN created_at TO made_at`);
    try {
      const live = await db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
        SELECT count(*)::int AS count FROM public.tenants WHERE deleted_at IS NULL`);
      const result = await runCli(['usage', 'refresh'], { DATABASE_URL: db.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('');
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        new RegExp(
          `^Refreshed the usage snapshots of ${live - 1} tenants in \\d+\\.\\d\\d s; 1 tenant failed\\.$`,
        ),
      );
      expect(lines.slice(1)).toEqual([expect.stringMatching(`^  ${broken.id}: .*created_at`)]);
    } finally {
      await db.pool.query(sql.unsafe`ALTER TABLE ${forecasts} RENAME COLUMN made_at TO created_at`);
    }
  });
});

/* -------------------------------------------------------------------------------------------- */
/* The meter                                                                                     */
/* -------------------------------------------------------------------------------------------- */

describe('UsageMeter', () => {
  test('pending counts include a flush still waiting for the database, and are exact once it lands', async () => {
    const tenant = await createTenant(db.lifecycle, { slug: 'meter-wait', name: 'Wait Ltd' });
    const meter = new UsageMeter(db.pool, createLogger('silent'), HOUR);
    const now = new Date();
    await setMetrics(tenant.id, periodOf(now).start, { api_requests_count: 100 });
    meter.record(tenant.id, false, now);
    meter.record(tenant.id, true, now);

    // Hold the row so the flush waits on it.
    const locked = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    const holder = db.pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`
        SELECT 1 FROM public.usage_metrics WHERE tenant_id = ${tenant.id} FOR UPDATE`);
      locked.resolve();
      await release.promise;
    });
    await locked.promise;
    const flushed = meter.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    meter.record(tenant.id, false, now);
    expect(meter.pending(tenant.id, now)).toEqual({ requests: 3, errors: 1 });
    expect(meter.used(tenant.id, now)).toBe(3);
    release.resolve();
    await holder;
    await flushed;
    // Written: 102 in the row; the third request still waits for the next flush.
    expect(meter.pending(tenant.id, now)).toEqual({ requests: 1, errors: 0 });
    expect(meter.used(tenant.id, now)).toBe(103);
    await meter.stop();
    expect(await metricsRow(tenant.id)).toMatchObject({
      api_requests_count: 103,
      api_errors_count: 1,
    });
    expect(meter.pending(tenant.id, now)).toEqual({ requests: 0, errors: 0 });
  });

  test('a flush that lands between reading the pending counts and the row is not counted twice', async () => {
    const tenant = await createTenant(db.lifecycle, { slug: 'meter-race', name: 'Race Ltd' });
    const meter = new UsageMeter(db.pool, createLogger('silent'), HOUR);
    const now = new Date();
    await setMetrics(tenant.id, periodOf(now).start, { api_requests_count: 10 });
    meter.record(tenant.id, false, now);
    meter.record(tenant.id, false, now);
    let reads = 0;
    const { result, pending } = await meter.readWithPending(tenant.id, now, async () => {
      // The first read finds the two requests both pending and (once flushed) in the row.
      if (reads === 0) await meter.flush();
      reads += 1;
      return metricsRow(tenant.id);
    });
    expect(reads).toBe(2);
    expect(result!.api_requests_count + pending.requests).toBe(12);
    await meter.stop();
  });

  test('a failed flush keeps its counts, and the next flush still runs and writes them', async () => {
    const tenant = await createTenant(db.lifecycle, { slug: 'meter-fail', name: 'Fail Ltd' });
    const meter = new UsageMeter(db.pool, createLogger('silent'), HOUR);
    const now = new Date();
    await db.pool.query(sql.unsafe`
      CREATE FUNCTION public.test_refuse_usage() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'usage writes refused for the test'; END $$`);
    await db.pool.query(sql.unsafe`
      CREATE TRIGGER test_refuse_usage BEFORE INSERT ON public.usage_metrics
      FOR EACH ROW EXECUTE FUNCTION public.test_refuse_usage()`);
    try {
      meter.record(tenant.id, false, now);
      meter.record(tenant.id, true, now);
      await expect(meter.flush()).rejects.toThrow();
      expect(meter.pending(tenant.id, now)).toEqual({ requests: 2, errors: 1 });
      meter.record(tenant.id, false, now);
    } finally {
      await db.pool.query(sql.unsafe`DROP TRIGGER test_refuse_usage ON public.usage_metrics`);
      await db.pool.query(sql.unsafe`DROP FUNCTION public.test_refuse_usage()`);
    }
    await meter.flush();
    expect(meter.pending(tenant.id, now)).toEqual({ requests: 0, errors: 0 });
    expect(await metricsRow(tenant.id)).toMatchObject({
      api_requests_count: 3,
      api_errors_count: 1,
    });
  });
});
