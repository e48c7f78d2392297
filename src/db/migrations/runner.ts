/**
 * The migration runner. Public migrations first, then tenant migrations fanned out over every
 * tenant schema with bounded concurrency, one transaction per tenant. Each tenant's applied version
 * lives in public.tenant_migration_state, so "is anything pending?" is one query however many
 * tenants there are, and a run that crashed or failed for some tenants resumes where it stopped.
 */
import pMap from 'p-map';
import { z } from 'zod';
import type { CommonQueryMethods, DatabasePool } from 'slonik';
import { MigrationError } from '../../errors.js';
import { searchPathFor, type TenantRef } from '../../tenants/names.js';
import { sqlStateOf } from '../errors.js';
import {
  createExecutorFunction,
  describeScriptFailure,
  executeScript,
  revokeExecutorFunction,
  sql,
} from '../sql.js';
import { latestVersion, type MigrationFile, type MigrationSet, type Scope } from './files.js';

export const AppliedRow = z.object({ version: z.number(), name: z.string(), checksum: z.string() });
type AppliedRow = z.infer<typeof AppliedRow>;

const StatusRow = z.object({
  public_applied: z.array(AppliedRow),
  tenant_registry: z.array(AppliedRow),
  tenant_versions: z.array(z.object({ version: z.number(), tenants: z.number() })),
  failures: z.array(z.object({ slug: z.string(), version: z.number(), error: z.string() })),
  failure_count: z.number(),
});

export type MigrationStatus = {
  publicApplied: AppliedRow[];
  publicPending: MigrationFile[];
  tenantRegistry: AppliedRow[];
  tenantLatest: number;
  /** How many tenants sit at each version. */
  tenantVersions: { version: number; tenants: number }[];
  tenantsTotal: number;
  tenantsBehind: number;
  /** Tenants whose last migration attempt failed (at most 100 listed). */
  failures: { slug: string; version: number; error: string }[];
  failureCount: number;
};

export type TenantOutcome =
  | { slug: string; outcome: 'migrated'; from: number; to: number }
  | { slug: string; outcome: 'current' }
  | { slug: string; outcome: 'failed'; error: string };

export type Progress = { done: number; total: number; last: TenantOutcome };

export type RunOptions = {
  concurrency?: number;
  /** How long to wait for another run's lock before giving up (default 30 s). */
  lockWaitMs?: number;
  onProgress?: (progress: Progress) => void;
};

export type MigrateSummary = {
  publicApplied: string[];
  tenantTarget: number;
  migrated: number;
  alreadyCurrent: number;
  failed: { slug: string; error: string }[];
};

export type RollbackSummary = {
  scope: Scope;
  /** The migration that was rolled back, or undefined when nothing was applied. */
  rolledBack: string | undefined;
  toVersion: number;
  migrated: number;
  failed: { slug: string; error: string }[];
};

const LOCK_KEY = 'capliquify.migrate';
const MIGRATION_LOCK_TIMEOUT = '5s';
const DEFAULT_LOCK_WAIT_MS = 30_000;

/* -------------------------------------------------------------------------------------------- */
/* Status                                                                                        */
/* -------------------------------------------------------------------------------------------- */

const statusQuery = sql.type(StatusRow)`
  /* migrationStatus */
  SELECT
    (SELECT coalesce(json_agg(json_build_object('version', version, 'name', name, 'checksum', checksum)
       ORDER BY version), '[]'::json) FROM public.schema_migrations) AS public_applied,
    (SELECT coalesce(json_agg(json_build_object('version', version, 'name', name, 'checksum', checksum)
       ORDER BY version), '[]'::json) FROM public.tenant_migrations) AS tenant_registry,
    (SELECT coalesce(json_agg(json_build_object('version', version, 'tenants', n) ORDER BY version), '[]'::json)
       FROM (SELECT version, count(*)::int AS n FROM public.tenant_migration_state GROUP BY version) v
    ) AS tenant_versions,
    (SELECT coalesce(json_agg(f), '[]'::json) FROM (
       SELECT t.slug, s.version, s.last_error AS error
       FROM public.tenant_migration_state s JOIN public.tenants t ON t.id = s.tenant_id
       WHERE s.last_error IS NOT NULL ORDER BY t.slug LIMIT 100) f
    ) AS failures,
    (SELECT count(*)::int FROM public.tenant_migration_state WHERE last_error IS NOT NULL) AS failure_count
`;

