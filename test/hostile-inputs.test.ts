/**
 * A property of the whole schema: whatever a caller sends as the arguments of any query or
 * mutation, the answer is never INTERNAL_SERVER_ERROR (or an HTTP 500), and a refused request
 * writes nothing. fast-check generates hostile values for every argument of every root field,
 * enumerated from the schema itself (a new field is covered without touching this file): text with
 * U+0000, lone surrogates, huge and injection-shaped strings; extreme and negative numbers; dates
 * at and beyond what PostgreSQL stores; JSON deep, wide or with unstorable keys; real ids of this
 * tenant beside random ones. Each field runs with a principal allowed to use it (a tenant's OWNER,
 * or an operator for the platform fields), so the checks reach the resolvers and the database.
 * The number of cases is bounded so the file runs in the normal suite.
 */
import fc from 'fast-check';
import { pino } from 'pino';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { sql } from 'slonik';
import { z } from 'zod';
import { OPERATIONS } from '../src/auth/permissions.js';
import { buildApiSchema } from '../src/graphql/schema.js';
import {
  postGraphQL,
  startApi,
  tenantWithKeys,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { sessionToken } from './support/clerk.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const RUNS_PER_FIELD = 8;
const OPERATOR = 'user_fuzz_operator';

let db: TestDatabase;
let api: Api;
let tenant: TenantWithKeys;
let realIds: string[] = [];
/** The server's error lines, to show what an internal error was. */
const logged: string[] = [];
let owner: string;
let operator: string;

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await tenantWithKeys(db, 'fuzzed');
  api = await startApi(db, {
    platformAdmins: [OPERATOR],
    apiKeyCacheTtlMs: 600_000,
    logger: pino({ level: 'error' }, { write: (line: string) => void logged.push(line) }),
  });
  owner = tenant.session('owner', 'user_fuzz_owner');
  operator = sessionToken({ userId: OPERATOR, orgId: null });
  // Something for real ids to name: a product with a sale, a scenario.
  const seeded = await postGraphQL(api, owner, {
    query: `mutation { createProduct(input: { sku: "FZ-1", name: "Fuzz", unitCost: "1.00", unitPrice: "2.00" }) { id }
      createScenario(input: { name: "base", type: WHAT_IF, parameters: {} }) { id } }`,
  });
  if (seeded.body.errors) throw new Error(JSON.stringify(seeded.body.errors));
  const data = seeded.body.data as {
    createProduct: { id: string };
    createScenario: { id: string };
  };
  realIds = [data.createProduct.id, data.createScenario.id, tenant.id, tenant.companyId];
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------
// Hostile values, by type

const hostileText = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    'a\u0000b',
    '\ud800',
    'x\udfffy',
    "'; DROP TABLE products; --",
    '%_\\',
    '$1',
    'tenant_00000000000000000000000000000000.products',
    '../../etc/passwd',
    '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ☃ ‮',
    'web',
    'FZ-1',
    'owner',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer({ min: 256, max: 20_000 }).map((length) => 'x'.repeat(length)),
);

const hostileInt = fc.oneof(
  fc.constantFrom(0, -1, 1, 100, 101, 2_147_483_647, -2_147_483_648, 1_000_000),
  fc.integer(),
);

const dates = fc.oneof(
  fc.constantFrom(
    '0000-01-01',
    '0001-01-01',
    '9999-12-31',
    '1970-01-01',
    '2026-02-29',
    '2026-13-01',
    'yesterday',
  ),
  fc
    .date({ min: new Date('0001-01-01'), max: new Date('9999-12-31'), noInvalidDate: true })
    .map((date) => date.toISOString().slice(0, 10)),
);

const dateTimes = fc.oneof(
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:30:00+01:00',
    '9999-12-31T23:59:59-05:00',
    '2026-01-01T00:00:00Z',
    'not a time',
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
);

const decimals = fc.oneof(
  fc.constantFrom(
    '0',
    '-0.01',
    '9999999999999.99',
    '-9999999999999.99',
    '999999999999999.999999',
    '1e5',
    'NaN',
    '12.505',
  ),
  fc.double({ noNaN: true }).map(String),
);

/** JSON built without recursion in the generator's output: deep chains, wide lists, odd keys. */
const hostileJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 20, max: 200 }).map((depth) => {
    let value: unknown = 1;
    for (let level = 0; level < depth; level += 1) value = { a: value };
    return value;
  }),
  fc.constantFrom(
    { '\u0000': 1 },
    { a: '\ud800' },
    { a: 'x'.repeat(20_000) },
    [],
    'text',
    null,
    42,
  ),
);

const uuids = () => fc.oneof(fc.uuid(), fc.constantFrom(...realIds), hostileText);

function scalarValue(name: string): fc.Arbitrary<unknown> {
  switch (name) {
    case 'String':
      return hostileText;
    case 'ID':
    case 'UUID':
      return uuids();
    case 'Int':
      return hostileInt;
    case 'Float':
      return fc.double();
    case 'Boolean':
      return fc.boolean();
    case 'Date':
      return dates;
    case 'DateTime':
      return dateTimes;
    case 'Money':
    case 'Decimal':
      return decimals;
    case 'JSON':
      return hostileJson;
    case 'Currency':
      return fc.oneof(fc.constantFrom('GBP', 'USD', 'EUR', 'XXX', 'gbp'), hostileText);
    case 'CountryCode':
      return fc.oneof(fc.constantFrom('GB', 'US', 'ZZ'), hostileText);
    case 'EmailAddress':
      return fc.oneof(fc.emailAddress(), hostileText);
    default:
      return hostileText;
  }
}

