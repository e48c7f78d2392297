/**
 * Plans as the API enforces them, through the real server: the catalogue, quotas on products and
 * users (atomic under concurrency), the monthly request cap, the per-key rate with Retry-After,
 * read-only billing states, API keys as a plan feature, and exact metering after a clean shutdown.
 */
import { sql } from 'slonik';
import { z } from 'zod';
import { PLANS } from '../src/billing/plans.js';
import { periodOf } from '../src/billing/metering.js';
import { sweepBilling } from '../src/billing/sweep.js';
import { createTenant, type Tenant } from '../src/tenants/lifecycle.js';
import {
  BillingStateDocument,
  CreateApiKeyDocument,
  CreateProductDocument,
  PlansDocument,
  UpdateProductDocument,
  ViewerDocument,
} from './generated/graphql.js';
import {
  failure,
  firstError,
  startApi,
  tenantWithKeys,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { sessionToken } from './support/clerk.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let api: Api;

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db, { usageFlushMs: 50 });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const table = (tenant: Tenant, name: string) => sql.identifier([tenant.schemaName, name]);

/** Inserts `n` products (active unless told otherwise) straight into the tenant's schema. */
async function seedProducts(tenant: Tenant, n: number, active = true) {
  await db.pool.query(sql.unsafe`
    INSERT INTO ${table(tenant, 'products')} (company_id, sku, name, is_active)
    SELECT (SELECT id FROM ${table(tenant, 'companies')} LIMIT 1), 'SEED-' || g || '-' || ${String(active)}, 'Seeded', ${active}
    FROM generate_series(1, ${n}) AS g`);
}

