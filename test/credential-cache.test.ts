/**
 * Credentials over many tenants: an API key in use is refreshed before its cache entry expires,
 * in the background and in batches, so its requests never wait on a lookup; a change made
 * elsewhere (a key revoked through another server) is still seen within the TTL; and key uses
 * reach last_used_at in one statement per flush, none on the request path.
 */
import { sql, type DatabasePool, type Interceptor } from 'slonik';
import { z } from 'zod';
import { createApiKey } from '../src/auth/api-keys.js';
import { failure, firstError, startApi, tenantWithKeys, type Api } from './support/api.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { ViewerDocument } from './generated/graphql.js';

const TTL_MS = 1_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: TestDatabase;
let pool: DatabasePool;
let api: Api;
const seen: string[] = [];
const named = (name: string) => seen.filter((statement) => statement.includes(`/* ${name} */`));

beforeAll(async () => {
  db = await createTestDatabase();
  const recorder: Interceptor = {
    name: 'test.allStatements',
    beforeQueryExecution: (_context, query) => (seen.push(query.sql), null),
  };
  pool = await db.openPool({ interceptors: [recorder] });
  api = await startApi(db, { pool, apiKeyCacheTtlMs: TTL_MS, keyUseFlushMs: 300 });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

async function newKeys(slug: string, count: number) {
  const tenant = await tenantWithKeys(db, slug);
  const keys: { key: string; id: string }[] = [];
  for (let i = 0; i < count; i += 1) {
    const { key, record } = await createApiKey(db.pool, {
      tenantId: tenant.id,
      name: `key ${i}`,
      scopes: ['read'],
      actor: 'test',
    });
    keys.push({ key, id: record.id });
  }
  return keys;
}

test('keys in use are refreshed ahead of expiry in one background lookup, never on their requests', async () => {
  const keys = await newKeys('refresh-ahead', 3);
  seen.length = 0;
  // At once, so that all three entries are about as old: on a busy machine three requests one
  // after another can take half the TTL, and the first entry would expire before the check.
  await Promise.all(keys.map(({ key }) => api.client(key).request(ViewerDocument)));
  const cachedAt = Date.now();
  // First use: each key looked up once, on its request.
  expect(named('findApiKeysByHash')).toHaveLength(3);

  // Past half the TTL, a use serves the cached entry and schedules a refresh; the three are
  // looked up together, in one statement, after their requests have answered.
  await sleep(TTL_MS / 2 + 100 - (Date.now() - cachedAt));
  seen.length = 0;
  await Promise.all(keys.map(({ key }) => api.client(key).request(ViewerDocument)));
  await sleep(400);
  expect(named('findApiKeysByHash')).toHaveLength(0);
  expect(named('refreshApiKeys')).toHaveLength(1);

  // Past the first entries' TTL, the refreshed ones are still trusted: no lookup at all.
  await sleep(Math.max(0, TTL_MS + 100 - (Date.now() - cachedAt)));
  seen.length = 0;
  for (const { key } of keys) await api.client(key).request(ViewerDocument);
  expect(named('findApiKeysByHash')).toHaveLength(0);
  expect(named('refreshApiKeys')).toHaveLength(0);
});

test('a key revoked through another server is refused within the TTL, though it never stopped being used', async () => {
  const [{ key, id }] = (await newKeys('revoked-elsewhere', 1)) as [{ key: string; id: string }];
  await api.client(key).request(ViewerDocument);
  // Another server revokes it: this one's cache knows nothing of it.
  await db.pool.query(sql.unsafe`UPDATE public.api_keys SET revoked_at = now() WHERE id = ${id}`);
  const revokedAt = Date.now();
  let refusedAfter: number | undefined;
  while (Date.now() - revokedAt < TTL_MS * 3) {
    try {
      await api.client(key).request(ViewerDocument);
    } catch {
      refusedAfter = Date.now() - revokedAt;
      break;
    }
    await sleep(100);
  }
  expect(refusedAfter).toBeDefined();
  expect(refusedAfter!).toBeLessThanOrEqual(TTL_MS + 500);
  expect(firstError(await failure(api.client(key), ViewerDocument))).toMatchObject({
    status: 401,
    code: 'UNAUTHENTICATED',
  });
});

test('key uses reach last_used_at in one statement per flush, and none on the request path', async () => {
  const keys = await newKeys('key-uses', 5);
  await sleep(400); // let a flush of earlier tests' uses go by
  seen.length = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: 20 }, (_, i) => api.client(keys[i % 5]!.key).request(ViewerDocument)),
  );
  await sleep(700);
  // One statement per flush interval at most, whatever the number of requests and keys.
  const flushes = named('recordApiKeyUse').length;
  expect(flushes).toBeGreaterThanOrEqual(1);
  expect(flushes).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 300) + 1);
  expect(named('touchApiKey')).toEqual([]);
  const stamped = await db.pool.anyFirst(sql.type(z.object({ id: z.string() }))`
    SELECT id FROM public.api_keys
    WHERE id = ANY(${sql.array(
      keys.map((k) => k.id),
      'uuid',
    )}) AND last_used_at IS NOT NULL`);
  expect([...stamped].sort()).toEqual(keys.map((k) => k.id).sort());

  // Within the minute, further uses write nothing more.
  seen.length = 0;
  for (const { key } of keys) await api.client(key).request(ViewerDocument);
  await sleep(700);
  expect(named('recordApiKeyUse')).toEqual([]);
});