function valueOf(type: GraphQLInputType, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return valueOf(type.ofType, depth);
  const nonNull = (arbitrary: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 9, arbitrary }, { weight: 1, arbitrary: fc.constant(null) });
  if (isListType(type)) {
    return nonNull(fc.array(valueOf(type.ofType, depth + 1), { maxLength: 3 }));
  }
  if (isEnumType(type)) {
    return nonNull(fc.oneof(fc.constantFrom(...type.getValues().map((v) => v.name)), hostileText));
  }
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant(null);
    const fields = Object.values(type.getFields());
    const record = Object.fromEntries(
      fields.map((field) => [field.name, valueOf(field.type, depth + 1)]),
    );
    const required = fields.filter((field) => isNonNullType(field.type)).map((field) => field.name);
    return nonNull(fc.record(record, { requiredKeys: required }));
  }
  if (isScalarType(type)) return nonNull(scalarValue(type.name));
  return fc.constant(null);
}

// ---------------------------------------------------------------------------------------------
// Every root field, and what it may write

type RootField = { kind: 'query' | 'mutation'; field: GraphQLField<unknown, unknown> };

const schema = await buildApiSchema();
const ROOT_FIELDS: RootField[] = [
  ...Object.values(schema.getQueryType()!.getFields()).map((field) => ({
    kind: 'query' as const,
    field,
  })),
  ...Object.values(schema.getMutationType()!.getFields()).map((field) => ({
    kind: 'mutation' as const,
    field,
  })),
];

function documentOf({ kind, field }: RootField): string {
  const variables = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const args = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection =
    isScalarType(getNamedType(field.type)) || isEnumType(getNamedType(field.type))
      ? ''
      : ' { __typename }';
  return `${kind}${variables ? `(${variables})` : ''} { ${field.name}${args ? `(${args})` : ''}${selection} }`;
}

/** A checksum of every table a request could write: the tenant's schema and the platform's. */
async function checksum(): Promise<string> {
  const tables = await db.pool.anyFirst(sql.type(z.object({ name: z.string() }))`
    SELECT format('%I.%I', table_schema, table_name) AS name FROM information_schema.tables
    WHERE table_type = 'BASE TABLE' AND (table_schema LIKE 'tenant\\_%' OR (table_schema = 'public'
      AND table_name IN ('tenants', 'api_keys', 'audit_logs', 'subscriptions', 'stripe_events')))
    ORDER BY 1`);
  const parts = tables.map(
    (
      table,
    ) => sql.fragment`SELECT ${table} AS t, md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) AS h
      FROM ${sql.identifier(table.split('.'))} r`,
  );
  const rows = await db.pool.any(
    sql.type(
      z.object({ t: z.string(), h: z.string() }),
    )`${sql.join(parts, sql.fragment` UNION ALL `)}`,
  );
  return rows.map((row) => `${row.t}:${row.h}`).join(',');
}

test('the schema has root fields to fuzz, each in the permission table', () => {
  expect(ROOT_FIELDS.length).toBeGreaterThan(40);
  for (const { kind, field } of ROOT_FIELDS) {
    expect(OPERATIONS[`${kind === 'query' ? 'Query' : 'Mutation'}.${field.name}`]).toBeDefined();
  }
});

const cases = ROOT_FIELDS.filter(({ field }) => field.args.length > 0).map(
  (root) => [`${root.kind} ${root.field.name}`, root] as const,
);

test.each(cases)(
  '%s: hostile arguments are never an internal error, and a refusal writes nothing',
  async (_name, root) => {
    const key = `${root.kind === 'query' ? 'Query' : 'Mutation'}.${root.field.name}`;
    const credential = OPERATIONS[key]?.permission === 'platform' ? operator : owner;
    const query = documentOf(root);
    const variables = fc.record(
      Object.fromEntries(root.field.args.map((arg) => [arg.name, valueOf(arg.type)])),
    );
    await fc.assert(
      fc.asyncProperty(variables, async (values) => {
        const before = root.kind === 'mutation' ? await checksum() : '';
        const answer = await postGraphQL(api, credential, { query, variables: values });
        const codes = (answer.body.errors ?? []).map((error) => error.extensions.code);
        const requestId = answer.headers.get('x-request-id') ?? '';
        // What the server logged for it, to see what an internal error was.
        const seen = {
          status: answer.status,
          codes,
          log: logged.filter((line) => line.includes(requestId)),
        };
        expect(seen.status).not.toBe(500);
        expect(seen).not.toMatchObject({
          codes: expect.arrayContaining(['INTERNAL_SERVER_ERROR']),
        });
        expect(codes.every((code) => typeof code === 'string')).toBe(true);
        if (root.kind === 'mutation' && codes.length > 0) expect(await checksum()).toBe(before);
      }),
      { numRuns: RUNS_PER_FIELD, endOnFailure: true },
    );
  },
);