const activeProducts = (tenant: Tenant) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM ${table(tenant, 'products')} WHERE is_active`);

/** The period's request and error counts in usage_metrics. */
const metered = async (tenantId: string) =>
  (await db.pool.maybeOne(sql.type(
    z.object({ requests: z.coerce.number(), errors: z.coerce.number() }),
  )`
    SELECT api_requests_count AS requests, api_errors_count AS errors FROM public.usage_metrics
    WHERE tenant_id = ${tenantId} AND period_start = ${periodOf(new Date()).start.toISOString()}`)) ?? {
    requests: 0,
    errors: 0,
  };

async function waitFor(check: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('plans lists the catalogue: limits, prices and features of each tier', async () => {
  const acme = await tenantWithKeys(db, 'plans-reader');
  const { plans } = await api.client(acme.readKey).request(PlansDocument);
  expect(plans.map((plan) => plan.tier)).toEqual(['STARTER', 'PROFESSIONAL', 'ENTERPRISE']);
  expect(plans[0]).toEqual({
    tier: 'STARTER',
    name: 'Starter',
    monthlyPriceCents: 4900,
    annualPriceCents: 49000,
    currency: 'USD',
    limits: {
      maxUsers: 5,
      maxProducts: 100,
      maxStorageMb: 1024,
      monthlyApiRequests: 50000,
      requestsPerMinute: 300,
    },
    features: ['basic_forecasting', 'shopify_integration'],
  });
  expect(plans[1]?.features).toContain('api_keys');
  expect(plans[2]).toMatchObject({
    monthlyPriceCents: null,
    limits: { maxUsers: null, maxProducts: null, maxStorageMb: 102400 },
  });
  // The tenant row's limits are the catalogue's for its tier.
  expect(
    await db.pool.one(sql.unsafe`
      SELECT max_users, max_entities, max_storage_mb FROM public.tenants WHERE id = ${acme.id}`),
  ).toEqual({ max_users: 20, max_entities: 500, max_storage_mb: 10240 });
});

describe('the SKU quota', () => {
  let shop: TenantWithKeys;
  beforeAll(async () => {
    shop = await tenantWithKeys(db, 'sku-race');
    // Professional: 500 active products; 490 there, and archived ones do not count.
    await seedProducts(shop, 490);
    await seedProducts(shop, 30, false);
  });

  test('200 parallel createProduct with room for 10: exactly 10 succeed, the rest QUOTA_EXCEEDED', async () => {
    // More connections than there is room, so inserts really do run side by side.
    const wide = await startApi(db, { pool: await db.openPool({ maxSize: 40 }) });
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        wide
          .client(shop.key)
          .request(CreateProductDocument, { input: { sku: `RACE-${i}`, name: `Race ${i}` } }),
      ),
    );
    await wide.close();
    const client = api.client(shop.key);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(10);
    expect(await activeProducts(shop)).toBe(500);
    const refusal = await failure(client, CreateProductDocument, {
      input: { sku: 'ONE-MORE', name: 'One more' },
    });
    expect(refusal.errors[0]).toMatchObject({
      message:
        'Plan limit reached: 500 of 500 active products. Upgrade the plan, or archive some first.',
      extensions: { code: 'QUOTA_EXCEEDED', metric: 'PRODUCTS', limit: 500, used: 500 },
    });
  });

  test('re-activating an archived product counts too; archiving one makes room', async () => {
    const client = api.client(shop.key);
    const archived = (await db.pool.oneFirst(sql.unsafe`
      SELECT id FROM ${table(shop, 'products')} WHERE NOT is_active LIMIT 1`)) as string;
    const refused = await failure(client, UpdateProductDocument, {
      id: archived,
      input: { isActive: true },
    });
    expect(refused.errors[0]?.extensions).toMatchObject({ code: 'QUOTA_EXCEEDED', used: 500 });
    expect(await activeProducts(shop)).toBe(500);

    await db.pool.query(sql.unsafe`
      UPDATE ${table(shop, 'products')} SET is_active = false WHERE sku = 'RACE-0' OR sku LIKE 'SEED-1-%'`);
    const back = await client.request(UpdateProductDocument, {
      id: archived,
      input: { isActive: true },
    });
    expect(back.updateProduct.isActive).toBe(true);
  });
});

describe('the user quota', () => {
  test('a new user beyond the plan is QUOTA_EXCEEDED (429); 20 concurrent newcomers with room for 2: exactly 2 get in', async () => {
    // Starter: 5 users.
    const team = await createTenant(db.lifecycle, {
      slug: 'small-team',
      name: 'Small Team',
      clerkOrganizationId: 'org_smallteam',
    });
    const as = (userId: string) =>
      api.client(sessionToken({ userId, orgId: 'org_smallteam', role: 'member' }));
    for (const userId of ['user_a', 'user_b', 'user_c']) await as(userId).request(ViewerDocument);

    const newcomers = Array.from({ length: 20 }, (_, i) => `user_new${i}`);
    const results = await Promise.allSettled(
      newcomers.map((userId) => as(userId).request(ViewerDocument)),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
    expect(
      await db.pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM public.users WHERE tenant_id = ${team.id} AND is_active`),
    ).toBe(5);

    const refused = await failure(as('user_late'), ViewerDocument);
    expect(refused.status).toBe(429);
    expect(refused.errors[0]).toMatchObject({
      message: 'Plan limit reached: 5 of 5 active users. Upgrade the plan, or archive some first.',
      extensions: { code: 'QUOTA_EXCEEDED', metric: 'USERS', limit: 5, used: 5 },
    });
    // Members already in keep working.
    expect((await as('user_a').request(ViewerDocument)).viewer.tenant?.slug).toBe('small-team');
  });
});

