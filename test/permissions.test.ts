/**
 * Who may do what, as a client sees it: one table below gives, for every root field of the schema
 * (every query, every mutation, every platform field), the least level that may use it. From it
 * come the role x operation matrix (Clerk sessions) and the scope x operation matrix (API keys,
 * platform keys): each cell is a real request to the real server. A refused cell is FORBIDDEN (403)
 * and runs no tenant SQL; an allowed cell is anything but FORBIDDEN (NOT_FOUND for a random id is
 * fine: the point is that the guard let it through).
 *
 * The table is written out here, independently of src/auth/permissions.ts, from the rules:
 * VIEWER reads (and saves its own preferences); MEMBER also writes business data; ADMIN also
 * manages API keys, credentials, users and payment terms and reads the audit log; OWNER also billing and
 * settings; an API key is MEMBER with `write` and VIEWER with `read`; platform fields are for
 * operators only, who may also read the audit log.
 */
import { randomUUID } from 'node:crypto';
import { buildSchema, type GraphQLObjectType } from 'graphql';
import { readFile } from 'node:fs/promises';
import Stripe from 'stripe';
import { createApiKey } from '../src/auth/api-keys.js';
import { OPERATIONS } from '../src/auth/permissions.js';
import { startApi, tenantWithKeys, type Api, type TenantWithKeys } from './support/api.js';
import { sessionToken } from './support/clerk.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { statementCounter } from './support/statements.js';

type Level = 'anyone' | 'viewer' | 'member' | 'admin' | 'owner' | 'audit' | 'platform';

