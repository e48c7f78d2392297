import { GraphQLClient } from 'graphql-request';
import { sql } from 'slonik';
import { generateApiKey } from '../src/auth/api-key-format.js';
import { createApiKey, revokeApiKey } from '../src/auth/api-keys.js';
import {
  ApiKeysDocument,
  CreateApiKeyDocument,
  ProductsDocument,
  RevokeApiKeyDocument,
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
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { statementCounter } from './support/statements.js';

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let beta: TenantWithKeys;
const counter = statementCounter();

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  api = await startApi(db, { pool: await db.openPool({ interceptors: [counter.interceptor] }) });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

/** A raw POST, for what graphql-request cannot send (batches, missing headers). */
async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions: Record<string, unknown> }[];
    },
  };
}

describe('API keys as credentials', () => {
  test("the viewer is the key's tenant, sent as Bearer or as X-API-Key", async () => {
    const bearer = await api.client(acme.key).request(ViewerDocument);
    expect(bearer.viewer).toEqual({
      tenant: {
        id: acme.id,
        slug: 'acme',
        name: 'acme Ltd',
        tier: 'PROFESSIONAL',
        status: 'TRIAL',
      },
      scopes: ['READ', 'WRITE'],
    });
    expect(bearer.company?.name).toBe('acme Ltd');
    const header = await new GraphQLClient(api.url, {
      headers: { 'x-api-key': beta.readKey },
    }).request(ViewerDocument);
    expect(header.viewer).toMatchObject({ tenant: { slug: 'beta' }, scopes: ['READ'] });
  });

  test('a tenant header or argument cannot choose another tenant', async () => {
    const result = await api
      .client(acme.readKey, { 'x-tenant-id': beta.id, 'x-tenant': 'beta' })
      .request(ViewerDocument);
    expect(result.viewer.tenant?.slug).toBe('acme');
  });

  const expired = async () => {
    const { key, record } = await createApiKey(db.pool, {
      tenantId: acme.id,
      name: 'short-lived',
      scopes: ['read'],
      expiresAt: new Date(Date.now() + 1_000),
      actor: 'test',
    });
    await db.pool.query(
      sql.unsafe`UPDATE public.api_keys SET expires_at = now() - interval '1 second' WHERE id = ${record.id}`,
    );
    return key;
  };
  const revoked = async () => {
    const { key, record } = await createApiKey(db.pool, {
      tenantId: acme.id,
      name: 'revoked',
      actor: 'test',
    });
    await revokeApiKey(db.pool, { id: record.id, actor: 'test' });
    return key;
  };
  const badChecksum = async () => `${acme.key.slice(0, -1)}${acme.key.endsWith('A') ? 'B' : 'A'}`;

  test.each([
    [
      'no key',
      async () => undefined,
      'Missing credentials: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>", or a Clerk session token as "Authorization: Bearer <token>".',
    ],
    ['an unknown key', async () => generateApiKey(), 'Invalid API key.'],
    ['a key with a bad checksum', badChecksum, 'Invalid API key.'],
    ['a malformed key', async () => 'cq_live_short', 'Invalid API key.'],
    ['a revoked key', revoked, 'API key revoked.'],
    ['an expired key', expired, 'API key expired.'],
  ])('%s is UNAUTHENTICATED (401) and runs no tenant SQL', async (_name, makeKey, message) => {
    const key = await makeKey();
    counter.reset();
    const result = await failure(api.client(key), ViewerDocument);
    expect(firstError(result)).toEqual({ status: 401, code: 'UNAUTHENTICATED', message });
    expect(counter.statements.filter((statement) => /enterTenant/.test(statement))).toEqual([]);
  });

  test('a key with a bad checksum is refused without touching the database', async () => {
    const key = await badChecksum();
    counter.reset();
    expect((await failure(api.client(key), ViewerDocument)).status).toBe(401);
    expect(counter.statements).toEqual([]);
  });

  test('an authentication failure carries the request id of the x-request-id header', async () => {
    const result = await post({ query: '{ viewer { scopes } }' });
    expect(result.status).toBe(401);
    expect(result.json.errors?.[0]?.extensions.requestId).toBe(result.headers.get('x-request-id'));
  });

  test('a malformed Authorization header is UNAUTHENTICATED', async () => {
    const result = await post({ query: '{ viewer { scopes } }' }, { authorization: 'Basic abc' });
    expect(result.status).toBe(401);
    expect(result.json.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
  });

  test("a deleted tenant's key is FORBIDDEN", async () => {
    const gone = await tenantWithKeys(db, 'gone');
    await db.pool.query(
      sql.unsafe`UPDATE public.tenants SET deleted_at = now() WHERE id = ${gone.id}`,
    );
    expect(firstError(await failure(api.client(gone.key), ViewerDocument))).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message: 'This tenant has been deleted.',
    });
  });

  test("a suspended tenant's key is TENANT_SUSPENDED", async () => {
    const paused = await tenantWithKeys(db, 'paused');
    await db.pool.query(
      sql.unsafe`UPDATE public.tenants SET subscription_status = 'suspended' WHERE id = ${paused.id}`,
    );
    expect(firstError(await failure(api.client(paused.key), ViewerDocument))).toEqual({
      status: 403,
      code: 'TENANT_SUSPENDED',
      message: 'This tenant is suspended.',
    });
  });

  test('use is recorded in last_used_at', async () => {
    const { key, record } = await createApiKey(db.pool, {
      tenantId: acme.id,
      name: 'used',
      actor: 'test',
    });
    await api.client(key).request(ViewerDocument);
    const deadline = Date.now() + 5_000;
    let lastUsed: unknown = null;
    while (!lastUsed && Date.now() < deadline) {
      lastUsed = await db.pool.oneFirst(
        sql.unsafe`SELECT last_used_at FROM public.api_keys WHERE id = ${record.id}`,
      );
      if (!lastUsed) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(lastUsed).toBeInstanceOf(Date);
  });
});

