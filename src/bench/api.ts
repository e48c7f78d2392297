/**
 * `npm run bench`: GraphQL requests/s and latency over many tenants, next to a hand-written `pg`
 * server doing the same work (api-baseline.ts), measured in the same run on a throwaway embedded
 * PostgreSQL (or a fresh database on DATABASE_URL).
 *
 *   npm run bench -- --tenants 200 --duration 10 --connections 20
 *
 * Load comes from autocannon in a worker thread (api-load.ts), each request with the next
 * tenant's key. Before timing, both servers must return the same JSON for a few tenants.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { createPool, sql, type DatabasePool, type Interceptor } from 'slonik';
import { z } from 'zod';
import { defaultPoolSettings, loadConfig } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { loadMigrations } from '../db/migrations/files.js';
import { migrate } from '../db/migrations/runner.js';
import { createDatabasePool } from '../db/pool.js';
import { createLogger } from '../logger.js';
import { buildApp } from '../server/app.js';
import { startBaseline, type Baseline } from './api-baseline.js';
import type { LoadJob, LoadResult } from './api-load.js';
import { runLoad as runLoadWorker } from './run-load.js';
import { benchScenarios, requestBody, type Scenario } from './api-scenarios.js';
import { seedBenchTenants, type BenchTenant } from './api-seed.js';

const { values: args } = parseArgs({
  options: {
    tenants: { type: 'string', default: '200' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '3' },
    pool: { type: 'string', default: String(defaultPoolSettings.maxSize) },
    'max-uses': { type: 'string', default: String(defaultPoolSettings.maxUses) },
    /** An embedded server setting, e.g. --pg random_page_cost=1.1 (repeatable). */
    pg: { type: 'string', multiple: true, default: [] },
  },
});
const options = {
  tenants: Number(args.tenants),
  duration: Number(args.duration),
  connections: Number(args.connections),
  warmup: Number(args.warmup),
  pool: Number(args.pool),
  maxUses: Number(args['max-uses']),
  pgSettings: args.pg.map((setting) => /^([a-z_.]+)=(.+)$/.exec(setting)),
};
const within = (value: number, min: number, max: number) =>
  Number.isInteger(value) && value >= min && value <= max;
if (
  !within(options.tenants, 1, 5_000) ||
  !within(options.duration, 1, 600) ||
  !within(options.connections, 1, 1_000) ||
  !within(options.warmup, 0, 60) ||
  !within(options.pool, 2, 100) ||
  !within(options.maxUses, 1, 1_000_000_000) ||
  options.pgSettings.some((match) => match === null)
) {
  process.stderr.write(
    'usage: bench [--tenants 1..5000] [--duration 1..600 s] [--connections 1..1000] [--warmup 0..60 s] [--pool 2..100] [--max-uses N] [--pg name=value]...\n',
  );
  process.exit(2);
}
const config = loadConfig();
if (config.databaseUrl && options.pgSettings.length > 0) {
  process.stderr.write(
    'bench: --pg sets the embedded server only; set it on the DATABASE_URL server instead\n',
  );
  process.exit(2);
}

/** The last day of every tenant's data: fixed, so every run reads the same figures. */
const TODAY = '2025-06-30';
const KEY_CACHE_TTL_MS = 30_000;
const SEED_CONCURRENCY = 3;

const out = (line = '') => process.stdout.write(`${line}\n`);