/** The runner's own tables and the script executor: everything a first migration needs. */
async function bootstrap(db: CommonQueryMethods): Promise<void> {
  for (const table of ['schema_migrations', 'tenant_migrations']) {
    await db.query(sql.unsafe`
      CREATE TABLE IF NOT EXISTS ${sql.identifier(['public', table])} (
        version integer PRIMARY KEY CHECK (version > 0),
        name text NOT NULL,
        checksum char(64) NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
  }
  await db.query(createExecutorFunction);
  await db.query(revokeExecutorFunction);
}

export async function readStatus(
  pool: CommonQueryMethods,
  set: MigrationSet,
): Promise<MigrationStatus> {
  let row: z.infer<typeof StatusRow>;
  try {
    row = await pool.one(statusQuery);
  } catch (error) {
    if (sqlStateOf(error) !== '42P01') throw error;
    // A database the runner has not fully set up yet: nothing of ours is applied.
    row = {
      public_applied: [],
      tenant_registry: [],
      tenant_versions: [],
      failures: [],
      failure_count: 0,
    };
    if (
      await pool.exists(
        sql.unsafe`SELECT 1 FROM pg_class WHERE oid = to_regclass('public.schema_migrations')`,
      )
    ) {
      row.public_applied = [
        ...(await pool.any(sql.type(AppliedRow)`
          SELECT version, name, checksum FROM public.schema_migrations ORDER BY version`)),
      ];
    }
  }
  const appliedVersions = new Set(row.public_applied.map((applied) => applied.version));
  const tenantLatest = latestVersion(set.tenant);
  const tenantsTotal = row.tenant_versions.reduce((sum, entry) => sum + entry.tenants, 0);
  return {
    publicApplied: row.public_applied,
    publicPending: set.public.filter((file) => !appliedVersions.has(file.version)),
    tenantRegistry: row.tenant_registry,
    tenantLatest,
    tenantVersions: row.tenant_versions,
    tenantsTotal,
    tenantsBehind: row.tenant_versions
      .filter((entry) => entry.version < tenantLatest)
      .reduce((sum, entry) => sum + entry.tenants, 0),
    failures: row.failures,
    failureCount: row.failure_count,
  };
}

/** Refuses files whose applied version was edited, or applied migrations whose file is gone. */
export function verifyAppliedFiles(
  files: readonly MigrationFile[],
  applied: readonly AppliedRow[],
  folder: string,
) {
  const byVersion = new Map(files.map((file) => [file.version, file]));
  for (const row of applied) {
    const file = byVersion.get(row.version);
    if (!file) {
      throw new MigrationError(
        `Migration ${String(row.version).padStart(4, '0')}_${row.name} was applied but its file is missing from ${folder}: restore it.`,
      );
    }
    if (file.checksum !== row.checksum.trim()) {
      throw new MigrationError(
        `${file.file} was edited after it was applied (checksum differs): restore the applied version and put the change in a new migration.`,
        { file: file.file },
      );
    }
  }
}

/** Refuses a run when an applied migration was edited or removed since it was applied. */
export function verifyApplied(set: MigrationSet, status: MigrationStatus): void {
  verifyAppliedFiles(set.public, status.publicApplied, `${set.dir}/public`);
  verifyAppliedFiles(set.tenant, status.tenantRegistry, `${set.dir}/tenant`);
  const latestApplied = status.publicApplied.at(-1)?.version ?? 0;
  const outOfOrder = status.publicPending.find((file) => file.version < latestApplied);
  if (outOfOrder) {
    throw new MigrationError(
      `${outOfOrder.file} is older than the latest applied public migration: give it a higher version.`,
    );
  }
}

const highestTenantVersion = (status: MigrationStatus) =>
  Math.max(0, ...status.tenantVersions.map((entry) => entry.version));

export const isUpToDate = (status: MigrationStatus) =>
  status.publicPending.length === 0 &&
  status.tenantVersions.every((entry) => entry.version === status.tenantLatest) &&
  // Every version a schema runs has its checksum recorded (a crashed run may have missed it).
  (status.tenantRegistry.at(-1)?.version ?? 0) >= highestTenantVersion(status);

/* -------------------------------------------------------------------------------------------- */
/* Applying files                                                                                */
/* -------------------------------------------------------------------------------------------- */

async function runFile(db: CommonQueryMethods, file: MigrationFile, script: string, what: string) {
  try {
    await executeScript(db, script);
  } catch (error) {
    const failure = describeScriptFailure(error, script);
    const where = failure.line ? `${what} line ${failure.line}` : what;
    throw new MigrationError(`${where}: ${failure.message}`, {
      file: file.file,
      sqlState: failure.code,
    });
  }
}

/** Records the tenant migration files in public.tenant_migrations (the registry of checksums). */
export async function registerTenantFiles(db: CommonQueryMethods, files: readonly MigrationFile[]) {
  if (files.length === 0) return;
  await db.query(sql.unsafe`
    /* registerTenantMigrations */
    INSERT INTO public.tenant_migrations (version, name, checksum)
    SELECT * FROM ${sql.unnest(
      files.map((file) => [file.version, file.name, file.checksum]),
      ['int4', 'text', 'text'],
    )}
    ON CONFLICT (version) DO NOTHING`);
}

/**
 * Settings of a migration transaction, LOCAL to it: the tenant schema first on the search_path
 * (when migrating a tenant), no statement timeout (a rewrite of a large table may take minutes),
 * and a lock timeout, so a migration waiting behind a long request fails and is retried later
 * rather than queueing every request on that table behind it.
 */
export async function enterMigration(tx: CommonQueryMethods, tenant?: TenantRef) {
  await tx.query(sql.unsafe`
    /* enterMigration */
    SELECT set_config('search_path', ${tenant ? searchPathFor(tenant) : 'public'}, true),
      set_config('statement_timeout', '0', true),
      set_config('lock_timeout', ${MIGRATION_LOCK_TIMEOUT}, true)`);
}

/**
 * Brings one tenant schema from `fromVersion` to the latest file, inside the caller's transaction:
 * the files run as the owner with search_path set (LOCAL) to the tenant schema. The tenant's role
 * gets its rights on new tables from the schema's default privileges (see createTenant), because
 * `GRANT ... ON ALL TABLES IN SCHEMA` scans all of pg_class and grows with the number of tenants.
 */
export async function applyTenantFiles(
  tx: CommonQueryMethods,
  tenant: TenantRef,
  files: readonly MigrationFile[],
  fromVersion: number,
): Promise<number> {
  await enterMigration(tx, tenant);
  let version = fromVersion;
  for (const file of files) {
    if (file.version <= fromVersion) continue;
    await runFile(tx, file, file.up, file.file);
    version = file.version;
  }
  return version;
}

/* -------------------------------------------------------------------------------------------- */
/* Runs                                                                                          */
/* -------------------------------------------------------------------------------------------- */

/**
 * Holds a session advisory lock on one pooled connection while `fn` runs, waiting up to
 * `waitMs` for another run (another server starting, say) to finish first.
 */
async function withMigrationLock<T>(
  pool: DatabasePool,
  waitMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  return pool.connect(async (connection) => {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const locked = await connection.oneFirst(sql.type(z.object({ locked: z.boolean() }))`
        /* migrationLock */ SELECT pg_try_advisory_lock(hashtext(${LOCK_KEY})) AS locked`);
      if (locked) break;
      if (Date.now() >= deadline) {
        throw new MigrationError(
          'Another migration run is in progress: wait for it to finish, then run this again.',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    try {
      return await fn();
    } finally {
      await connection.query(sql.unsafe`SELECT pg_advisory_unlock(hashtext(${LOCK_KEY}))`);
    }
  });
}

/**
 * New tenant tables reach tenant roles through the default privileges of the role that created
 * each schema, so only that role may run tenant migrations.
 */
async function assertOwnsTenantSchemas(pool: CommonQueryMethods): Promise<void> {
  const other = await pool.maybeOne(sql.type(z.object({ owner: z.string(), me: z.string() }))`
    /* tenantSchemaOwner */
    SELECT pg_get_userbyid(n.nspowner) AS owner, current_user AS me
    FROM public.tenants t JOIN pg_namespace n ON n.nspname = t.schema_name
    WHERE n.nspowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
    LIMIT 1`);
  if (other) {
    throw new MigrationError(
      `Tenant schemas are owned by ${other.owner}, but this run connects as ${other.me}: run migrations as ${other.owner}.`,
    );
  }
}

const TenantTargetRow = z.object({
  id: z.string(),
  slug: z.string(),
  schema_name: z.string(),
  version: z.number(),
});

async function fanOut(
  pool: DatabasePool,
  targets: readonly z.infer<typeof TenantTargetRow>[],
  options: RunOptions,
  work: (tx: CommonQueryMethods, tenant: TenantRef, locked: number) => Promise<number | undefined>,
): Promise<TenantOutcome[]> {
  let done = 0;
  return pMap(
    targets,
    async (target): Promise<TenantOutcome> => {
      const tenant = { id: target.id, schemaName: target.schema_name };
      let outcome: TenantOutcome;
      try {
        outcome = await pool.transaction(async (tx) => {
          const locked = await tx.maybeOneFirst(sql.type(z.object({ version: z.number() }))`
            /* lockTenantMigrationState */
            SELECT version FROM public.tenant_migration_state WHERE tenant_id = ${target.id} FOR UPDATE`);
          if (locked === null) return { slug: target.slug, outcome: 'current' as const };
          const reached = await work(tx, tenant, locked);
          if (reached === undefined) return { slug: target.slug, outcome: 'current' as const };
          await tx.query(sql.unsafe`
            /* recordTenantMigration */
            UPDATE public.tenant_migration_state
            SET version = ${reached}, last_error = NULL, last_attempt_at = now(), updated_at = now()
            WHERE tenant_id = ${target.id}`);
          return { slug: target.slug, outcome: 'migrated' as const, from: locked, to: reached };
        }, 0);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await pool.query(sql.unsafe`
          /* recordTenantMigrationFailure */
          UPDATE public.tenant_migration_state
          SET last_error = ${message}, last_attempt_at = now()
          WHERE tenant_id = ${target.id}`);
        outcome = { slug: target.slug, outcome: 'failed', error: message };
      }
      done += 1;
      options.onProgress?.({ done, total: targets.length, last: outcome });
      return outcome;
    },
    { concurrency: options.concurrency ?? 4 },
  );
}

async function tenantsBelow(pool: CommonQueryMethods, version: number, exact = false) {
  return pool.any(sql.type(TenantTargetRow)`
    /* tenantsToMigrate */
    SELECT t.id, t.slug, t.schema_name, s.version
    FROM public.tenant_migration_state s JOIN public.tenants t ON t.id = s.tenant_id
    WHERE ${exact ? sql.fragment`s.version = ${version}` : sql.fragment`s.version < ${version}`}
    ORDER BY t.created_at, t.id`);
}

export async function migrate(
  pool: DatabasePool,
  set: MigrationSet,
  options: RunOptions = {},
): Promise<MigrateSummary> {
  const status = await readStatus(pool, set);
  verifyApplied(set, status);
  const tenantTarget = status.tenantLatest;
  if (isUpToDate(status)) {
    return {
      publicApplied: [],
      tenantTarget,
      migrated: 0,
      alreadyCurrent: status.tenantsTotal,
      failed: [],
    };
  }
  return withMigrationLock(pool, options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS, async () => {
    await bootstrap(pool);
    // Re-read under the lock: another run may have finished in the meantime.
    const current = await readStatus(pool, set);
    verifyApplied(set, current);
    if (current.tenantsBehind > 0) await assertOwnsTenantSchemas(pool);
    const publicApplied: string[] = [];
    for (const file of current.publicPending) {
      await pool.transaction(async (tx) => {
        await enterMigration(tx);
        await runFile(tx, file, file.up, file.file);
        await tx.query(sql.unsafe`
          INSERT INTO public.schema_migrations (version, name, checksum)
          VALUES (${file.version}, ${file.name}, ${file.checksum})`);
      }, 0);
      publicApplied.push(file.file);
    }
    const targets = await tenantsBelow(pool, tenantTarget);
    const outcomes = await fanOut(pool, targets, options, async (tx, tenant, locked) => {
      if (locked >= tenantTarget) return undefined;
      return applyTenantFiles(tx, tenant, set.tenant, locked);
    });
    // Record the checksums of the files some schema now runs. A file that failed everywhere
    // stays unrecorded, so it may still be fixed in place.
    const reached = Math.max(
      highestTenantVersion(current),
      ...outcomes.map((entry) => (entry.outcome === 'migrated' ? entry.to : 0)),
    );
    await registerTenantFiles(
      pool,
      set.tenant.filter((file) => file.version <= reached),
    );
    const migrated = outcomes.filter((entry) => entry.outcome === 'migrated').length;
    const failed = outcomes.flatMap((entry) =>
      entry.outcome === 'failed' ? [{ slug: entry.slug, error: entry.error }] : [],
    );
    return {
      publicApplied,
      tenantTarget,
      migrated,
      alreadyCurrent: current.tenantsTotal - migrated - failed.length,
      failed,
    };
  });
}

function requireDown(file: MigrationFile): string {
  if (file.down === undefined) {
    throw new MigrationError(
      `${file.file} has no down file (${file.file.replace(/\.sql$/, '.down.sql')}): it cannot be rolled back.`,
    );
  }
  return file.down;
}

/** Rolls back the latest applied migration of a scope through its down file. */
export async function rollback(
  pool: DatabasePool,
  set: MigrationSet,
  options: RunOptions & { scope?: Scope } = {},
): Promise<RollbackSummary> {
  const scope = options.scope ?? 'tenant';
  return withMigrationLock(pool, options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS, async () => {
    const status = await readStatus(pool, set);
    verifyApplied(set, status);
    if (scope === 'public') {
      const latest = status.publicApplied.at(-1);
      if (!latest) return { scope, rolledBack: undefined, toVersion: 0, migrated: 0, failed: [] };
      const file = set.public.find((candidate) => candidate.version === latest.version)!;
      const down = requireDown(file);
      await pool.transaction(async (tx) => {
        await enterMigration(tx);
        await runFile(tx, file, down, file.file.replace(/\.sql$/, '.down.sql'));
        await tx.query(
          sql.unsafe`DELETE FROM public.schema_migrations WHERE version = ${file.version}`,
        );
      }, 0);
      const previous = status.publicApplied.at(-2)?.version ?? 0;
      return { scope, rolledBack: file.file, toVersion: previous, migrated: 1, failed: [] };
    }

    const latest = status.tenantRegistry.at(-1);
    if (!latest) return { scope, rolledBack: undefined, toVersion: 0, migrated: 0, failed: [] };
    const file = set.tenant.find((candidate) => candidate.version === latest.version)!;
    const down = requireDown(file);
    const previous =
      set.tenant.filter((candidate) => candidate.version < file.version).at(-1)?.version ?? 0;
    const targets = await tenantsBelow(pool, file.version, true);
    if (targets.length > 0) await assertOwnsTenantSchemas(pool);
    const outcomes = await fanOut(pool, targets, options, async (tx, tenant, locked) => {
      if (locked !== file.version) return undefined;
      await enterMigration(tx, tenant);
      await runFile(tx, file, down, file.file.replace(/\.sql$/, '.down.sql'));
      return previous;
    });
    const failed = outcomes.flatMap((entry) =>
      entry.outcome === 'failed' ? [{ slug: entry.slug, error: entry.error }] : [],
    );
    if (failed.length === 0) {
      // No schema is at this version any more: forget its checksum so the file may change.
      await pool.query(sql.unsafe`
        DELETE FROM public.tenant_migrations t WHERE version = ${file.version}
        AND NOT EXISTS (SELECT 1 FROM public.tenant_migration_state s WHERE s.version >= ${file.version})`);
    }
    return {
      scope,
      rolledBack: file.file,
      toVersion: previous,
      migrated: outcomes.filter((entry) => entry.outcome === 'migrated').length,
      failed,
    };
  });
}
