/**
 * Bad input never reaches PostgreSQL: text it cannot store (U+0000, a lone surrogate), dates
 * outside what date and timestamptz hold, JSON nested or sized beyond the bounds, and arguments of
 * nested fields (`sales(first: 101)` under `products`) are all BAD_USER_INPUT before the request's
 * first statement, whether sent as variables or as literals.
 */
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';
import {
  startApi,
  postGraphQL,
  tenantWithKeys,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { statementCounter } from './support/statements.js';

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let pool: DatabasePool;
const counter = statementCounter();

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'hardened');
  pool = await db.openPool({ interceptors: [counter.interceptor] });
  // Keys stay cached, so a request's own statements are all the counter sees.
  api = await startApi(db, { pool, apiKeyCacheTtlMs: 600_000 });
  await postGraphQL(api, acme.key, { query: '{ viewer { scopes } }' });
  await postGraphQL(api, acme.readKey, { query: '{ viewer { scopes } }' });
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

/** Sends the request and returns its answer and the statements it ran. */
async function send(key: string, query: string, variables?: Record<string, unknown>) {
  counter.reset();
  const answer = await postGraphQL(api, key, { query, variables });
  return { ...answer, statements: [...counter.statements] };
}

function expectRefused(
  answer: Awaited<ReturnType<typeof send>>,
  message: RegExp,
  code = 'BAD_USER_INPUT',
) {
  expect(answer.body.errors?.[0]?.extensions.code).toBe(code);
  expect(answer.body.errors?.[0]?.message).toMatch(message);
  expect(answer.status).toBe(400);
  expect(answer.statements).toEqual([]);
}

const tableCount = async (table: string) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM ${sql.identifier([acme.schemaName, table])}`);

describe('text PostgreSQL cannot store', () => {
  const NUL = 'a\u0000b';
  const LONE = 'key \ud800';

  test.each([
    ['productBySku.sku', 'query($s: String!) { productBySku(sku: $s) { id } }', { s: NUL }, /\$s/],
    [
      'products.filter.search',
      'query($s: String) { products(filter: { search: $s }) { totalCount } }',
      { s: NUL },
      /\$s/,
    ],
    [
      'createProduct.input.name',
      'mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }',
      {
        i: { sku: 'NUL-1', name: NUL, unitCost: '1.00', unitPrice: '2.00' },
      },
      /\$i\.name/,
    ],
    [
      'createApiKey.input.name (lone surrogate)',
      'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }',
      { i: { name: LONE, scopes: ['READ'] } },
      /\$i\.name/,
    ],
    [
      'a JSON object key',
      'mutation($s: JSON!) { updateTenantSettings(settings: $s) }',
      { s: { [NUL]: 1 } },
      /\$s/,
    ],
  ])(
    '%s as a variable: BAD_USER_INPUT (400) naming the path, no SQL',
    async (_name, query, variables, path) => {
      const answer = await send(acme.key, query, variables);
      expectRefused(answer, /U\+0000 or an unpaired surrogate/);
      expect(answer.body.errors?.[0]?.message).toMatch(path);
      // The input field at fault, as resolvers name it; a bare variable names none.
      const field = /\$i\.(\w+)/.exec(answer.body.errors?.[0]?.message ?? '')?.[1];
      expect(answer.body.errors?.[0]?.extensions.field).toBe(field);
    },
  );

  test.each([
    ['productBySku.sku', '{ productBySku(sku: "a\\u0000b") { id } }', /productBySku\.sku/],
    [
      'salesSummary.filter.category',
      '{ salesSummary(from: "2026-01-01", to: "2026-02-01", groupBy: [MONTH], filter: { category: "x\\u0000" }) { quantity } }',
      /salesSummary\.filter\.category/,
    ],
    [
      'a nested field argument',
      '{ products { edges { node { sales(from: "2026-01-01", to: "2026-02-01", channel: "\\u0000") { totalCount } } } } }',
      /products\.edges\.node\.sales\.channel/,
    ],
  ])(
    '%s as a literal: BAD_USER_INPUT (400) naming the path, no SQL',
    async (_name, query, path) => {
      const answer = await send(acme.readKey, query);
      expectRefused(answer, /U\+0000 or an unpaired surrogate/);
      expect(answer.body.errors?.[0]?.message).toMatch(path);
      // The argument (or input field) at fault: the last part of the path.
      const field = /\.(\w+)\s+contains/.exec(answer.body.errors?.[0]?.message ?? '')?.[1];
      expect(answer.body.errors?.[0]?.extensions.field).toBe(field);
      expect(field).toMatch(/^(sku|category|channel)$/);
    },
  );

  test('nothing was written', async () => {
    expect(await tableCount('products')).toBe(0);
  });
});

describe('dates PostgreSQL cannot store', () => {
  const sale = (saleDate: string) => ({
    productId: '00000000-0000-4000-8000-000000000000',
    saleDate,
    channel: 'web',
    quantity: 1,
    unitPrice: '1.00',
    currency: 'GBP',
  });

  test.each([
    [
      'recordSales.saleDate 0000-01-01',
      'mutation($i: [SaleInput!]!) { recordSales(input: $i) { count } }',
      { i: [sale('0000-01-01')] },
    ],
    [
      'upsertWorkingCapitalMetrics.periodDate 0000-12-31',
      'mutation($i: WorkingCapitalMetricsInput!) { upsertWorkingCapitalMetrics(input: $i) { periodDate } }',
      { i: { periodType: 'MONTHLY', periodDate: '0000-12-31' } },
    ],
    [
      'forecasts.from 0000-01-01',
      'query($from: Date) { forecasts(from: $from) { id } }',
      { from: '0000-01-01' },
    ],
    [
      'auditLogs.filter.from, a DateTime that is year 0 in UTC',
      'query($f: AuditLogFilter) { auditLogs(filter: $f) { totalCount } }',
      { f: { from: '0001-01-01T00:30:00+01:00' } },
    ],
  ])('%s: BAD_USER_INPUT (400), no SQL', async (_name, query, variables) => {
    expectRefused(await send(acme.key, query, variables), /between 0001-01-01 and 9999-12-31/);
  });

  test('as a literal too', async () => {
    const answer = await send(acme.readKey, '{ forecasts(to: "0000-01-01") { id } }');
    expect(answer.body.errors?.[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(answer.body.errors?.[0]?.message).toMatch(/between 0001-01-01 and 9999-12-31/);
    expect(answer.statements).toEqual([]);
  });

  test('the far end, 9999-12-31, is a date like any other', async () => {
    const answer = await send(acme.readKey, '{ forecasts(from: "9999-12-31") { id } }');
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data).toEqual({ forecasts: [] });
  });
});

describe('JSON nested or sized beyond the bounds', () => {
  const nested = (levels: number) => {
    // Built as text: JSON.stringify would recurse 100,000 levels too.
    return `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;
  };

  test.each([
    ['updateTenantSettings.settings', 'mutation($j: JSON!) { updateTenantSettings(settings: $j) }'],
    [
      'saveApiCredential.credentials',
      'mutation($j: JSON!) { saveApiCredential(service: "shop", credentials: $j) { service } }',
    ],
  ])('%s nested 100,000 levels: BAD_USER_INPUT (400), no SQL', async (_name, query) => {
    counter.reset();
    const body = `{"query":${JSON.stringify(query)},"variables":{"j":${nested(100_000)}}}`;
    const answer = {
      ...(await postGraphQL(api, acme.key, body)),
      statements: [...counter.statements],
    };
    expectRefused(answer, /nested too deeply/);
  });

  test('a deep literal is bounded by the token limit before it is parsed into values', async () => {
    const answer = await send(
      acme.key,
      `mutation { updateTenantSettings(settings: ${'{a:'.repeat(5_000)}1${'}'.repeat(5_000)}) }`,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(answer.statements).toEqual([]);
  });

  test('a JSON value of more than 50,000 values is refused', async () => {
    const answer = await send(
      acme.key,
      'mutation($j: JSON!) { updateTenantSettings(settings: $j) }',
      {
        j: { list: Array.from({ length: 60_000 }, () => 0) },
      },
    );
    expectRefused(answer, /too large/);
  });
});