/** Counts the statements the app's pool sends; keeps their names while `recording`. */
function statementCounter() {
  let count = 0;
  let names: string[] | undefined;
  const interceptor: Interceptor = {
    name: 'bench.statements',
    beforeQueryExecution: (_context, query) => {
      count += 1;
      names?.push(/\/\*\s*(\w+)\s*\*\//.exec(query.sql)?.[1] ?? query.sql.slice(0, 40));
      return null;
    },
  };
  return {
    interceptor,
    count: () => count,
    reset: () => void (count = 0),
    record: () => (names = []),
    stop: () => {
      const recorded = names ?? [];
      names = undefined;
      return recorded;
    },
  };
}

/** Server-side figures from pg_stat_statements, when the extension is available. */
function serverStatistics(pool: DatabasePool) {
  const Row = z.object({ name: z.string(), calls: z.number(), ms: z.number() });
  return {
    reset: () => pool.query(sql.unsafe`SELECT pg_stat_statements_reset()`),
    read: async () =>
      (await pool.any(sql.type(Row)`
        /* benchStatementStatistics */
        SELECT coalesce(substring(query FROM ${String.raw`/\*\s*(\w+)\s*\*/`}),
            left(regexp_replace(query, ${String.raw`\s+`}, ' ', 'g'), 30)) AS name,
          sum(calls)::int8 AS calls, sum(total_exec_time)::float8 AS ms
        FROM pg_stat_statements
        WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND query NOT LIKE '%pg_stat_statements%'
        GROUP BY 1 ORDER BY 3 DESC`)) as z.infer<typeof Row>[],
  };
}

async function post(url: string, key: string, body: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body,
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** Both servers must give the same answer, with data in it, before anything is timed. */
async function verify(
  graphqlUrl: string,
  baselineUrl: string,
  scenario: Scenario,
  tenant: BenchTenant,
) {
  const body = requestBody(scenario);
  const [real, base] = await Promise.all([
    post(graphqlUrl, tenant.key, body),
    post(baselineUrl, tenant.key, body),
  ]);
  const label = `${scenario.operationName} for ${tenant.tenant.slug}`;
  if (real.status !== 200 || real.json.errors) {
    throw new Error(
      `GraphQL answered ${label} with ${real.status}: ${JSON.stringify(real.json).slice(0, 500)}`,
    );
  }
  if (!isDeepStrictEqual(real.json, base.json)) {
    const a = JSON.stringify(real.json);
    const b = JSON.stringify(base.json);
    let at = 0;
    while (at < a.length && a[at] === b[at]) at += 1;
    throw new Error(
      `GraphQL and the baseline differ on ${label} at character ${at}:\n  GraphQL:  ...${a.slice(Math.max(0, at - 120), at + 200)}\n  baseline: ...${b.slice(Math.max(0, at - 120), at + 200)}`,
    );
  }
  const data = Object.values(real.json.data as Record<string, unknown>)[0];
  const rows = Array.isArray(data)
    ? data.length
    : ((data as { edges: unknown[] }).edges?.length ?? 0);
  if (rows === 0) throw new Error(`${label} returned no rows: nothing was compared`);
  return rows;
}

/** Ctrl+C (or SIGTERM) stops the run; the finally block below still removes everything. */
const stopping = new AbortController();
const runLoad = (job: LoadJob) => runLoadWorker(job, stopping.signal);

type Measured = LoadResult & {
  statements: number;
  server?: { calls: number; ms: number; top: string };
};

const fixed = (value: number, digits: number) => value.toFixed(digits);
const pad = (text: string, width: number) => text.padStart(width);

function printRow(name: string, m: Measured, statementsNote: string) {
  const rps = m.requests / m.seconds;
  const failed = m.errors + m.non2xx + m.mismatches;
  out(
    `  ${name.padEnd(10)}${pad(fixed(rps, 1), 12)}${pad(fixed(m.p50, 1), 9)}${pad(fixed(m.p99, 1), 9)}${pad(String(failed), 8)}${pad(fixed(m.statements, 2), 10)}  ${statementsNote}`,
  );
  if (m.server) {
    out(
      `  ${''.padEnd(10)}PostgreSQL saw ${fixed(m.server.calls, 2)} statements and ${fixed(m.server.ms, 3)} ms of execution per request; by time (mean ms x calls per request): ${m.server.top}`,
    );
  }
}

async function main() {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'capliquify-bench-api-'));
  await chmod(workDir, 0o755);
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dir: path.join(workDir, 'pg'),
        port: 55_000 + Math.floor(Math.random() * 5_000),
        settings: {
          shared_preload_libraries: 'pg_stat_statements',
          ...Object.fromEntries(options.pgSettings.map((match) => [match![1], match![2]])),
        },
      });
  const adminUrl = config.databaseUrl ?? embedded!.adminUrl;
  const dbName = `cq_bench_api_${randomBytes(4).toString('hex')}`;
  const admin = await createPool(adminUrl, { maximumPoolSize: 1 });
  await admin.query(sql.unsafe`CREATE DATABASE ${sql.identifier([dbName])}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const seedPool = await createDatabasePool({
    ...defaultPoolSettings,
    url: url.toString(),
    maxSize: SEED_CONCURRENCY + 2,
  });
  const counter = statementCounter();
  const appPools: DatabasePool[] = [];
  const apps: Awaited<ReturnType<typeof buildApp>>[] = [];
  let baseline: Baseline | undefined;

  try {
    const migrations = await loadMigrations(config.sqlDir);
    await migrate(seedPool, migrations);
    const version = (await seedPool.oneFirst(sql.unsafe`SELECT version()`)) as string;
    const stats = await seedPool
      .query(sql.unsafe`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
      .then(() => serverStatistics(seedPool))
      .catch(() => undefined);
    out(
      `CapLiquify API benchmark: ${options.tenants + 1} tenants (the demo tenant + ${options.tenants} small ones), ${options.connections} connections, ${options.duration} s per run after ${options.warmup} s of warm-up`,
    );
    out(
      `${version.split(' on ')[0]} (${embedded ? 'embedded' : 'DATABASE_URL'}${stats ? ', pg_stat_statements' : ''}), ${os.cpus().length} CPUs, Node ${process.versions.node}; both servers: pool of ${options.pool}, connections recycled after ${options.maxUses} uses, key cache ${KEY_CACHE_TTL_MS / 1000} s${args.pg.length ? `; PostgreSQL settings: ${args.pg.join(', ')}` : ''}`,
    );

    const seedStart = performance.now();
    const tenants = await seedBenchTenants(
      { pool: seedPool, migrations, actor: 'bench', retentionDays: 30, roleLogin: false },
      {
        count: options.tenants,
        today: TODAY,
        concurrency: SEED_CONCURRENCY,
        signal: stopping.signal,
      },
    );
    const seededMs = performance.now() - seedStart;
    await seedPool.query(sql.unsafe`VACUUM (ANALYZE)`);
    const analyzedMs = performance.now() - seedStart - seededMs;
    const rows = await seedPool.one(sql.type(
      z.object({
        products: z.number(),
        sales: z.number(),
        inventory: z.number(),
        forecasts: z.number(),
      }),
    )`
      /* benchRowCounts */
      SELECT
        coalesce(sum(n_live_tup) FILTER (WHERE relname = 'products'), 0)::int8 AS products,
        coalesce(sum(n_live_tup) FILTER (WHERE relname = 'sales'), 0)::int8 AS sales,
        coalesce(sum(n_live_tup) FILTER (WHERE relname = 'inventory'), 0)::int8 AS inventory,
        coalesce(sum(n_live_tup) FILTER (WHERE relname = 'forecasts'), 0)::int8 AS forecasts
      FROM pg_stat_user_tables WHERE schemaname LIKE ${String.raw`tenant\_%`}`);
    out(
      `seeding: ${tenants.length} tenants with ${rows.products} products, ${rows.inventory} stock rows, ${rows.sales} sales, ${rows.forecasts} forecasts in ${(seededMs / 1000).toFixed(1)} s (+ ${(analyzedMs / 1000).toFixed(1)} s VACUUM ANALYZE); data ends ${TODAY}`,
    );

    // The server as shipped (plan limits, requests metered in memory), and the same server
    // without plan limits and metering, and with metering folded into each request's first
    // statement: the cost of each, measured in the same run.
    const graphqlServer = async (metering: 'memory' | 'transaction' | 'off') => {
      const pool = await createDatabasePool({
        ...defaultPoolSettings,
        url: url.toString(),
        maxSize: options.pool,
        maxUses: options.maxUses,
        interceptors: [counter.interceptor],
      });
      appPools.push(pool);
      const app = await buildApp({
        pool,
        migrations,
        logger: createLogger('silent'),
        apiKeyCacheTtlMs: KEY_CACHE_TTL_MS,
        metering,
      });
      apps.push(app);
      await app.listen({ host: '127.0.0.1', port: 0 });
      return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/graphql`;
    };
    const graphqlUrl = await graphqlServer('memory');
    const unlimitedUrl = await graphqlServer('off');
    const inTransactionUrl = await graphqlServer('transaction');
    baseline = await startBaseline({
      url: url.toString(),
      pool: { ...defaultPoolSettings, maxSize: options.pool, maxUses: options.maxUses },
      keyCacheTtlMs: KEY_CACHE_TTL_MS,
    });

    const scenarios = benchScenarios(TODAY);
    const checked = [tenants[0]!, tenants[1] ?? tenants[0]!, tenants.at(-1)!];
    for (const scenario of scenarios) {
      const counts = [];
      for (const tenant of checked)
        counts.push(await verify(graphqlUrl, baseline.url, scenario, tenant));
      // One more request, with the key now cached: the statements of a steady-state request.
      counter.record();
      await verify(graphqlUrl, baseline.url, scenario, checked[1]!);
      const names = counter.stop();
      out(
        `verified ${scenario.operationName}: same JSON from both servers for ${checked.map((t) => t.tenant.slug).join(', ')} (${counts.join(', ')} rows); GraphQL statements: ${['START TRANSACTION', ...names, 'COMMIT'].join(', ')}`,
      );
    }
    out();
    out(
      `  ${'server'.padEnd(10)}${pad('requests/s', 12)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('failed', 8)}${pad('SQL/req', 10)}`,
    );

    const keys = tenants.map((tenant) => tenant.key);
    for (const scenario of scenarios) {
      out(scenario.label);
      const body = requestBody(scenario);
      const results = new Map<string, Measured[]>();
      // The two servers whose difference is smallest run twice, in A B ... B A order, so a drift
      // in the machine's speed during the run falls on both alike.
      for (const [name, target] of [
        ['GraphQL', graphqlUrl],
        ['no limits', unlimitedUrl],
        ['tx meter', inTransactionUrl],
        ['baseline', baseline.url],
        ['no limits', unlimitedUrl],
        ['GraphQL', graphqlUrl],
      ] as const) {
        const job = { url: target, body, keys, connections: options.connections };
        if (options.warmup > 0) await runLoad({ ...job, durationSeconds: options.warmup });
        counter.reset();
        baseline.resetStatements();
        await stats?.reset();
        const load = await runLoad({ ...job, durationSeconds: options.duration });
        const issued =
          name === 'baseline' ? baseline.statements() : counter.count() + 2 * load.requests;
        const server = await stats?.read();
        const total = server?.reduce((sum, row) => sum + row.calls, 0) ?? 0;
        const measured: Measured = {
          ...load,
          statements: issued / Math.max(1, load.requests),
          server: server && {
            calls: total / Math.max(1, load.requests),
            ms: server.reduce((sum, row) => sum + row.ms, 0) / Math.max(1, load.requests),
            top: server
              .slice(0, 4)
              .map(
                (row) =>
                  `${row.name} ${fixed(row.ms / Math.max(1, row.calls), 3)} ms x ${fixed(row.calls / Math.max(1, load.requests), 2)}`,
              )
              .join(', '),
          },
        };
        results.set(name, [...(results.get(name) ?? []), measured]);
        printRow(
          name,
          measured,
          {
            GraphQL:
              '(as shipped: plan limits, requests metered in memory and flushed each second)',
            'no limits': '(the same server without plan limits or metering)',
            'tx meter': '(plan limits, each request counted in its first statement instead)',
            baseline: '(its own client.query calls)',
          }[name],
        );
      }
      /** All runs of a server as one: requests and time added up, the slower p50. */
      const merged = (name: string): Measured =>
        results.get(name)!.reduce((sum, m) => ({
          ...sum,
          requests: sum.requests + m.requests,
          seconds: sum.seconds + m.seconds,
          errors: sum.errors + m.errors,
          non2xx: sum.non2xx + m.non2xx,
          mismatches: sum.mismatches + m.mismatches,
          timeouts: sum.timeouts + m.timeouts,
          p50: Math.max(sum.p50, m.p50),
        }));
      const [real, unlimited, inTransaction, base] = [
        'GraphQL',
        'no limits',
        'tx meter',
        'baseline',
      ].map(merged) as [Measured, Measured, Measured, Measured];
      const rate = (m: Measured) => m.requests / m.seconds;
      const detail = (m: Measured) =>
        m.errors || m.non2xx || m.mismatches || m.timeouts
          ? ` [errors ${m.errors}, timeouts ${m.timeouts}, non-2xx ${m.non2xx}, GraphQL errors ${m.mismatches}]`
          : '';
      out(
        `  GraphQL / baseline: requests/s ${fixed(rate(real) / rate(base), 2)}x, p50 ${fixed(real.p50 / base.p50, 2)}x${detail(real)}${detail(base)}`,
      );
      out(
        `  plan limits and metering (both runs): ${fixed(rate(real), 1)} against ${fixed(rate(unlimited), 1)} requests/s without, ${fixed((rate(real) / rate(unlimited) - 1) * 100, 1)}%${detail(unlimited)}; metering in the transaction instead: ${fixed(rate(inTransaction), 1)} requests/s, ${fixed((rate(inTransaction) / rate(real) - 1) * 100, 1)}%${detail(inTransaction)}`,
      );
    }
  } finally {
    for (const app of apps) await app.close();
    await baseline?.close();
    for (const pool of appPools) await pool.end();
    const roles = config.databaseUrl
      ? await seedPool.anyFirst(sql.unsafe`SELECT schema_name FROM public.tenants`).catch(() => [])
      : [];
    await seedPool.end();
    await admin.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([dbName])} WITH (FORCE)`);
    for (const role of roles) {
      await admin.query(sql.unsafe`DROP ROLE IF EXISTS ${sql.identifier([role as string])}`);
    }
    await admin.end();
    await embedded?.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

// Apollo Server stops itself on SIGINT / SIGTERM and then raises the signal again; a listener that
// stays registered keeps that second signal from killing the process before the cleanup has run.
const onSignal = () => stopping.abort();
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
try {
  await main();
} catch (error) {
  process.exitCode = stopping.signal.aborted ? 130 : 1;
  process.stderr.write(
    stopping.signal.aborted
      ? 'bench: interrupted; the servers, the cluster and its directory are gone\n'
      : `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
} finally {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