describe('managing API keys over GraphQL', () => {
  test('create shows the secret once; list never shows it; revoke stops it at once, even when cached', async () => {
    const cached = await startApi(db, { apiKeyCacheTtlMs: 60_000 });
    try {
      const admin = cached.client(acme.session('admin'));
      const created = await admin.request(CreateApiKeyDocument, {
        input: { name: 'partner', scopes: ['READ'] },
      });
      const secret = created.createApiKey.secret;
      expect(secret).toMatch(/^cq_live_[0-9A-Za-z]{28}$/);
      expect(created.createApiKey.apiKey).toMatchObject({
        name: 'partner',
        scopes: ['READ'],
        prefix: secret.slice(0, 14),
      });

      const stored = await db.pool.one(sql.unsafe`
        SELECT key_hash, key_prefix FROM public.api_keys WHERE id = ${created.createApiKey.apiKey.id}`);
      expect(JSON.stringify(stored)).not.toContain(secret);

      expect((await cached.client(secret).request(ViewerDocument)).viewer.tenant?.slug).toBe(
        'acme',
      );
      const listed = await admin.request(ApiKeysDocument);
      expect(listed.apiKeys.map((key) => key.name)).toContain('partner');
      expect(JSON.stringify(listed)).not.toContain(secret);

      const revokedKey = await admin.request(RevokeApiKeyDocument, {
        id: created.createApiKey.apiKey.id,
      });
      expect(revokedKey.revokeApiKey.revokedAt).not.toBeNull();
      expect(firstError(await failure(cached.client(secret), ViewerDocument))).toMatchObject({
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'API key revoked.',
      });
    } finally {
      await cached.close();
    }
  });

  test('bad input is BAD_USER_INPUT and creates no key', async () => {
    const count = () =>
      db.pool.oneFirst(
        sql.unsafe`SELECT count(*) FROM public.api_keys WHERE tenant_id = ${acme.id}`,
      );
    const before = await count();
    expect(
      firstError(
        await failure(api.client(acme.session('admin')), CreateApiKeyDocument, {
          input: { name: '' },
        }),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'Invalid name: it must be 1 to 100 characters.',
    });
    expect(
      firstError(
        await failure(api.client(acme.session('admin')), CreateApiKeyDocument, {
          input: { name: 'old', expiresAt: '2020-01-01T00:00:00Z' },
        }),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'Invalid expiresAt: it must be in the future.',
    });
    expect(await count()).toBe(before);
  });

  test("another tenant's key cannot be listed or revoked", async () => {
    const betaKeys = await api.client(beta.session('admin')).request(ApiKeysDocument);
    const betaKeyId = betaKeys.apiKeys[0]!.id;
    const acmeAdmin = api.client(acme.session('admin'));
    const acmeList = await acmeAdmin.request(ApiKeysDocument);
    expect(acmeList.apiKeys.map((key) => key.id)).not.toContain(betaKeyId);
    expect(
      firstError(await failure(acmeAdmin, RevokeApiKeyDocument, { id: betaKeyId })),
    ).toMatchObject({
      code: 'NOT_FOUND',
      message: `No API key ${betaKeyId}.`,
    });
    expect((await api.client(beta.key).request(ViewerDocument)).viewer.tenant?.slug).toBe('beta');
  });
});