describe('every argument of the operation before the first statement', () => {
  test('sales(first: 101) nested under products: refused before products reads a row', async () => {
    const answer = await send(
      acme.readKey,
      '{ products(first: 5) { edges { node { sales(from: "2026-01-01", to: "2026-02-01", first: 101) { totalCount } } } } }',
    );
    expectRefused(answer, /Invalid first: it must be between 0 and 100\./);
    expect(answer.body.errors?.[0]?.extensions.field).toBe('first');
  });

  test.each([
    ['a cursor that is not one', 'after: "nope"', /Invalid cursor/],
    ['from after to', 'from: "2026-03-01", to: "2026-02-01"', /Invalid range/],
    ['a bad channel', 'channel: "Not A Channel"', /Invalid channel/],
  ])('%s in a nested field: refused before any SQL', async (_name, args, message) => {
    const range = args.includes('from') ? '' : 'from: "2026-01-01", to: "2026-02-01", ';
    const answer = await send(
      acme.readKey,
      `{ products { edges { node { sales(${range}${args}) { totalCount } } } } }`,
    );
    expectRefused(answer, message);
  });

  test('through a fragment, too', async () => {
    const answer = await send(
      acme.readKey,
      'query { products { edges { node { ...S } } } } fragment S on Product { sales(from: "2026-01-01", to: "2026-02-01", first: 500) { totalCount } }',
    );
    expectRefused(answer, /Invalid first/);
  });

  test('first: 100000 on products is the cost refusal, worded as what it is', async () => {
    const answer = await send(acme.readKey, '{ products(first: 100000) { totalCount } }');
    expectRefused(answer, /^Query Cost limit of 20000 exceeded/, 'GRAPHQL_VALIDATION_FAILED');
    expect(answer.body.errors?.[0]?.message).not.toMatch(/Syntax Error/);
  });

  test.each([
    [
      'aliases',
      `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { scopes }`).join(' ')} }`,
      /^Aliases limit of 15 exceeded/,
    ],
  ])(
    'the %s refusal is GRAPHQL_VALIDATION_FAILED, not worded as a syntax error',
    async (_name, query, message) => {
      const answer = await send(acme.readKey, query);
      expectRefused(answer, message, 'GRAPHQL_VALIDATION_FAILED');
    },
  );

  test('an explicit null for an argument with a default means the default (products orderBy)', async () => {
    const answer = await send(
      acme.readKey,
      '{ products(orderBy: null, first: null) { totalCount } }',
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.body.data).toEqual({ products: { totalCount: 0 } });
  });

  test('a valid nested page still runs', async () => {
    const answer = await send(
      acme.readKey,
      '{ products(first: 5) { edges { node { sales(from: "2026-01-01", to: "2026-02-01", first: 100) { totalCount } } } } }',
    );
    expect(answer.body.errors).toBeUndefined();
    expect(answer.status).toBe(200);
  });
});