describe('the monthly request cap', () => {
  test('beyond the plan: QUOTA_EXCEEDED (429) with Retry-After until the period ends; refusals are not counted; other tenants unaffected', async () => {
    const busy = await tenantWithKeys(db, 'cap-busy');
    const calm = await tenantWithKeys(db, 'cap-calm');
    const limit = PLANS.professional.limits.monthlyApiRequests;
    const { start, end } = periodOf(new Date());
    await db.pool.query(sql.unsafe`
      INSERT INTO public.usage_metrics (tenant_id, period_start, period_end, api_requests_count)
      VALUES (${busy.id}, ${start.toISOString()}, ${end.toISOString()}, ${limit - 2})`);

    // The server learns the stored count when it flushes its own.
    await api.client(busy.readKey).request(ViewerDocument);
    await waitFor(async () => (await metered(busy.id)).requests === limit - 1, 'the first flush');
    await api.client(busy.readKey).request(ViewerDocument);
    await waitFor(async () => (await metered(busy.id)).requests === limit, 'the second flush');
    await new Promise((resolve) => setTimeout(resolve, 100));

    const response = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${busy.readKey}` },
      body: JSON.stringify({ query: '{ viewer { role } }' }),
    });
    const body = (await response.json()) as {
      errors: { message: string; extensions: Record<string, unknown> }[];
    };
    expect(response.status).toBe(429);
    expect(body.errors[0]).toMatchObject({
      message: `Monthly API requests used up: the Professional plan includes ${limit}; the count starts again on ${end.toISOString().slice(0, 10)}.`,
      extensions: { code: 'QUOTA_EXCEEDED', metric: 'API_REQUESTS', limit, used: limit },
    });
    const retryAfter = Number(response.headers.get('retry-after'));
    const untilEnd = (end.getTime() - Date.now()) / 1000;
    expect(retryAfter).toBeGreaterThan(untilEnd - 60);
    expect(retryAfter).toBeLessThanOrEqual(Math.ceil(untilEnd) + 1);

    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await metered(busy.id)).requests).toBe(limit);
    expect((await api.client(calm.readKey).request(ViewerDocument)).viewer.tenant?.slug).toBe(
      'cap-calm',
    );
  });
});

describe('the per-key rate', () => {
  test('beyond the plan’s requests a minute: RATE_LIMITED (429) with Retry-After; another user is unaffected', async () => {
    await createTenant(db.lifecycle, {
      slug: 'chatty',
      name: 'Chatty',
      clerkOrganizationId: 'org_chatty',
    });
    const perMinute = PLANS.starter.limits.requestsPerMinute;
    const jwt = sessionToken({ userId: 'user_chatty', orgId: 'org_chatty', role: 'viewer' });
    const send = () =>
      fetch(api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
        body: JSON.stringify({ query: '{ viewer { role } }' }),
      });
    for (let sent = 0; sent < perMinute; sent += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, send));
      expect(batch.map((response) => response.status)).toEqual(Array(50).fill(200));
    }
    const limited = await send();
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = (await limited.json()) as { errors: { extensions: Record<string, unknown> }[] };
    expect(body.errors[0]?.extensions).toMatchObject({
      code: 'RATE_LIMITED',
      limit: perMinute,
    });
    const other = sessionToken({ userId: 'user_quiet', orgId: 'org_chatty', role: 'viewer' });
    expect((await api.client(other).request(ViewerDocument)).viewer.tenant?.slug).toBe('chatty');
  });
});

describe('billing states', () => {
  type State = {
    status: string;
    trialEndedDaysAgo?: number;
    pastDueDaysAgo?: number;
    reason?: 'operator' | 'payment';
  };
  const setState = (tenantId: string, state: State) =>
    db.pool.query(sql.unsafe`
      UPDATE public.tenants SET
        subscription_status = ${state.status}::public.subscription_status,
        trial_ends_at = CASE WHEN ${state.trialEndedDaysAgo ?? null}::int IS NULL THEN trial_ends_at
          ELSE now() - make_interval(days => ${state.trialEndedDaysAgo ?? 0}) END,
        past_due_since = CASE WHEN ${state.pastDueDaysAgo ?? null}::int IS NULL THEN NULL
          ELSE now() - make_interval(days => ${state.pastDueDaysAgo ?? 0}) END,
        suspended_reason = ${state.reason ?? null}
      WHERE id = ${tenantId}`);

  const writeAs = (tenant: TenantWithKeys, sku: string) =>
    failure(api.client(tenant.key), CreateProductDocument, { input: { sku, name: sku } });

  test.each([
    [
      'an ended trial',
      { status: 'trial', trialEndedDaysAgo: 1 },
      'TRIAL',
      /^The trial ended on \d{4}-\d{2}-\d{2}: choose a plan to make changes again\.$/,
    ],
    [
      'a payment overdue beyond the grace period',
      { status: 'past_due', pastDueDaysAgo: 8 },
      'SUSPENDED',
      /^A payment has been overdue since \d{4}-\d{2}-\d{2}: this tenant is read-only until it is paid\.$/,
    ],
    [
      'a suspension for non-payment',
      { status: 'suspended', reason: 'payment' },
      'SUSPENDED',
      /^This tenant is suspended for non-payment/,
    ],
    [
      'a cancelled subscription',
      { status: 'cancelled' },
      'CANCELLED',
      /^The subscription was cancelled/,
    ],
  ] as [string, State, string, RegExp][])(
    '%s: reads work, writes get PAYMENT_REQUIRED (402) and change nothing',
    async (name, state, status, warning) => {
      const tenant = await tenantWithKeys(
        db,
        `state-${name.split(' ').at(-1)}-${status.toLowerCase()}`,
      );
      await setState(tenant.id, state);
      const { viewer } = await api.client(tenant.readKey).request(BillingStateDocument);
      expect(viewer.tenant).toMatchObject({ status, readOnly: true });
      expect(viewer.tenant?.billingWarning).toMatch(warning);
      const refused = await writeAs(tenant, 'BLOCKED-1');
      expect(firstError(refused)).toMatchObject({ status: 402, code: 'PAYMENT_REQUIRED' });
      expect(refused.errors[0]?.message).toBe(
        `createProduct changes data, and this tenant is read-only. ${viewer.tenant?.billingWarning}`,
      );
      expect(await activeProducts(tenant)).toBe(0);
    },
  );

  test('PAST_DUE within the grace period keeps full access and warns', async () => {
    const tenant = await tenantWithKeys(db, 'state-grace');
    await setState(tenant.id, { status: 'past_due', pastDueDaysAgo: 2 });
    const { viewer } = await api.client(tenant.readKey).request(BillingStateDocument);
    expect(viewer.tenant).toMatchObject({ status: 'PAST_DUE', readOnly: false });
    expect(viewer.tenant?.billingWarning).toMatch(
      /^A payment failed on \d{4}-\d{2}-\d{2}: update the payment method by \d{4}-\d{2}-\d{2} to keep making changes\.$/,
    );
    await api
      .client(tenant.key)
      .request(CreateProductDocument, { input: { sku: 'OK-1', name: 'Ok' } });
    expect(await activeProducts(tenant)).toBe(1);
  });

  test('an operator suspension blocks reads too (TENANT_SUSPENDED)', async () => {
    const tenant = await tenantWithKeys(db, 'state-operator');
    await setState(tenant.id, { status: 'suspended', reason: 'operator' });
    expect(firstError(await failure(api.client(tenant.readKey), ViewerDocument))).toMatchObject({
      status: 403,
      code: 'TENANT_SUSPENDED',
    });
  });
});

describe('API keys are a Professional and Enterprise feature', () => {
  test('creating one on Starter is PAYMENT_REQUIRED; after a downgrade existing keys stop', async () => {
    const tenant = await tenantWithKeys(db, 'downgraded');
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET subscription_tier = 'starter' WHERE id = ${tenant.id}`);
    const created = await failure(api.client(tenant.session('owner')), CreateApiKeyDocument, {
      input: { name: 'more' },
    });
    expect(firstError(created)).toMatchObject({
      code: 'PAYMENT_REQUIRED',
      message:
        'API keys are part of the Professional and Enterprise plans: upgrade from Starter to create one.',
    });
    expect(firstError(await failure(api.client(tenant.key), ViewerDocument))).toMatchObject({
      status: 402,
      code: 'PAYMENT_REQUIRED',
    });
    // Sessions still work on Starter.
    expect(
      (await api.client(tenant.session('viewer')).request(ViewerDocument)).viewer.tenant?.slug,
    ).toBe('downgraded');
  });
});

