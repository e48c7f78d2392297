/**
 * `npm run bench:tenants`: what a database of many tenants costs, each figure next to a baseline
 * measured in the same run: provisioning per block of tenants, the catalog's size, migrations,
 * `migrate status` and `tenants list`, and a small request (viewer plus 5 products) served over
 * 10, 1,000 and all the tenants by the same server, with the PostgreSQL backends' memory. Uses a
 * throwaway embedded PostgreSQL with default (durable) settings, or a fresh database on
 * DATABASE_URL (no backend memory then: it is read from /proc on this machine).
 *
 *   npm run bench:tenants -- --tenants 10000 --concurrency 4 --duration 15
 */
import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pMap from 'p-map';
import { createPool, sql, type Interceptor } from 'slonik';
import { z } from 'zod';
import { defaultPoolSettings, loadConfig, projectRoot } from '../config.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { latestVersion, loadMigrations } from '../db/migrations/files.js';
import { migrate, readStatus, rollback } from '../db/migrations/runner.js';
import { createDatabasePool } from '../db/pool.js';
import { executeScript } from '../db/sql.js';
import { createTenant, listTenants } from '../tenants/lifecycle.js';
import { measureRequests } from './tenants-load.js';

const { values: args } = parseArgs({
  options: {
    tenants: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '4' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
  },
});
const tenants = Number(args.tenants);
const concurrency = Number(args.concurrency);
const duration = Number(args.duration);
const connections = Number(args.connections);
if (
  !Number.isInteger(tenants) ||
  tenants < 100 ||
  tenants > 100_000 ||
  !Number.isInteger(concurrency) ||
  concurrency < 1 ||
  !Number.isInteger(duration) ||
  duration < 0 ||
  duration > 600 ||
  !Number.isInteger(connections) ||
  connections < 1 ||
  connections > 1_000
) {
  process.stderr.write(
    'usage: bench:tenants [--tenants 100..100000] [--concurrency N>=1] [--duration 0..600 s per load run, 0: none] [--connections 1..1000]\n',
  );
  process.exit(2);
}
const config = loadConfig();
const stopping = new AbortController();
process.once('SIGINT', () => stopping.abort());
process.once('SIGTERM', () => stopping.abort());

const out = (line = '') => process.stdout.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (count: number, ms: number) => `${((count * 1000) / ms).toFixed(1)}/s`;

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await fn();
  return [result, performance.now() - start];
}

/**
 * CPU seconds the PostgreSQL cluster has used: the postmaster's own and its exited children's
 * (it reaps its backends), plus every live backend's, from /proc. A figure that a busy machine
 * does not inflate the way it does wall-clock rates. Undefined off Linux or for a remote server.
 */
async function clusterCpuSeconds(dataDir: string | undefined): Promise<number | undefined> {
  if (!dataDir) return undefined;
  const ticks = 100; // USER_HZ on Linux
  const stat = async (pid: number | string) => {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    // Fields after the command name (which may hold spaces): state is field 3.
    return text?.slice(text.lastIndexOf(')') + 2).split(' ');
  };
  const postmaster = Number(
    (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0],
  );
  const own = await stat(postmaster);
  if (!own) return undefined;
  // utime, stime, cutime, cstime are fields 14-17, so 11-14 of what follows the name.
  let total = own.slice(11, 15).reduce((sum, v) => sum + Number(v), 0);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = await stat(entry);
    if (fields && Number(fields[1]) === postmaster)
      total += Number(fields[11]) + Number(fields[12]);
  }
  return total / ticks;
}

/** A statement's name: its leading comment, or its first words. */
const statementName = (text: string) =>
  /^\s*\/\*\s*(\w+)\s*\*\//.exec(text)?.[1] ??
  text
    .trim()
    .split(/\s+/)
    .slice(0, 3)
    .join(' ')
    .replace(/"tenant_[0-9a-f]{32}"/g, '<tenant>');

