/**
 * A fresh database per test file, migrated with the project's real migrations. Dropped at the end
 * together with the tenant, creator and group roles it created (roles belong to the cluster, not
 * the database).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createPool, sql, type DatabasePool, type Interceptor } from 'slonik';
import { z } from 'zod';
import { defaultPoolSettings, projectRoot, type PoolSettings } from '../../src/config.js';
import { loadMigrations, type MigrationSet } from '../../src/db/migrations/files.js';
import { migrate } from '../../src/db/migrations/runner.js';
import { createDatabasePool } from '../../src/db/pool.js';
import type { LifecycleContext } from '../../src/tenants/lifecycle.js';

export const adminUrl = (): string => {
  const url = process.env.CAPLIQUIFY_TEST_ADMIN_URL;
  if (!url) throw new Error('CAPLIQUIFY_TEST_ADMIN_URL is not set: run the tests through jest');
  return url;
};

export const sqlDir = path.join(projectRoot, 'sql');

export function databaseUrl(name: string): string {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

export type TestDatabase = {
  name: string;
  url: string;
  pool: DatabasePool;
  migrations: MigrationSet;
  lifecycle: LifecycleContext;
  /** A second pool on the same database, with its own settings (e.g. one connection). */
  openPool(
    options?: Partial<PoolSettings> & { interceptors?: Interceptor[] },
  ): Promise<DatabasePool>;
  drop(): Promise<void>;
};

export async function withAdmin<T>(fn: (pool: DatabasePool) => Promise<T>): Promise<T> {
  const pool = await createPool(adminUrl(), { maximumPoolSize: 1, captureStackTrace: false });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

export async function createTestDatabase(
  options: { migrate?: boolean; sqlDir?: string } = {},
): Promise<TestDatabase> {
  const name = `cq_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`));
  const url = databaseUrl(name);
  const pools: DatabasePool[] = [];
  const openPool: TestDatabase['openPool'] = async (settings = {}) => {
    const pool = await createDatabasePool({ ...defaultPoolSettings, ...settings, url });
    pools.push(pool);
    return pool;
  };
  const pool = await openPool();
  const migrations = await loadMigrations(options.sqlDir ?? sqlDir);
  if (options.migrate !== false) await migrate(pool, migrations);
  return {
    name,
    url,
    pool,
    migrations,
    lifecycle: { pool, migrations, actor: 'test', retentionDays: 30, roleLogin: false },
    openPool,
    drop: async () => {
      const roles = await pool
        .anyFirst(
          sql.type(z.object({ rolname: z.string() }))`
          SELECT r.rolname FROM pg_roles r JOIN pg_namespace n ON n.nspname = r.rolname
          WHERE r.rolname ~ '^tenant_[0-9a-f]{32}$'`,
        )
        .catch(() => [] as readonly string[]);
      for (const role of roles) {
        const ident = sql.identifier([role]);
        await pool.query(sql.unsafe`DROP SCHEMA IF EXISTS ${ident} CASCADE`);
        await pool.query(sql.unsafe`DROP OWNED BY ${ident}`);
        await pool.query(sql.unsafe`DROP ROLE ${ident}`);
      }
      const creators = await pool
        .anyFirst(
          sql.type(z.object({ rolname: z.string() }))`
          SELECT rolname FROM pg_roles
          WHERE to_regprocedure('public.tenant_role_creator_prefix()') IS NOT NULL
            AND starts_with(rolname, public.tenant_role_creator_prefix())`,
        )
        .catch(() => [] as readonly string[]);
      for (const role of creators) {
        await pool.query(sql.unsafe`DROP OWNED BY ${sql.identifier([role])}`);
        await pool.query(sql.unsafe`DROP ROLE ${sql.identifier([role])}`);
      }
      const group = await pool
        .maybeOneFirst(
          sql.type(z.object({ name: z.string() }))`
          SELECT public.tenant_group_role()::text AS name
          WHERE to_regprocedure('public.tenant_group_role()') IS NOT NULL`,
        )
        .catch(() => null);
      if (group) {
        await pool.query(sql.unsafe`DROP OWNED BY ${sql.identifier([group])}`);
        await pool.query(sql.unsafe`DROP ROLE ${sql.identifier([group])}`);
      }
      await Promise.all(pools.map((each) => each.end()));
      await withAdmin((admin) =>
        admin.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`),
      );
    },
  };
}