test('metering is exact after N requests and a clean shutdown, errors counted apart', async () => {
  const own = await startApi(db, { usageFlushMs: 60_000 });
  const tenant = await tenantWithKeys(db, 'metered');
  const client = own.client(tenant.readKey);
  for (let i = 0; i < 37; i += 1) await client.request(ViewerDocument);
  await Promise.all(Array.from({ length: 40 }, () => client.request(ViewerDocument)));
  // Requests that fail in a resolver count, as errors too (a refused one never reaches that far).
  for (let i = 0; i < 3; i += 1) {
    await failure(own.client(tenant.key), CreateProductDocument, { input: { sku: 'X', name: '' } });
  }
  // Nothing flushed yet (a minute's interval); the clean shutdown writes it all.
  expect(await metered(tenant.id)).toEqual({ requests: 0, errors: 0 });
  await own.close();
  expect(await metered(tenant.id)).toEqual({ requests: 80, errors: 3 });
});

test('the alternative the benchmark measures, metering in the transaction, counts each request as it runs', async () => {
  const inTransaction = await startApi(db, { metering: 'transaction' });
  try {
    const tenant = await tenantWithKeys(db, 'metered-in-tx');
    for (let i = 0; i < 5; i += 1) {
      await inTransaction.client(tenant.readKey).request(ViewerDocument);
      expect((await metered(tenant.id)).requests).toBe(i + 1);
    }
    await inTransaction.client(tenant.key).request(CreateProductDocument, {
      input: { sku: 'TX-1', name: 'Counted' },
    });
    expect((await metered(tenant.id)).requests).toBe(6);
  } finally {
    await inTransaction.close();
  }
});

