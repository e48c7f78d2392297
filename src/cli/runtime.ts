/**
 * What every CLI command stands on: the configuration, the database (embedded or DATABASE_URL),
 * the migration files, and a lifecycle context acting as 'cli'.
 */
import { loadConfig, type Config } from '../config.js';
import { openDatabase, type Database } from '../db/database.js';
import { loadMigrations, type MigrationSet } from '../db/migrations/files.js';
import { readStatus } from '../db/migrations/runner.js';
import { MigrationError } from '../errors.js';
import { createLogger } from '../logger.js';
import type { LifecycleContext } from '../tenants/lifecycle.js';

export type Runtime = {
  config: Config;
  db: Database;
  migrations: MigrationSet;
  lifecycle: LifecycleContext;
};

export async function withRuntime<T>(
  fn: (runtime: Runtime) => Promise<T>,
  options: { requireMigrated?: boolean; poolSize?: number } = {},
): Promise<T> {
  const config = loadConfig();
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, 'capliquify-cli');
  const migrations = await loadMigrations(config.sqlDir);
  const db = await openDatabase(config, {
    log: (line) => log.debug({ postgres: line }),
    pool: options.poolSize ? { maxSize: options.poolSize } : {},
  });
  try {
    if (options.requireMigrated !== false) {
      // Tenant schemas that lag (after a failed migration, say) must not stop tenant operations;
      // a platform schema that lags would.
      const status = await readStatus(db.pool, migrations);
      if (status.publicPending.length > 0) {
        throw new MigrationError(
          'The database has pending migrations: run `capliquify migrate` first.',
        );
      }
    }
    return await fn({
      config,
      db,
      migrations,
      lifecycle: {
        pool: db.pool,
        migrations,
        actor: 'cli',
        retentionDays: config.tenantRetentionDays,
        roleLogin: config.tenantRoleLogin,
      },
    });
  } finally {
    await db.close();
  }
}
