/**
 * The request half of `npm run bench:tenants`: one server as shipped (its pool, caches and
 * metering from the configuration), a small request (viewer plus 5 products) sent round-robin
 * over the first 10, the first 1,000 and all of the tenants, each tier's figures beside the
 * PostgreSQL backends' private memory, read from /proc for the server pool's backends.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import pMap from 'p-map';
import { sql, type DatabasePool, type Interceptor } from 'slonik';
import { z } from 'zod';
import { createApiKey } from '../auth/api-keys.js';
import type { Config } from '../config.js';
import type { MigrationSet } from '../db/migrations/files.js';
import { createDatabasePool } from '../db/pool.js';
import { withTenant } from '../db/tenant-transaction.js';
import { createLogger } from '../logger.js';
import { buildApp } from '../server/app.js';
import type { TenantRef } from '../tenants/names.js';
import type { LoadResult } from './api-load.js';
import { runLoad } from './run-load.js';

const APP_NAME = 'capliquify-bench-server';
const QUERY = JSON.stringify({
  query: '{ viewer { tenant { name } } products(first: 5) { edges { node { sku name } } } }',
});

type Options = {
  url: string;
  pool: DatabasePool;
  migrations: MigrationSet;
  config: Config;
  tenants: readonly TenantRef[];
  duration: number;
  connections: number;
  concurrency: number;
  signal: AbortSignal;
  out: (line?: string) => void;
};

type Tier = LoadResult & {
  tenants: number;
  statements: number;
  sessions: number;
  memory?: { total: number; max: number; backends: number };
};

/** Private (anonymous) memory of each backend of the server's pool, in bytes. */
async function backendMemory(pool: DatabasePool) {
  const pids = await pool.anyFirst(sql.type(z.object({ pid: z.number() }))`
    /* benchServerBackends */
    SELECT pid FROM pg_stat_activity WHERE application_name = ${APP_NAME}`);
  const sizes: number[] = [];
  for (const pid of pids) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
    const kb = status && /^RssAnon:\s+(\d+) kB/m.exec(status)?.[1];
    if (kb) sizes.push(Number(kb) * 1024);
  }
  if (sizes.length === 0) return undefined;
  return {
    total: sizes.reduce((a, b) => a + b, 0),
    max: Math.max(...sizes),
    backends: sizes.length,
  };
}

const sessions = (pool: DatabasePool) =>
  pool.oneFirst(sql.type(z.object({ sessions: z.number() }))`
    /* benchSessions */
    SELECT sessions::int8 FROM pg_stat_database WHERE datname = current_database()`);

/**
 * What a fresh backend costs: its first tenant transaction (PostgreSQL reads the login role's
 * memberships, one per tenant role, once per backend) against the next ones, and what its caches
 * grow by per tenant schema it visits (pg_backend_memory_contexts).
 */
async function freshBackend(options: Options) {
  const single = await createDatabasePool({
    ...options.config.pool,
    url: options.url,
    maxSize: 1,
    maxUses: 1_000_000,
    maxTenants: 1_000_000,
  });
  const Bytes = z.object({ bytes: z.number() });
  const read = () =>
    single.oneFirst(sql.type(Bytes)`
      /* benchBackendMemory */
      SELECT sum(total_bytes)::int8 AS bytes FROM pg_backend_memory_contexts`);
  const visit = (tenant: TenantRef) =>
    withTenant(single, tenant, { readOnly: true }, (tx) =>
      tx.query(sql.unsafe`/* benchVisit */ SELECT sku, name FROM products ORDER BY sku LIMIT 5`),
    );
  try {
    await single.query(sql.unsafe`SELECT 1`);
    const visited = options.tenants.slice(0, 201);
    let start = performance.now();
    await visit(visited[0]!);
    const firstMs = performance.now() - start;
    const before = await read();
    start = performance.now();
    for (const tenant of visited.slice(1)) await visit(tenant);
    const nextMs = (performance.now() - start) / (visited.length - 1);
    return { firstMs, nextMs, perTenant: ((await read()) - before) / (visited.length - 1) };
  } finally {
    await single.end();
  }
}