describe('serving GraphQL', () => {
  const totals = (n: number) =>
    Array.from(
      { length: n },
      (_, i) =>
        `t${i}: salesTotals(from: "2026-01-01", to: "2026-02-01") { quantity revenue commission netRevenue orders }`,
    ).join(' ');
  test.each([
    [
      'more than 15 aliases',
      `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: viewer { scopes }`).join(' ')} }`,
      'GRAPHQL_VALIDATION_FAILED',
      /aliases/i,
    ],
    [
      'more than 10 levels',
      `{ ${'viewer { '.repeat(12)}scopes ${'} '.repeat(12)}}`,
      'GRAPHQL_VALIDATION_FAILED',
      /depth limit of 10/,
    ],
    [
      'more than 2,000 tokens',
      `{ viewer { ${'scopes '.repeat(2100)}} }`,
      'GRAPHQL_PARSE_FAILED',
      /more that 2000 tokens/,
    ],
    [
      'a cost over 20,000',
      `{ products(first: 100) { edges { node { id sku name inventory { location onHand reserved available } forecasts { id date predictedValue } ${totals(12)} } } } }`,
      'GRAPHQL_VALIDATION_FAILED',
      /Cost limit of 20000/,
    ],
  ])(
    'an operation with %s is refused (400) before any SQL runs',
    async (_name, query, code, message) => {
      counter.reset();
      const result = await post({ query }, { authorization: `Bearer ${acme.readKey}` });
      expect(result.status).toBe(400);
      expect(result.json.errors?.[0]?.extensions.code).toBe(code);
      expect(result.json.errors?.[0]?.message).toMatch(message);
      expect(counter.statements.filter((statement) => /enterTenant/.test(statement))).toEqual([]);
    },
  );

  test('a syntax error is 400 GRAPHQL_PARSE_FAILED', async () => {
    const result = await post(
      { query: '{ viewer { ' },
      { authorization: `Bearer ${acme.readKey}` },
    );
    expect(result.status).toBe(400);
    expect(result.json.errors?.[0]).toMatchObject({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
  });

  test('batched (array) requests are refused', async () => {
    const result = await post(
      [{ query: '{ viewer { scopes } }' }, { query: '{ viewer { scopes } }' }],
      {
        authorization: `Bearer ${acme.readKey}`,
      },
    );
    expect(result.status).toBe(400);
  });

  test('errors do not suggest field names', async () => {
    const result = await post(
      { query: '{ prodcts { totalCount } }' },
      { authorization: `Bearer ${acme.readKey}` },
    );
    expect(result.status).toBe(400);
    expect(result.json.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  test('introspection needs a key', async () => {
    const query = { query: '{ __schema { queryType { name } } }' };
    expect((await post(query)).status).toBe(401);
    const allowed = await post(query, { authorization: `Bearer ${acme.readKey}` });
    expect(allowed.json.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  test('a browser GET shows Apollo Sandbox with the endpoint filled in', async () => {
    const response = await fetch(api.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('embeddable-sandbox');
    expect(html).toContain('initialEndpoint');
  });

  test('GET queries work for clients that send the preflight header', async () => {
    const response = await fetch(
      `${api.url}?query=${encodeURIComponent('{ viewer { scopes } }')}`,
      {
        headers: { authorization: `Bearer ${acme.readKey}`, 'apollo-require-preflight': 'true' },
      },
    );
    expect(await response.json()).toEqual({ data: { viewer: { scopes: ['READ'] } } });
  });

  test('an unexpected failure is masked and carries the request id the response header has', async () => {
    await db.pool.query(sql.unsafe`
      ALTER TABLE ${sql.identifier([beta.schemaName, 'products'])} RENAME COLUMN unit_cost TO unit_cost_damaged`);
    try {
      const result = await post(
        { query: '{ products { edges { node { sku } } } }' },
        { authorization: `Bearer ${beta.readKey}` },
      );
      const error = result.json.errors?.[0];
      expect(error).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect(JSON.stringify(result.json)).not.toMatch(/unit_cost|does not exist/);
      expect(error?.extensions.requestId).toBe(result.headers.get('x-request-id'));
      expect(result.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await db.pool.query(sql.unsafe`
        ALTER TABLE ${sql.identifier([beta.schemaName, 'products'])} RENAME COLUMN unit_cost_damaged TO unit_cost`);
    }
  });

  test('every error carries the request id', async () => {
    const result = await failure(api.client(acme.readKey), ProductsDocument, { first: 500 });
    expect(result.errors[0]?.extensions.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
