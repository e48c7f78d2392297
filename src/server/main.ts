/**
 * `npm start`: open the database (embedded PostgreSQL unless DATABASE_URL is set), migrate,
 * create the demo tenant if missing (with a fresh API key), and serve HTTP until SIGINT or SIGTERM.
 */
import { createStripeClient } from '../billing/stripe-client.js';
import type { DatabasePool } from 'slonik';
import { openSnapshotPool } from '../billing/usage-snapshots.js';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { loadMigrations } from '../db/migrations/files.js';
import { migrate } from '../db/migrations/runner.js';
import {
  DEMO_SLUG,
  ensureDemoTenant,
  issueDemoKey,
  queueDemoForecasts,
} from '../demo/demo-tenant.js';
import { cronEvery } from '../jobs/chores.js';
import { JobQueue, jobSettingsOf } from '../jobs/queue.js';
import type { Tenant } from '../tenants/lifecycle.js';
import { isAppError } from '../errors.js';
import { createLogger } from '../logger.js';
import { buildApp } from './app.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const migrations = await loadMigrations(config.sqlDir);
  const db = await openDatabase(config, { log: (line) => logger.debug({ postgres: line }) });
  logger.info(
    { embedded: db.embedded },
    db.embedded
      ? `embedded PostgreSQL ready (data in ${config.embedded.dir})`
      : 'connected to DATABASE_URL',
  );

  let closing: Promise<void> | undefined;
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let snapshotPool: DatabasePool | undefined;
  let jobs: JobQueue | undefined;
  const shutdown = (signal: string) => {
    closing ??= (async () => {
      logger.info({ signal }, 'shutting down');
      await app?.close();
      await jobs?.stop();
      await snapshotPool?.end();
      await db.close();
      logger.info('stopped');
    })();
    return closing;
  };

  let demoKey: string | undefined;
  let demoTenant: Tenant | undefined;
  try {
    // One pooled connection holds the migration lock; the rest may migrate tenants.
    const concurrency = Math.max(1, Math.min(config.migrateConcurrency, config.pool.maxSize - 1));
    const summary = await migrate(db.pool, migrations, { concurrency });
    logger.info(summary, 'migrations checked');
    if (config.demoTenant) {
      const demo = await ensureDemoTenant({
        pool: db.pool,
        migrations,
        actor: 'system',
        retentionDays: config.tenantRetentionDays,
        roleLogin: config.tenantRoleLogin,
      });
      if (demo.created) logger.info({ tenant: DEMO_SLUG, data: demo.data }, 'demo tenant created');
      demoKey = await issueDemoKey(db.pool, demo.tenant.id);
      demoTenant = demo.created ? demo.tenant : undefined;
    }
    if (config.jobs.enabled) {
      if (config.usageSnapshotMs > 0) snapshotPool = await openSnapshotPool(db.url, config.pool);
      jobs = await JobQueue.start({
        settings: jobSettingsOf(config.jobs, db.url, {
          billingGraceDays: config.billingGraceDays,
          usageSnapshots: snapshotPool && {
            pool: snapshotPool,
            cron: cronEvery(config.usageSnapshotMs),
          },
        }),
        pool: db.pool,
        logger,
      });
    }
    // A new demo tenant's forecasts come from the engine, as a background job (start-up does
    // not wait for them); without the queue, from `capliquify forecasts generate`.
    if (demoTenant && jobs) await queueDemoForecasts(db.pool, jobs, demoTenant);
    app = await buildApp({
      pool: db.pool,
      migrations,
      logger,
      apiKeyCacheTtlMs: config.apiKeyCacheTtlMs,
      apiKeyCacheSize: config.apiKeyCacheSize,
      keyUseFlushMs: config.keyUseFlushMs,
      encryptionKey: config.encryptionKey,
      clerk: config.clerk,
      platformAdmins: config.platformAdmins,
      corsOrigins: config.corsOrigins,
      trustProxy: config.trustProxy,
      billingGraceDays: config.billingGraceDays,
      usageFlushMs: config.usageFlushMs,
      jobs,
      tenantRetentionDays: config.tenantRetentionDays,
      tenantRoleLogin: config.tenantRoleLogin,
      tenantTransactions: config.tenantTransactions,
      stripe: config.stripe && createStripeClient(config.stripe),
      stripeWebhookSecret: config.stripe?.webhookSecret,
      appUrl: config.appUrl,
    });
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await shutdown('startup failure');
    throw error;
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      shutdown(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
  const url = `http://localhost:${config.port}`;
  process.stdout.write(
    [
      '',
      `CapLiquify API is running at ${url}`,
      `  GraphQL:   ${url}/graphql (open it in a browser for Apollo Sandbox)`,
      `  health:    ${url}/healthz   readiness: ${url}/readyz`,
      `  database:  ${db.embedded ? `embedded PostgreSQL (${config.embedded.dir})` : 'DATABASE_URL'}`,
      ...(demoKey
        ? [
            `  demo tenant: ${DEMO_SLUG} (Sentia Spirits); its API key for this run:`,
            `    Authorization: Bearer ${demoKey}`,
            `    curl -s ${url}/graphql -H 'content-type: application/json' -H 'authorization: Bearer ${demoKey}' \\`,
            `      -d '{"query":"{ viewer { tenant { name tier } scopes } }"}'`,
          ]
        : []),
      '  Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  const message =
    error instanceof ConfigError
      ? error.message
      : isAppError(error)
        ? error.message
        : `unexpected error: ${error instanceof Error ? error.stack : String(error)}`;
  process.stderr.write(`capliquify: ${message}\n`);
  process.exit(1);
});