export async function measureRequests(options: Options): Promise<void> {
  const { pool, out } = options;
  const seedStart = performance.now();
  const keys = await pMap(
    options.tenants,
    async (tenant) => {
      const schema = (table: string) => sql.identifier([tenant.schemaName, table]);
      await pool.query(sql.unsafe`
        /* benchFiveProducts */
        INSERT INTO ${schema('products')} (company_id, sku, name, unit_cost, unit_price)
        SELECT c.id, 'P-' || g, 'Product ' || g, 2.50, 5.00
        FROM ${schema('companies')} c CROSS JOIN generate_series(1, 5) AS g`);
      const { key } = await createApiKey(pool, {
        tenantId: tenant.id,
        name: 'bench',
        scopes: ['read'],
        actor: 'bench',
      });
      return key;
    },
    { concurrency: options.concurrency },
  );
  out(
    `requests: ${options.tenants.length} tenants given 5 products and a read key each in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
  );

  let statements = 0;
  const counter: Interceptor = {
    name: 'bench.server-statements',
    beforeQueryExecution: () => ((statements += 1), null),
  };
  const url = new URL(options.url);
  url.searchParams.set('application_name', APP_NAME);
  const serverPool = await createDatabasePool({
    ...options.config.pool,
    url: url.toString(),
    interceptors: [counter],
  });
  const app = await buildApp({
    pool: serverPool,
    migrations: options.migrations,
    logger: createLogger('silent'),
    apiKeyCacheTtlMs: options.config.apiKeyCacheTtlMs,
    apiKeyCacheSize: options.config.apiKeyCacheSize,
    keyUseFlushMs: options.config.keyUseFlushMs,
    // Metered and rate limited as in production, at a rate that 10 tenants under this load do not
    // reach (1,000 requests/s over 10 tenants is 6,000 a minute each).
    requestsPerMinute: 1_000_000,
  });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const target = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/graphql`;
    for (const key of [keys[0]!, keys.at(-1)!]) {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: QUERY,
      });
      const json = (await response.json()) as {
        data?: { products?: { edges: unknown[] } };
        errors?: unknown;
      };
      if (json.errors || json.data?.products?.edges.length !== 5) {
        throw new Error(`the server did not answer with 5 products: ${JSON.stringify(json)}`);
      }
    }
    const { pool: settings } = options.config;
    out(
      `  one server: pool of ${settings.maxSize}, connections recycled after ${settings.maxTenants} distinct tenants or ${settings.maxUses} uses, key cache ${options.config.apiKeyCacheTtlMs / 1000} s, plan rates raised to 1,000,000 requests a minute; ${options.connections} HTTP connections, ${options.duration} s per tier after a warm-up (one request per tenant, then 3 s), round-robin over the tier's tenants`,
    );
    out(
      `  ${'tenants'.padStart(8)}${'requests/s'.padStart(12)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'failed'.padStart(8)}${'SQL/req'.padStart(9)}${'new conns'.padStart(11)}  backend memory (private)`,
    );
    const tiers: Tier[] = [];
    for (const count of [...new Set([10, 1_000, options.tenants.length])]) {
      if (count > options.tenants.length) continue;
      const job = {
        url: target,
        body: QUERY,
        keys: keys.slice(0, count),
        connections: options.connections,
      };
      // Warm-up: every tenant of the tier once (its key cached, as in a steady state), then 3 s.
      // (autocannon wants no more connections than requests.)
      await runLoad(
        {
          ...job,
          connections: Math.min(job.connections, count),
          amount: count,
          durationSeconds: 600,
        },
        options.signal,
      );
      await runLoad({ ...job, durationSeconds: 3 }, options.signal);
      statements = 0;
      const sessionsBefore = await sessions(pool);
      const load = await runLoad({ ...job, durationSeconds: options.duration }, options.signal);
      const tier: Tier = {
        ...load,
        tenants: count,
        // BEGIN and COMMIT are sent by slonik around the statements the interceptor sees.
        statements: (statements + 2 * load.requests) / Math.max(1, load.requests),
        sessions: (await sessions(pool)) - sessionsBefore,
        memory: await backendMemory(pool),
      };
      tiers.push(tier);
      const failed = tier.errors + tier.non2xx + tier.mismatches + tier.timeouts;
      const memory = tier.memory
        ? `${(tier.memory.total / 2 ** 20).toFixed(0)} MiB over ${tier.memory.backends} backends, largest ${(tier.memory.max / 2 ** 20).toFixed(1)} MiB`
        : 'n/a (not a local server)';
      out(
        `  ${String(count).padStart(8)}${(tier.requests / tier.seconds).toFixed(1).padStart(12)}${tier.p50.toFixed(1).padStart(9)}${tier.p99.toFixed(1).padStart(9)}${String(failed).padStart(8)}${tier.statements.toFixed(2).padStart(9)}${String(tier.sessions).padStart(11)}  ${memory}`,
      );
      if (failed > 0) {
        out(
          `    failed: ${tier.errors} errors, ${tier.timeouts} timeouts, ${tier.non2xx} non-2xx, ${tier.mismatches} with GraphQL errors; first: ${tier.firstFailure ?? 'n/a'}`,
        );
      }
    }
    const [first, last] = [tiers[0]!, tiers.at(-1)!];
    if (tiers.length > 1) {
      out(
        `  ${last.tenants} tenants against 10: requests/s ${(last.requests / last.seconds / (first.requests / first.seconds)).toFixed(2)}x (goal >= 0.8x), p99 ${(last.p99 / first.p99).toFixed(2)}x (goal <= 1.2x)`,
      );
    }
    const fresh = await freshBackend(options);
    const base = first.memory ? first.memory.max : 0;
    const backend = base + fresh.perTenant * settings.maxTenants;
    out(
      `  a fresh backend's first tenant transaction: ${fresh.firstMs.toFixed(1)} ms (the login role's ${options.tenants.length} memberships are read once per backend); its next ones, each on a tenant it has not seen: ${fresh.nextMs.toFixed(2)} ms`,
    );
    out(
      `  a backend's caches grow by ${(fresh.perTenant / 1024).toFixed(0)} KiB per tenant schema it visits: with ${settings.maxTenants} distinct tenants per connection, a backend stays under about ${(backend / 2 ** 20).toFixed(0)} MiB and the pool under ${((backend * settings.maxSize) / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    await app.close();
    await serverPool.end();
  }
}