/** Counts statements, and sums their time by name between two resets. */
function counter() {
  let n = 0;
  const started = new Map<string, number>();
  const byName = new Map<string, number>();
  const interceptor: Interceptor = {
    name: 'bench.counter',
    beforeQueryExecution: (context) => {
      n += 1;
      started.set(context.queryId, performance.now());
      return null;
    },
    afterQueryExecution: (context, query) => {
      const start = started.get(context.queryId);
      started.delete(context.queryId);
      if (start !== undefined) {
        const name = statementName(query.sql);
        byName.set(name, (byName.get(name) ?? 0) + performance.now() - start);
      }
      return null;
    },
  };
  return {
    interceptor,
    count: () => n,
    reset: () => ((n = 0), byName.clear()),
    /** The statements that took the most time since the last reset, in ms per `per`. */
    slowest: (per: number, top = 4) =>
      [...byName]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([name, ms]) => `${name} ${(ms / per).toFixed(1)} ms`)
        .join(', '),
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
  // No statement timeout: dropping a database of 10,000 tenant schemas takes minutes.
  const admin = await createPool(adminUrl, {
    maximumPoolSize: 1,
    statementTimeout: 'DISABLE_TIMEOUT',
  });
  admin.on('error', () => {}); // slonik also emits what it throws; the throw is handled
  // Everything runs as a login role like production's: CREATEROLE and the database's owner, not
  // a superuser (for whom PostgreSQL skips the role-membership checks that tenant roles cost).
  const loginRole = `${dbName}_app`;
  const password = randomBytes(18).toString('base64url');
  await admin.query(
    sql.unsafe`CREATE ROLE ${sql.identifier([loginRole])} LOGIN CREATEROLE PASSWORD ${sql.literalValue(password)}`,
  );
  await admin.query(
    sql.unsafe`CREATE DATABASE ${sql.identifier([dbName])} OWNER ${sql.identifier([loginRole])}`,
  );
  // Only to read its own backends' memory (pg_backend_memory_contexts).
  await admin.query(sql.unsafe`GRANT pg_read_all_stats TO ${sql.identifier([loginRole])}`);
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  url.username = loginRole;
  url.password = password;
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
      `${version.split(' on ')[0]} (${server ? 'embedded, default settings' : 'DATABASE_URL'}), ${os.cpus().length} CPUs, Node ${process.versions.node}; as ${loginRole} (CREATEROLE, owner of the database, not a superuser)`,
    );
    out();

    const dataDir = server ? path.join(workDir, 'pg') : undefined;
    // Baseline: a bare schema with the same DDL (no role, grants, bookkeeping or audit).
    const script = migrations.tenant.map((file) => file.up).join('\n');
    const bare = async (label: string, count: number) => {
      const names = Array.from({ length: count }, (_, i) => `bench_bare_${label}_${i}`);
      const cpuBefore = await clusterCpuSeconds(dataDir);
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
      const cpuAfter = await clusterCpuSeconds(dataDir);
      const cpuMs =
        cpuBefore === undefined || cpuAfter === undefined
          ? undefined
          : ((cpuAfter - cpuBefore) * 1000) / count;
      return { ms, cpu: cpuMs === undefined ? '' : `, ${cpuMs.toFixed(0)} ms PostgreSQL CPU each` };
    };
    const baselineCount = Math.min(100, tenants);
    const block = tenants >= 10_000 ? 1_000 : Math.max(100, Math.floor(tenants / 10));
    await bare('warmup', Math.min(20, tenants)); // connections and caches, not counted
    const bareBefore = await bare('before', baselineCount);

    // The largest ACL among the shared objects: it must not grow with the number of tenants.
    const largestSharedAcl = () =>
      pool.oneFirst(sql.type(z.object({ bytes: z.number() }))`
        /* benchLargestSharedAcl */
        SELECT coalesce(max(pg_column_size(c.relacl)), 0)::int8 AS bytes
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname !~ '^tenant_[0-9a-f]{32}$' AND c.relacl IS NOT NULL`);
    const provision = (i: number) =>
      createTenant(ctx, {
        slug: `bench-${String(i).padStart(6, '0')}`,
        name: `Bench ${i}`,
        tier: 'professional',
      });

    statements.reset();
    const provisionStart = performance.now();
    await provision(0);
    const aclAfterFirst = await largestSharedAcl();
    const finishedAt: number[] = [performance.now()];
    // Where each block's time goes, by statement (summed over the concurrent provisionings).
    const blockStatements: string[] = [];
    let statementsSoFar = 0;
    const blockCpu: number[] = [];
    let cpuMark = await clusterCpuSeconds(dataDir);
    await pMap(
      Array.from({ length: tenants - 1 }, (_, i) => i + 1),
      async (i) => {
        await provision(i);
        finishedAt.push(performance.now());
        if (finishedAt.length % block === 0) {
          blockStatements.push(statements.slowest(block));
          const cpu = await clusterCpuSeconds(dataDir);
          if (cpu !== undefined && cpuMark !== undefined) blockCpu.push(cpu - cpuMark);
          cpuMark = cpu;
          statementsSoFar += statements.count();
          statements.reset();
          if (process.stderr.isTTY) {
            process.stderr.write(`  provisioned ${finishedAt.length} of ${tenants}\r`);
          }
        }
      },
      { concurrency },
    );
    const provisionMs = performance.now() - provisionStart;
    const perTenantStatements = (statementsSoFar + statements.count()) / tenants;
    const bareAfter = await bare('after', baselineCount);

    out('provisioning (row, role, schema, 9 tables with their indexes, state, company, audit)');
    out(
      `  createTenant x ${tenants}: ${seconds(provisionMs)}, ${rate(tenants, provisionMs)} (${perTenantStatements.toFixed(0)} statements each)`,
    );
    const blocks: string[] = [];
    for (let from = 0; from < tenants; from += block) {
      const to = Math.min(tenants, from + block);
      const startedAt = from === 0 ? provisionStart : finishedAt[from - 1]!;
      blocks.push(`${rate(to - from, finishedAt[to - 1]! - startedAt)}`);
    }
    out(`  per block of ${block}: ${blocks.join(', ')}`);
    if (blockCpu.length > 0) {
      out(
        `  PostgreSQL CPU per tenant, per block: ${blockCpu.map((cpu) => `${((cpu * 1000) / block).toFixed(0)} ms`).join(', ')}`,
      );
    }
    if (blockStatements.length > 1) {
      out(`  slowest statements per tenant, first block: ${blockStatements[0]}`);
      out(`  slowest statements per tenant, last block: ${blockStatements.at(-1)}`);
    }
    out(
      `  baseline, bare CREATE SCHEMA + the same DDL x ${baselineCount}: ${rate(baselineCount, bareBefore.ms)}${bareBefore.cpu} on an empty database, ${rate(baselineCount, bareAfter.ms)}${bareAfter.cpu} beside ${tenants} tenants`,
    );
    out();

    const catalog = await pool.one(sql.type(
      z.object({
        relations: z.number(),
        attributes: z.number(),
        memberships: z.number(),
        bytes: z.number(),
      }),
    )`
      /* benchCatalogSize */
      SELECT (SELECT count(*) FROM pg_class)::int8 AS relations,
        (SELECT count(*) FROM pg_attribute)::int8 AS attributes,
        (SELECT count(*) FROM pg_auth_members)::int8 AS memberships,
        pg_database_size(current_database())::int8 AS bytes`);
    out(`catalog with ${tenants} tenants`);
    out(
      `  pg_class ${catalog.relations} rows, pg_attribute ${catalog.attributes} rows, pg_auth_members ${catalog.memberships} rows; database ${(catalog.bytes / 2 ** 20).toFixed(0)} MiB`,
    );
    out(
      `  largest ACL outside the tenant schemas: ${aclAfterFirst} bytes after the first tenant, ${await largestSharedAcl()} bytes after the last (a row holds at most 8,160)`,
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
    const median = async (fn: () => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i += 1) times.push((await timed(fn))[1]);
      return times.sort((x, y) => x - y)[2]!;
    };
    out(
      `  capliquify migrate status: median ${(await median(() => readStatus(pool, migrations))).toFixed(1)} ms; capliquify tenants list: median ${(await median(() => listTenants(pool))).toFixed(0)} ms for ${tenants} rows`,
    );
    out();

    // A one-column migration over every tenant, at concurrency 1 and at the configured one: the
    // version after the project's latest tenant migration.
    const next = String(latestVersion(migrations.tenant) + 1).padStart(4, '0');
    await writeFile(
      path.join(sqlDir, 'tenant', `${next}_bench_column.sql`),
      'ALTER TABLE products ADD COLUMN bench_note text;\n',
    );
    await writeFile(
      path.join(sqlDir, 'tenant', `${next}_bench_column.down.sql`),
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
    out();

    if (duration > 0) {
      const refs = await pool.any(sql.type(z.object({ id: z.string(), schemaName: z.string() }))`
        SELECT id, schema_name AS "schemaName" FROM public.tenants ORDER BY slug`);
      await measureRequests({
        url: url.toString(),
        pool,
        migrations,
        config,
        tenants: refs,
        duration,
        connections,
        concurrency,
        signal: stopping.signal,
        out,
      });
    }
  } catch (error) {
    // Said before the clean-up, which takes a while and could fail in its turn.
    process.stderr.write(`bench:tenants failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  } finally {
    // Roles belong to the cluster: on a shared server, drop them with the database, tenant roles
    // before their creators, and those before the group and the login role. The embedded
    // cluster goes altogether.
    const roles = config.databaseUrl
      ? await pool
          .anyFirst(
            sql.unsafe`
            SELECT schema_name FROM public.tenants
            UNION ALL SELECT rolname FROM pg_roles
              WHERE starts_with(rolname, public.tenant_role_creator_prefix())
            UNION ALL SELECT public.tenant_group_role()::text`,
          )
          .catch(() => [])
      : [];
    await pool.end();
    await admin.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([dbName])} WITH (FORCE)`);
    if (config.databaseUrl) {
      for (const role of [...roles, loginRole]) {
        await admin.query(sql.unsafe`DROP ROLE IF EXISTS ${sql.identifier([role as string])}`);
      }
    }
    await admin.end();
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

await main();
