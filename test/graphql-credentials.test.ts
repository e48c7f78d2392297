import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { GraphQLClient } from 'graphql-request';
import { pino } from 'pino';
import { sql } from 'slonik';
import { decryptCredential } from '../src/auth/credential-crypto.js';
import { lastFourOf, serviceTypeOf } from '../src/data/api-credentials.js';
import { buildApp } from '../src/server/app.js';
import { ApiCredentialsDocument, SaveApiCredentialDocument } from './generated/graphql.js';
import {
  failure,
  firstError,
  startApi,
  tenantWithKeys,
  TEST_ENCRYPTION_KEY,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { strictClerkConfig } from './support/clerk.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let beta: TenantWithKeys;

const XERO_SECRET = 'xero-client-secret-5d8f1a9c2b7e4f60';
const xero = { client_id: 'A1B2C3D4E5F60718', client_secret: XERO_SECRET, tenant_id: 'org-1' };

const table = (tenant: TenantWithKeys) => sql.identifier([tenant.schemaName, 'api_credentials']);

/** Every stored column of a tenant's credentials, to show that a failure changed nothing. */
const stored = (tenant: TenantWithKeys) =>
  db.pool.any(sql.unsafe`
    SELECT id, company_id, service_name, service_type, credentials_encrypted, access_token_encrypted,
      refresh_token_encrypted, key_version, last_four, token_expires_at, is_active, last_sync_at,
      last_sync_status, created_at, updated_at
    FROM ${table(tenant)} ORDER BY service_name`);

const storedOne = (tenant: TenantWithKeys, service: string) =>
  db.pool.one(sql.unsafe`
    SELECT id, company_id, service_type, credentials_encrypted, access_token_encrypted, key_version,
      last_four
    FROM ${table(tenant)} WHERE service_name = ${service}`) as Promise<{
    id: string;
    company_id: string;
    service_type: string | null;
    credentials_encrypted: string;
    access_token_encrypted: string | null;
    key_version: number;
    last_four: string | null;
  }>;

const save = async (tenant: TenantWithKeys, service: string, credentials: unknown) =>
  (
    await api
      .client(tenant.session('admin'))
      .request(SaveApiCredentialDocument, { service, credentials })
  ).saveApiCredential;

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  api = await startApi(db);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('saving credentials', () => {
  test('saveApiCredential encrypts what it stores and returns its status only', async () => {
    const saved = await save(acme, 'xero', xero);
    expect(saved).toEqual({
      id: expect.any(String),
      service: 'xero',
      serviceType: 'accounting',
      isActive: true,
      lastFour: '4f60',
      keyVersion: 1,
      lastSyncAt: null,
      lastSyncStatus: null,
      tokenExpiresAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const row = await storedOne(acme, 'xero');
    expect(row).toMatchObject({
      id: saved.id,
      company_id: acme.companyId,
      service_type: 'accounting',
      access_token_encrypted: null,
      key_version: 1,
      last_four: '4f60',
    });
    // The database holds ciphertext only: neither the secret nor any other value or key in clear.
    expect(row.credentials_encrypted).toMatch(
      /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/,
    );
    for (const clear of [XERO_SECRET, 'client_secret', xero.client_id, 'org-1']) {
      expect(row.credentials_encrypted).not.toContain(clear);
    }
    // The key and the right associated data give back the original JSON, and only they do.
    const plaintext = decryptCredential(
      TEST_ENCRYPTION_KEY,
      row.credentials_encrypted,
      `${acme.id}:xero:1`,
    );
    expect(JSON.parse(plaintext)).toEqual(xero);
    expect(() =>
      decryptCredential(TEST_ENCRYPTION_KEY, row.credentials_encrypted, `${beta.id}:xero:1`),
    ).toThrow(/authentication failed/);
  });

  test('apiCredentials lists the services by name with their status, never a secret', async () => {
    await save(acme, 'shopify_uk', {
      shop: 'acme-uk.myshopify.com',
      access_token: 'shpat_0a1b2c3d4e5f6789aabbccdd',
    });
    const client = api.client(acme.session('admin'));
    const list = (await client.request(ApiCredentialsDocument)).apiCredentials;
    expect(list.map((c) => [c.service, c.serviceType, c.lastFour])).toEqual([
      ['shopify_uk', 'ecommerce', 'ccdd'],
      ['xero', 'accounting', '4f60'],
    ]);
    const text = JSON.stringify(list);
    for (const secret of [XERO_SECRET, 'shpat_0a1b2c3d4e5f6789aabbccdd', 'v1.']) {
      expect(text).not.toContain(secret);
    }
  });

  test('saving a service again replaces its credentials in the same row and reactivates it; sync history stays', async () => {
    const first = await storedOne(acme, 'xero');
    await db.pool.query(sql.unsafe`
      UPDATE ${table(acme)} SET is_active = false, last_sync_status = 'FAILURE',
        last_sync_at = '2026-01-02T03:04:05Z' WHERE service_name = 'xero'`);
    const before = (
      await api.client(acme.session('admin')).request(ApiCredentialsDocument)
    ).apiCredentials.find((c) => c.service === 'xero')!;
    expect(before).toMatchObject({ isActive: false, lastSyncStatus: 'FAILURE' });
    const rotated = { ...xero, client_secret: 'rotated-secret-0000ffff' };
    const saved = await save(acme, 'xero', rotated);
    expect(saved).toMatchObject({
      id: first.id,
      isActive: true,
      lastFour: 'ffff',
      lastSyncStatus: 'FAILURE',
      lastSyncAt: '2026-01-02T03:04:05.000Z',
      createdAt: before.createdAt,
    });
    expect(new Date(saved.updatedAt).getTime()).toBeGreaterThan(
      new Date(before.updatedAt).getTime(),
    );
    const row = await storedOne(acme, 'xero');
    expect(row.credentials_encrypted).not.toBe(first.credentials_encrypted);
    expect(
      JSON.parse(
        decryptCredential(TEST_ENCRYPTION_KEY, row.credentials_encrypted, `${acme.id}:xero:1`),
      ),
    ).toEqual(rotated);
    expect(
      await db.pool.oneFirst(
        sql.unsafe`SELECT count(*)::int FROM ${table(acme)} WHERE service_name = 'xero'`,
      ),
    ).toBe(1);
  });

  test('another tenant saving the same service gets its own row, bound to its own id', async () => {
    const acmeBefore = await stored(acme);
    const betaXero = { client_id: 'BETA', client_secret: 'beta-secret-99998888' };
    const saved = await save(beta, 'xero', betaXero);
    expect(saved).toMatchObject({ service: 'xero', lastFour: '8888' });
    expect(await stored(acme)).toEqual(acmeBefore);
    const row = await storedOne(beta, 'xero');
    expect(row.company_id).toBe(beta.companyId);
    expect(
      JSON.parse(
        decryptCredential(TEST_ENCRYPTION_KEY, row.credentials_encrypted, `${beta.id}:xero:1`),
      ),
    ).toEqual(betaXero);
    // Copied into acme's row, beta's ciphertext does not decrypt as acme's.
    expect(() =>
      decryptCredential(TEST_ENCRYPTION_KEY, row.credentials_encrypted, `${acme.id}:xero:1`),
    ).toThrow(/authentication failed/);
    const acmeList = (await api.client(acme.session('admin')).request(ApiCredentialsDocument))
      .apiCredentials;
    expect(acmeList.map((c) => c.id)).not.toContain(saved.id);
    const betaList = (await api.client(beta.session('admin')).request(ApiCredentialsDocument))
      .apiCredentials;
    expect(betaList.map((c) => c.id)).toEqual([saved.id]);
  });

  test('credentials of exactly 16 KB are accepted', async () => {
    const credentials = { token: 't'.repeat(16 * 1024 - '{"token":""}'.length) };
    expect((await save(acme, 'big_one', credentials)).lastFour).toBe('tttt');
  });
});

describe('refused saves', () => {
  const SECRET = 'do-not-echo-me-4242424242';
  const tooBig = { secret: SECRET, pad: 'p'.repeat(16 * 1024) };
  const tooBigBytes = Buffer.byteLength(JSON.stringify(tooBig));
  test.each<[string, string, unknown, string, string]>([
    [
      'an upper-case service',
      'Xero',
      { secret: SECRET },
      'service',
      'Invalid service: use 1 to 100 lowercase letters, digits and _.',
    ],
    [
      'an empty service',
      '',
      { secret: SECRET },
      'service',
      'Invalid service: use 1 to 100 lowercase letters, digits and _.',
    ],
    [
      'a service with a dash',
      'shop-ify',
      { secret: SECRET },
      'service',
      'Invalid service: use 1 to 100 lowercase letters, digits and _.',
    ],
    [
      'a 101-character service',
      's'.repeat(101),
      { secret: SECRET },
      'service',
      'Invalid service: use 1 to 100 lowercase letters, digits and _.',
    ],
    ['an array', 'xero', [SECRET], 'credentials', 'credentials must be a JSON object ({...}).'],
    ['a string', 'xero', SECRET, 'credentials', 'credentials must be a JSON object ({...}).'],
    ['a number', 'xero', 4242, 'credentials', 'credentials must be a JSON object ({...}).'],
    ['an empty object', 'xero', {}, 'credentials', 'credentials must not be empty.'],
    [
      'more than 16 KB',
      'xero',
      tooBig,
      'credentials',
      `credentials is too large: at most 16384 bytes as JSON (got ${tooBigBytes}).`,
    ],
  ])(
    '%s is BAD_USER_INPUT, stores nothing and never echoes the secret',
    async (_, service, credentials, field, message) => {
      const before = [await stored(acme), await stored(beta)];
      const result = await failure(api.client(acme.session('admin')), SaveApiCredentialDocument, {
        service,
        credentials,
      });
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatchObject({
        message,
        extensions: { code: 'BAD_USER_INPUT', field },
      });
      expect(JSON.stringify(result)).not.toContain(SECRET);
      expect([await stored(acme), await stored(beta)]).toEqual(before);
    },
  );

  test('null credentials are refused by the schema (400)', async () => {
    const before = await stored(acme);
    const result = await failure(api.client(acme.session('admin')), SaveApiCredentialDocument, {
      service: 'xero',
      credentials: null,
    });
    expect(result.status).toBe(400);
    expect(result.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(await stored(acme)).toEqual(before);
  });

  test.each([
    [
      'a read-only key',
      () => acme.readKey,
      'API keys may not use saveApiCredential: it needs a session with the ADMIN role.',
    ],
    [
      'a read-write key',
      () => acme.key,
      'API keys may not use saveApiCredential: it needs a session with the ADMIN role.',
    ],
    [
      'a MEMBER session',
      () => acme.session('member'),
      'Your role (MEMBER) may not use saveApiCredential: it needs ADMIN.',
    ],
    [
      'a VIEWER session',
      () => acme.session('viewer'),
      'Your role (VIEWER) may not use saveApiCredential: it needs ADMIN.',
    ],
  ])('%s may not save: FORBIDDEN (403), nothing stored', async (_name, credential, message) => {
    const before = await stored(acme);
    const result = await failure(api.client(credential()), SaveApiCredentialDocument, {
      service: 'xero',
      credentials: { secret: SECRET },
    });
    expect(firstError(result)).toEqual({ status: 403, code: 'FORBIDDEN', message });
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(await stored(acme)).toEqual(before);
  });

  test('a server without ENCRYPTION_KEY refuses to save: FORBIDDEN, nothing stored; listing still works', async () => {
    const keyless = await startApi(db, { encryptionKey: undefined });
    try {
      const before = await stored(acme);
      const result = await failure(
        keyless.client(acme.session('admin')),
        SaveApiCredentialDocument,
        {
          service: 'amazon_eu',
          credentials: { refresh_token: SECRET },
        },
      );
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatchObject({
        message: 'Saving credentials is not configured on this server (ENCRYPTION_KEY).',
        extensions: { code: 'FORBIDDEN' },
      });
      expect(JSON.stringify(result)).not.toContain(SECRET);
      expect(await stored(acme)).toEqual(before);
      const list = (await keyless.client(acme.session('admin')).request(ApiCredentialsDocument))
        .apiCredentials;
      expect(list.map((c) => c.service)).toEqual(['big_one', 'shopify_uk', 'xero']);
    } finally {
      await keyless.close();
    }
  });
});

test('the secret reaches no log line, even when the write fails inside the database', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const app = await buildApp({
    pool: db.pool,
    migrations: db.migrations,
    logger: pino({ level: 'trace' }, sink),
    apiKeyCacheTtlMs: 0,
    encryptionKey: TEST_ENCRYPTION_KEY,
    clerk: strictClerkConfig(),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/graphql`;
  const client = new GraphQLClient(url, {
    headers: { authorization: `Bearer ${acme.session('admin')}` },
  });
  const secret = 'log-probe-secret-0123456789abcdef';
  try {
    await client.request(SaveApiCredentialDocument, {
      service: 'amazon_eu',
      credentials: { refresh_token: secret },
    });
    await failure(client, SaveApiCredentialDocument, {
      service: 'BAD',
      credentials: { refresh_token: secret },
    });
    // Break the table for a moment so the INSERT fails and the masked error is logged in full.
    await db.pool.query(sql.unsafe`ALTER TABLE ${table(acme)} RENAME TO api_credentials_away`);
    try {
      const broken = await failure(client, SaveApiCredentialDocument, {
        service: 'amazon_us',
        credentials: { refresh_token: secret },
      });
      expect(firstError(broken)).toMatchObject({
        code: 'INTERNAL_SERVER_ERROR',
        message: 'Internal server error',
      });
    } finally {
      await db.pool.query(sql.unsafe`
        ALTER TABLE ${sql.identifier([acme.schemaName, 'api_credentials_away'])} RENAME TO api_credentials`);
    }
  } finally {
    await app.close();
  }
  const log = lines.join('');
  expect(log).toMatch(/request failed/);
  expect(log).not.toContain(secret);
  expect(log).not.toContain('log-probe');
});

describe('rules for lastFour and serviceType', () => {
  test.each<[string, Record<string, unknown>, string | null]>([
    [
      'the longest value under a secret-looking key',
      { client_id: 'id-0123456789012345678901', client_secret: 'secret-abcd' },
      'abcd',
    ],
    [
      'token, password, api_key and private keys count',
      { user: 'someone@example.com', password: 'pa55word-WXYZ' },
      'WXYZ',
    ],
    ['nested values count', { oauth: { refresh_token: 'Atzr|IwEB-9876' }, region: 'eu' }, '9876'],
    ['values in arrays count', { api_keys: ['short-1', 'the-longer-one-LAST'] }, 'LAST'],
    [
      'without secret-looking keys, the longest string',
      { shop: 'acme.myshopify.com', id: '42' },
      '.com',
    ],
    ['nothing for a secret under 8 characters', { password: 'hunter2' }, null],
    ['nothing without strings', { port: 443, tls: true }, null],
    ['characters, not UTF-16 units', { secret: 'clé-🔑🔑🔑🔑' }, '🔑🔑🔑🔑'],
  ])('lastFour: %s', (_, credentials, expected) => {
    expect(lastFourOf(credentials)).toBe(expected);
  });

  test.each([
    ['xero', 'accounting'],
    ['xero_uk', 'accounting'],
    ['shopify', 'ecommerce'],
    ['shopify_uk', 'ecommerce'],
    ['amazon_eu', 'ecommerce'],
    ['xeroish', null],
    ['unleashed', null],
  ])('serviceType of %s is %s', (service, expected) => {
    expect(serviceTypeOf(service)).toBe(expected);
  });
});