/** Every root field: the least level that may use it, and a request that uses it. */
const TABLE: Record<string, [Level, () => { query: string; variables?: object }]> = {
  'Query.viewer': ['anyone', () => ({ query: '{ viewer { operator } }' })],
  'Query.plans': ['anyone', () => ({ query: '{ plans { tier } }' })],

  'Query.company': ['viewer', () => ({ query: '{ company { id } }' })],
  'Query.products': ['viewer', () => ({ query: '{ products(first: 1) { totalCount } }' })],
  'Query.product': ['viewer', () => ({ query: `{ product(id: "${randomUUID()}") { id } }` })],
  'Query.productBySku': ['viewer', () => ({ query: '{ productBySku(sku: "NONE") { id } }' })],
  'Query.inventoryAlerts': ['viewer', () => ({ query: '{ inventoryAlerts { available } }' })],
  'Query.salesSummary': [
    'viewer',
    () => ({
      query:
        '{ salesSummary(from: "2026-01-01", to: "2026-02-01", groupBy: [CHANNEL]) { quantity } }',
    }),
  ],
  'Query.forecasts': ['viewer', () => ({ query: '{ forecasts { id } }' })],
  'Query.forecastRun': [
    'viewer',
    () => ({ query: `{ forecastRun(id: "${randomUUID()}") { id } }` }),
  ],
  'Query.forecastRuns': ['viewer', () => ({ query: '{ forecastRuns(first: 1) { totalCount } }' })],
  'Query.workingCapitalMetrics': ['viewer', () => ({ query: '{ workingCapitalMetrics { id } }' })],
  'Query.workingCapital': ['viewer', () => ({ query: '{ workingCapital { workingCapital } }' })],
  'Query.workingCapitalTrend': [
    'viewer',
    () => ({
      query:
        '{ workingCapitalTrend(from: "2026-01-01", to: "2026-02-01", periodType: MONTHLY) { periodDate } }',
    }),
  ],
  'Query.paymentTerms': ['viewer', () => ({ query: '{ paymentTerms { supplierDays } }' })],
  'Mutation.updatePaymentTerms': [
    'admin',
    () => ({
      query:
        'mutation { updatePaymentTerms(input: { defaultCustomerDays: 30, customerDays: [], supplierDays: 30 }) { supplierDays } }',
    }),
  ],
  'Query.scenarios': ['viewer', () => ({ query: '{ scenarios { id } }' })],
  'Query.scenario': ['viewer', () => ({ query: `{ scenario(id: "${randomUUID()}") { id } }` })],
  'Query.preferences': ['viewer', () => ({ query: '{ preferences { theme } }' })],
  'Query.tenantSettings': ['viewer', () => ({ query: '{ tenantSettings }' })],
  'Mutation.updateTenantSettings': [
    'owner',
    () => ({ query: 'mutation { updateTenantSettings(settings: { fiscalYearStart: 4 }) }' }),
  ],
  'Query.usage': ['viewer', () => ({ query: '{ usage { items { metric used } } }' })],
  'Query.usageHistory': [
    'viewer',
    () => ({ query: '{ usageHistory(months: 2) { periodStart apiRequests } }' }),
  ],
  'Mutation.updatePreferences': [
    'viewer',
    () => ({ query: 'mutation { updatePreferences(input: { theme: DARK }) { theme } }' }),
  ],

  'Mutation.createProduct': [
    'member',
    () => ({
      query: 'mutation($sku: String!) { createProduct(input: { sku: $sku, name: "P" }) { id } }',
      variables: { sku: `M-${randomUUID().slice(0, 8)}` },
    }),
  ],
  'Mutation.updateProduct': [
    'member',
    () => ({
      query: `mutation { updateProduct(id: "${randomUUID()}", input: { name: "Q" }) { id } }`,
    }),
  ],
  'Mutation.archiveProduct': [
    'member',
    () => ({ query: `mutation { archiveProduct(id: "${randomUUID()}") { id } }` }),
  ],
  'Mutation.adjustInventory': [
    'member',
    () => ({
      query: `mutation { adjustInventory(productId: "${randomUUID()}", location: "warehouse_uk", kind: RECEIVE, quantity: 1) { onHand } }`,
    }),
  ],
  'Mutation.recordSales': [
    'member',
    () => ({ query: 'mutation { recordSales(input: []) { count } }' }),
  ],
  'Mutation.upsertWorkingCapitalMetrics': [
    'member',
    () => ({
      query:
        'mutation { upsertWorkingCapitalMetrics(input: { periodType: MONTHLY, periodDate: "2026-01-31", cash: "1", accountsReceivable: "1", inventory: "1", otherCurrentAssets: "0", accountsPayable: "1", shortTermDebt: "0", otherCurrentLiabilities: "0" }) { id } }',
    }),
  ],
  'Mutation.computeWorkingCapitalMetrics': [
    'member',
    () => ({
      query:
        'mutation { computeWorkingCapitalMetrics(periodType: MONTHLY, from: "2026-01-01", to: "2026-01-31") { id } }',
    }),
  ],
  'Mutation.createScenario': [
    'member',
    () => ({ query: 'mutation { createScenario(input: { name: "S", type: WHAT_IF }) { id } }' }),
  ],
  'Mutation.updateScenario': [
    'member',
    () => ({
      query: `mutation { updateScenario(id: "${randomUUID()}", input: { name: "T" }) { id } }`,
    }),
  ],
  'Mutation.deleteScenario': [
    'member',
    () => ({ query: `mutation { deleteScenario(id: "${randomUUID()}") }` }),
  ],
  'Mutation.generateForecasts': [
    'member',
    () => ({
      query: `mutation { generateForecasts(input: { type: DEMAND, periodType: DAILY, horizon: 7, model: ETS, productIds: ["${randomUUID()}"] }) { id } }`,
    }),
  ],

  'Query.apiKeys': ['admin', () => ({ query: '{ apiKeys { id } }' })],
  'Mutation.createApiKey': [
    'admin',
    () => ({ query: 'mutation { createApiKey(input: { name: "matrix" }) { secret } }' }),
  ],
  'Mutation.revokeApiKey': [
    'admin',
    () => ({ query: `mutation { revokeApiKey(id: "${randomUUID()}") { id } }` }),
  ],
  'Query.apiCredentials': ['admin', () => ({ query: '{ apiCredentials { service } }' })],
  'Mutation.saveApiCredential': [
    'admin',
    () => ({
      query:
        'mutation { saveApiCredential(service: "xero", credentials: { token: "t" }) { service } }',
    }),
  ],

  'Query.auditLogs': ['audit', () => ({ query: '{ auditLogs(first: 1) { totalCount } }' })],

  'Mutation.startCheckout': [
    'owner',
    () => ({
      query: 'mutation { startCheckout(tier: STARTER, billingCycle: MONTHLY) { url } }',
    }),
  ],
  'Mutation.billingPortal': ['owner', () => ({ query: 'mutation { billingPortal { url } }' })],

  'Query.tenants': ['platform', () => ({ query: '{ tenants(first: 1) { totalCount } }' })],
  'Query.tenant': ['platform', () => ({ query: `{ tenant(id: "${randomUUID()}") { id } }` })],
  'Mutation.createTenant': [
    'platform',
    () => ({
      query: 'mutation($slug: String!) { createTenant(input: { name: "M", slug: $slug }) { id } }',
      variables: { slug: `m-${randomUUID().slice(0, 8)}` },
    }),
  ],
  'Mutation.suspendTenant': [
    'platform',
    () => ({ query: `mutation { suspendTenant(id: "${randomUUID()}") { id } }` }),
  ],
  'Mutation.reactivateTenant': [
    'platform',
    () => ({ query: `mutation { reactivateTenant(id: "${randomUUID()}") { id } }` }),
  ],
  'Mutation.deleteTenant': [
    'platform',
    () => ({ query: `mutation { deleteTenant(id: "${randomUUID()}") { id } }` }),
  ],
  'Mutation.restoreTenant': [
    'platform',
    () => ({ query: `mutation { restoreTenant(id: "${randomUUID()}") { id } }` }),
  ],
};

