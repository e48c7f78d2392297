/**
 * `npm run bench:tenants`: provisioning and migration figures over 1,000 tenants, each next to a
 * baseline measured in the same run. Uses a throwaway embedded PostgreSQL with default (durable)
 * settings, or a fresh database on DATABASE_URL.
 *
 *   npm run bench:tenants -- --tenants 1000 --concurrency 4
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pMap from 'p-map';
import { createPool, sql, type Interceptor } from 'slonik';
import { defaultPoolSettings, loadConfig, projectRoot } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { loadMigrations } from '../db/migrations/files.js';
import { migrate, rollback } from '../db/migrations/runner.js';
import { createDatabasePool } from '../db/pool.js';
import { executeScript } from '../db/sql.js';
import { createTenant } from '../tenants/lifecycle.js';

const { values: args } = parseArgs({
  options: {
    tenants: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
  },
});
const tenants = Number(args.tenants);
const concurrency = Number(args.concurrency);
if (
  !Number.isInteger(tenants) ||
  tenants < 100 ||
  !Number.isInteger(concurrency) ||
  concurrency < 1
) {
  process.stderr.write('usage: bench:tenants [--tenants N>=100] [--concurrency N>=1]\n');
  process.exit(2);
}
const config = loadConfig();

const out = (line = '') => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (count: number, ms: number) => `${((count * 1000) / ms).toFixed(1)}/s`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await fn();
  return [result, performance.now() - start];
}

function counter(): { interceptor: Interceptor; count: () => number; reset: () => void } {
  let n = 0;
  return {
    interceptor: { name: 'bench.counter', beforeQueryExecution: () => ((n += 1), null) },
    count: () => n,
    reset: () => (n = 0),
  };
}

async function main() {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'capliquify-bench-'));
  await chmod(workDir, 0o755);
  const server = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({
        dir: path.join(workDir, 'pg'),
        port: 55_000 + Math.floor(Math.random() * 5_000),
      });
  const adminUrl = config.databaseUrl ?? server!.adminUrl;
  const dbName = `cq_bench_${randomBytes(4).toString('hex')}`;
  const admin = await createPool(adminUrl, { maximumPoolSize: 1 });
  await admin.query(sql.unsafe`CREATE DATABASE ${sql.identifier([dbName])}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const statements = counter();
  const pool = await createDatabasePool({
    ...defaultPoolSettings,
    url: url.toString(),
    maxSize: concurrency + 2,
    interceptors: [statements.interceptor],
  });

  try {
    const sqlDir = path.join(workDir, 'sql');
    await cp(path.join(projectRoot, 'sql'), sqlDir, { recursive: true });
    const migrations = await loadMigrations(sqlDir);
    await migrate(pool, migrations);
    const ctx = { pool, migrations, actor: 'bench', retentionDays: 30, roleLogin: false };
    const version = (await pool.oneFirst(sql.unsafe`SELECT version()`)) as string;
    out(`CapLiquify tenant benchmark: ${tenants} tenants, concurrency ${concurrency}`);
    out(
      `${version.split(' on ')[0]} (${server ? 'embedded, default settings' : 'DATABASE_URL'}), ${os.cpus().length} CPUs, Node ${process.versions.node}`,
    );
    out();

    // Baseline: a bare schema with the same DDL (no role, grants, bookkeeping or audit).
    const script = migrations.tenant.map((file) => file.up).join('\n');
    const bare = async (label: string, count: number) => {
      const names = Array.from({ length: count }, (_, i) => `bench_bare_${label}_${i}`);
      const [, ms] = await timed(() =>
        pMap(
          names,
          (schema) =>
            pool.transaction(async (tx) => {
              await tx.query(sql.unsafe`CREATE SCHEMA ${sql.identifier([schema])}`);
              await tx.query(
                sql.unsafe`SELECT set_config('search_path', ${`"${schema}", public`}, true)`,
              );
              await executeScript(tx, script);
            }),
          { concurrency },
        ),
      );
      // Left in place (the database is dropped at the end): dropping would churn the catalog.
      return ms;
    };
    const baselineCount = Math.min(100, tenants);
    await bare('warmup', Math.min(20, tenants)); // connections and caches, not counted
    const bareBeforeMs = await bare('before', baselineCount);

    statements.reset();
    const finishedAt: number[] = [];
    const provisionStart = performance.now();
    await pMap(
      Array.from({ length: tenants }, (_, i) => i),
      async (i) => {
        await createTenant(ctx, {
          slug: `bench-${String(i).padStart(5, '0')}`,
          name: `Bench ${i}`,
        });
        finishedAt.push(performance.now());
      },
      { concurrency },
    );
    const provisionMs = performance.now() - provisionStart;
    const perTenantStatements = statements.count() / tenants;
    const window = Math.min(100, tenants);
    const firstMs = finishedAt[window - 1]! - provisionStart;
    const lastMs = finishedAt[tenants - 1]! - finishedAt[tenants - window - 1]!;
    const bareAfterMs = await bare('after', baselineCount);

    out('provisioning (row, role, schema, 9 tables with their indexes, state, company, audit)');
    out(
      `  createTenant x ${tenants}: ${seconds(provisionMs)}, ${rate(tenants, provisionMs)} (${perTenantStatements.toFixed(0)} statements each)`,
    );
    out(`    first ${window}: ${rate(window, firstMs)}; last ${window}: ${rate(window, lastMs)}`);
    out(
      `  baseline, bare CREATE SCHEMA + the same DDL x ${baselineCount}: ${rate(baselineCount, bareBeforeMs)} on an empty database, ${rate(baselineCount, bareAfterMs)} beside ${tenants} tenants`,
    );
    out();

    // Nothing pending: our runner reads one status row; the baseline asks every schema.
    const runs: number[] = [];
    let queries = 0;
    for (let i = 0; i < 5; i += 1) {
      statements.reset();
      const [summary, ms] = await timed(() => migrate(pool, migrations));
      if (summary.migrated !== 0) throw new Error('expected nothing to migrate');
      runs.push(ms);
      queries = statements.count();
    }
    runs.sort((x, y) => x - y);
    const ids = await pool.anyFirst(sql.unsafe`SELECT id FROM public.tenants ORDER BY 1`);
    statements.reset();
    const [, perSchemaMs] = await timed(async () => {
      for (const id of ids) {
        await pool.query(sql.unsafe`
          SELECT version FROM public.tenant_migration_state WHERE tenant_id = ${id as string}`);
      }
    });
    out(`migrate with nothing pending over ${tenants} tenants`);
    out(
      `  capliquify migrate: median ${runs[2]!.toFixed(1)} ms over 5 runs, ${queries} statement(s)`,
    );
    out(
      `  baseline, one version lookup per tenant: ${perSchemaMs.toFixed(0)} ms, ${statements.count()} statements`,
    );
    out();

    // A one-column migration over every tenant, at concurrency 1 and at the configured one.
    await writeFile(
      path.join(sqlDir, 'tenant', '0002_bench_column.sql'),
      'ALTER TABLE products ADD COLUMN bench_note text;\n',
    );
    await writeFile(
      path.join(sqlDir, 'tenant', '0002_bench_column.down.sql'),
      'ALTER TABLE products DROP COLUMN bench_note;\n',
    );
    const withColumn = await loadMigrations(sqlDir);
    out(`one-column migration (ALTER TABLE products ADD COLUMN) over ${tenants} tenants`);
    for (const level of [1, concurrency]) {
      const [summary, ms] = await timed(() => migrate(pool, withColumn, { concurrency: level }));
      if (summary.migrated !== tenants || summary.failed.length > 0)
        throw new Error(`migrate: ${JSON.stringify(summary.failed[0])}`);
      out(`  concurrency ${level}: ${seconds(ms)}, ${rate(tenants, ms)}`);
      const [back, backMs] = await timed(() => rollback(pool, withColumn, { concurrency: level }));
      if (back.migrated !== tenants) throw new Error('rollback did not revert every tenant');
      out(`  rollback at concurrency ${level}: ${seconds(backMs)}, ${rate(tenants, backMs)}`);
    }
  } finally {
    // Tenant roles belong to the cluster: on a shared server, drop them with the database.
    const roles = config.databaseUrl
      ? await pool.anyFirst(sql.unsafe`SELECT schema_name FROM public.tenants`).catch(() => [])
      : [];
    await pool.end();
    await admin.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([dbName])} WITH (FORCE)`);
    for (const role of roles) {
      await admin.query(sql.unsafe`DROP ROLE IF EXISTS ${sql.identifier([role as string])}`);
    }
    await admin.end();
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
