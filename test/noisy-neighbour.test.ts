/**
 * One tenant must not stall the others. A superuser holds a lock on one tenant's products table
 * while 30 of that tenant's requests arrive at once: at most DB_TENANT_MAX_TRANSACTIONS of them
 * hold a pooled connection (each cancelled at the statement timeout: TIMEOUT, with its request
 * id), the rest wait briefly and get RATE_LIMITED (429, Retry-After); meanwhile another tenant's
 * requests and /readyz answer fast. With the whole pool held, a checkout waits at most
 * DB_ACQUIRE_TIMEOUT_MS and gets SERVICE_UNAVAILABLE (503, Retry-After), never a hang.
 * (Short timeouts through the settings, so the test takes seconds.)
 */
import { createPool, sql, type DatabasePool } from 'slonik';
import {
  postGraphQL,
  startApi,
  tenantWithKeys,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let stalled: TenantWithKeys;
let other: TenantWithKeys;

beforeAll(async () => {
  db = await createTestDatabase();
  stalled = await tenantWithKeys(db, 'stalled');
  other = await tenantWithKeys(db, 'neighbour');
});

afterAll(async () => {
  await db?.drop();
});

/** Holds an ACCESS EXCLUSIVE lock on the tenant's products table until `release` is called. */
async function lockProducts(tenant: TenantWithKeys) {
  const superuser = await createPool(db.url, { maximumPoolSize: 1, captureStackTrace: false });
  const locked = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const held = superuser.transaction(async (tx) => {
    await tx.query(sql.unsafe`
      LOCK TABLE ${sql.identifier([tenant.schemaName, 'products'])} IN ACCESS EXCLUSIVE MODE`);
    locked.resolve();
    await release.promise;
  });
  await locked.promise;
  return async () => {
    release.resolve();
    await held;
    await superuser.end();
  };
}

const COUNT = '{ products { totalCount } }';

/**
 * Opens `connections` pooled connections and caches both tenants' keys, so that nothing measured
 * below includes opening a connection or looking a key up. On a busy machine opening one can take
 * longer than the short acquire timeouts under test: a checkout abandoned meanwhile still leaves
 * its new connection in the pool, so trying again gets there.
 */
async function warm(api: Api, pool: DatabasePool, connections: number) {
  for (let attempt = 0; ; attempt += 1) {
    const opened = await Promise.allSettled(
      Array.from({ length: connections }, () => pool.query(sql.unsafe`SELECT pg_sleep(0.05)`)),
    );
    const answers = [];
    for (const key of [stalled.readKey, other.readKey]) {
      answers.push(await postGraphQL(api, key, { query: COUNT }));
    }
    if (
      opened.every((each) => each.status === 'fulfilled') &&
      answers.every((a) => a.status === 200)
    ) {
      return;
    }
    if (attempt === 10) throw new Error('the pool could not be warmed up');
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

const readyz = (api: Api) => fetch(api.url.replace('/graphql', '/readyz'));
const healthz = (api: Api) => fetch(api.url.replace('/graphql', '/healthz'));

describe('a lock on one tenant', () => {
  let pool: DatabasePool;
  let api: Api;
  // Long enough that an answer faster than it cannot have waited for a blocked request's end.
  const STATEMENT_TIMEOUT_MS = 3_000;
  const FAST_MS = 2_000;
  const CAP = 5;

  beforeAll(async () => {
    pool = await db.openPool({
      maxSize: 10,
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      acquireTimeoutMs: 1_000,
    });
    api = await startApi(db, {
      pool,
      apiKeyCacheTtlMs: 600_000,
      tenantTransactions: { max: CAP, waitMs: 200 },
    });
    await warm(api, pool, 10);
  });

  afterAll(async () => {
    await api?.close();
  });

  test('30 concurrent requests of the locked tenant: TIMEOUT or RATE_LIMITED; the other tenant and /readyz answer fast', async () => {
    const unlock = await lockProducts(stalled);
    try {
      const blocked = Array.from({ length: 30 }, () =>
        timed(() => postGraphQL(api, stalled.readKey, { query: COUNT })),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      // While the tenant's 5 transactions wait on the lock.
      const neighbour = await Promise.all(
        Array.from({ length: 5 }, () =>
          timed(() => postGraphQL(api, other.readKey, { query: COUNT })),
        ),
      );
      const ready = await timed(() => readyz(api));
      const health = await timed(() => healthz(api));
      const answers = await Promise.all(blocked);

      for (const { value, ms } of neighbour) {
        expect(value.status).toBe(200);
        expect(value.body.errors).toBeUndefined();
        expect(ms).toBeLessThan(FAST_MS);
      }
      expect(ready.value.status).toBe(200);
      expect(ready.ms).toBeLessThan(1_000);
      expect(health.value.status).toBe(200);
      expect(health.ms).toBeLessThan(1_000);

      const timeouts = answers.filter(
        (a) => a.value.body.errors?.[0]?.extensions.code === 'TIMEOUT',
      );
      const limited = answers.filter((a) => a.value.status === 429);
      expect(timeouts).toHaveLength(CAP);
      expect(limited).toHaveLength(30 - CAP);
      for (const { value, ms } of timeouts) {
        expect(value.status).toBe(200);
        const error = value.body.errors![0]!;
        expect(error.message).toMatch(/statement timeout/);
        expect(error.extensions.requestId).toBe(value.headers.get('x-request-id'));
        expect(ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 100);
        expect(ms).toBeLessThan(STATEMENT_TIMEOUT_MS + 2_000);
      }
      for (const { value, ms } of limited) {
        expect(value.body.errors?.[0]?.extensions).toMatchObject({
          code: 'RATE_LIMITED',
          limit: CAP,
        });
        expect(value.headers.get('retry-after')).toBe('1');
        expect(ms).toBeLessThan(FAST_MS);
      }
      process.stdout.write(
        `lock: neighbour max ${Math.max(...neighbour.map((n) => n.ms)).toFixed(0)} ms, /readyz ${ready.ms.toFixed(0)} ms, ` +
          `${timeouts.length} TIMEOUT after max ${Math.max(...timeouts.map((t) => t.ms)).toFixed(0)} ms, ` +
          `${limited.length} RATE_LIMITED after max ${Math.max(...limited.map((l) => l.ms)).toFixed(0)} ms\n`,
      );
    } finally {
      await unlock();
    }
    // Once the lock is gone the tenant is served again.
    const after = await postGraphQL(api, stalled.readKey, { query: COUNT });
    expect(after.status).toBe(200);
    expect(after.body.errors).toBeUndefined();
  });
});

describe('the whole pool held', () => {
  test('a checkout waits at most DB_ACQUIRE_TIMEOUT_MS: SERVICE_UNAVAILABLE (503, Retry-After); /readyz answers within a second', async () => {
    const pool = await db.openPool({
      maxSize: 2,
      statementTimeoutMs: 4_000,
      acquireTimeoutMs: 500,
    });
    const api = await startApi(db, {
      pool,
      apiKeyCacheTtlMs: 600_000,
      tenantTransactions: { max: 2, waitMs: 0 },
    });
    try {
      await warm(api, pool, 2);
      const unlock = await lockProducts(stalled);
      try {
        const holding = [1, 2].map(() => postGraphQL(api, stalled.readKey, { query: COUNT }));
        await new Promise((resolve) => setTimeout(resolve, 300));
        const refused = await timed(() => postGraphQL(api, other.readKey, { query: COUNT }));
        expect(refused.value.status).toBe(503);
        expect(refused.value.body.errors?.[0]?.extensions).toMatchObject({
          code: 'SERVICE_UNAVAILABLE',
          requestId: refused.value.headers.get('x-request-id'),
        });
        expect(refused.value.headers.get('retry-after')).toBe('1');
        expect(refused.ms).toBeGreaterThanOrEqual(450);
        expect(refused.ms).toBeLessThan(1_500);

        const ready = await timed(() => readyz(api));
        expect(ready.value.status).toBe(503);
        expect(await ready.value.json()).toEqual({ status: 'unavailable', database: 'busy' });
        expect(ready.ms).toBeLessThan(1_000);
        process.stdout.write(
          `pool held: SERVICE_UNAVAILABLE after ${refused.ms.toFixed(0)} ms, /readyz 503 after ${ready.ms.toFixed(0)} ms\n`,
        );
        await unlock();
        for (const answer of await Promise.all(holding)) expect(answer.status).toBe(200);
      } catch (error) {
        await unlock().catch(() => {});
        throw error;
      }
      // The abandoned checkout gave its connection straight back: the pool serves again.
      const later = await postGraphQL(api, other.readKey, { query: COUNT });
      expect(later.status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