type Caller =
  'read key' | 'write key' | 'VIEWER' | 'MEMBER' | 'ADMIN' | 'OWNER' | 'platform key' | 'operator';

/** Which callers each level lets in. */
const ALLOWED: Record<Level, readonly Caller[]> = {
  anyone: [
    'read key',
    'write key',
    'VIEWER',
    'MEMBER',
    'ADMIN',
    'OWNER',
    'platform key',
    'operator',
  ],
  viewer: ['read key', 'write key', 'VIEWER', 'MEMBER', 'ADMIN', 'OWNER'],
  member: ['write key', 'MEMBER', 'ADMIN', 'OWNER'],
  admin: ['ADMIN', 'OWNER'],
  owner: ['OWNER'],
  audit: ['ADMIN', 'OWNER', 'platform key', 'operator'],
  platform: ['platform key', 'operator'],
};

const SESSIONS: Caller[] = ['VIEWER', 'MEMBER', 'ADMIN', 'OWNER'];
const KEYS: Caller[] = ['read key', 'write key', 'platform key', 'operator'];

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let credentials: Record<Caller, () => string>;
const counter = statementCounter();

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  const { key: platformKey } = await createApiKey(db.pool, {
    tenantId: null,
    name: 'operations',
    actor: 'test',
  });
  // Session tokens live a minute: each call signs a fresh one.
  credentials = {
    'read key': () => acme.readKey,
    'write key': () => acme.key,
    VIEWER: () => acme.session('viewer'),
    MEMBER: () => acme.session('member'),
    ADMIN: () => acme.session('admin'),
    OWNER: () => acme.session('owner'),
    'platform key': () => platformKey,
    operator: () => sessionToken({ userId: 'user_operator', orgId: null }),
  };
  api = await startApi(db, {
    pool: await db.openPool({ interceptors: [counter.interceptor] }),
    platformAdmins: ['user_operator'],
    // Billing on, with Stripe unreachable (nothing listens on port 1): an allowed billing call
    // gets BILLING_UNAVAILABLE, never FORBIDDEN.
    stripe: new Stripe('sk_test_matrix', {
      host: '127.0.0.1',
      port: 1,
      protocol: 'http',
      maxNetworkRetries: 0,
    }),
  });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function call(caller: Caller, request: { query: string; variables?: object }) {
  const credential = credentials[caller]();
  const response = await fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
    body: JSON.stringify(request),
  });
  const body = (await response.json()) as {
    errors?: { message: string; extensions: { code: string } }[];
  };
  return { status: response.status, codes: (body.errors ?? []).map((e) => e.extensions.code) };
}

test('the table covers every root field of the schema, and the guard’s table matches it', async () => {
  const schema = buildSchema(await readFile(new URL('../schema.graphql', import.meta.url), 'utf8'));
  const fields = (type: GraphQLObjectType | null | undefined) =>
    Object.keys(type?.getFields() ?? {}).map((name) => `${type!.name}.${name}`);
  const rootFields = [...fields(schema.getQueryType()), ...fields(schema.getMutationType())];
  expect(Object.keys(TABLE).sort()).toEqual(rootFields.sort());
  expect(Object.keys(OPERATIONS).sort()).toEqual(rootFields.sort());
});

const cells = (callers: Caller[]) =>
  Object.entries(TABLE).flatMap(([field, [level, request]]) =>
    callers.map((caller) => [field, caller, ALLOWED[level].includes(caller), request] as const),
  );

describe.each([
  ['role x operation (Clerk sessions)', SESSIONS],
  ['scope x operation (API keys, platform keys, operators)', KEYS],
])('%s', (_matrix, callers) => {
  test.each(cells(callers))('%s as %s: allowed %s', async (_field, caller, allowed, request) => {
    counter.reset();
    const result = await call(caller, request());
    expect(result.codes).not.toContain('GRAPHQL_VALIDATION_FAILED');
    if (allowed) {
      expect(result.codes).not.toContain('FORBIDDEN');
      expect(result.status).not.toBe(403);
    } else {
      expect(result).toEqual({ status: 403, codes: ['FORBIDDEN'] });
      expect(counter.statements.filter((s) => /enterTenant|enterPlatform/.test(s))).toEqual([]);
    }
  });
});