test('with metering off (the benchmark’s reference), nothing is counted or limited', async () => {
  const unmetered = await startApi(db, { metering: 'off', usageFlushMs: 50 });
  try {
    const tenant = await tenantWithKeys(db, 'unmetered');
    await unmetered.client(tenant.readKey).request(ViewerDocument);
  } finally {
    await unmetered.close();
  }
  const tenantId = (await db.pool.oneFirst(
    sql.unsafe`SELECT id FROM public.tenants WHERE slug = 'unmetered'`,
  )) as string;
  expect(await metered(tenantId)).toEqual({ requests: 0, errors: 0 });
});

test('the billing sweep stores SUSPENDED for tenants overdue beyond the grace period, once, audited; `capliquify billing sweep` runs it', async () => {
  const late = await tenantWithKeys(db, 'sweep-late');
  const recent = await tenantWithKeys(db, 'sweep-recent');
  await db.pool.query(sql.unsafe`
    UPDATE public.tenants SET subscription_status = 'past_due',
      past_due_since = now() - CASE WHEN id = ${late.id} THEN interval '8 days' ELSE interval '2 days' END
    WHERE id IN (${late.id}, ${recent.id})`);
  const result = await runCli(['billing', 'sweep'], { DATABASE_URL: db.url });
  // (An overdue tenant of an earlier test is swept too.)
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(
    /^[12] tenant\(s\) suspended for non-payment \(grace period 7 days\)\.\n$/,
  );
  expect(await sweepBilling(db.pool, 7)).toEqual({ suspended: [] });
  const states = await db.pool.any(sql.unsafe`
    SELECT slug, subscription_status, suspended_reason FROM public.tenants
    WHERE id IN (${late.id}, ${recent.id}) ORDER BY slug`);
  expect(states).toEqual([
    { slug: 'sweep-late', subscription_status: 'suspended', suspended_reason: 'payment' },
    { slug: 'sweep-recent', subscription_status: 'past_due', suspended_reason: null },
  ]);
  expect(
    await db.pool.anyFirst(sql.unsafe`
      SELECT actor FROM public.audit_logs WHERE tenant_id = ${late.id} AND action = 'billing.suspended'`),
  ).toEqual(['system']);
  // Reads still work; writes do not.
  expect(
    firstError(
      await failure(api.client(late.key), CreateProductDocument, {
        input: { sku: 'L', name: 'L' },
      }),
    ),
  ).toMatchObject({ status: 402, code: 'PAYMENT_REQUIRED' });
});
