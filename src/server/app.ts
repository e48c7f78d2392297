/**
 * HTTP wiring. For now: /healthz (the process is up) and /readyz (the database answers and the
 * platform schema is current). The GraphQL endpoint joins these routes.
 */
import Fastify, { LogController } from 'fastify';
import type { DatabasePool } from 'slonik';
import type { MigrationSet } from '../db/migrations/files.js';
import { isUpToDate, readStatus } from '../db/migrations/runner.js';
import type { Logger } from '../logger.js';

export type AppDependencies = { pool: DatabasePool; migrations: MigrationSet; logger: Logger };

export function buildApp({ pool, migrations, logger }: AppDependencies) {
  const app = Fastify({
    loggerInstance: logger,
    // One log line per request would be the hot path's largest cost; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  // Ready when the database answers and the platform schema is current. Tenant schemas that lag
  // behind (a failed tenant migration) are reported, not fatal: one broken tenant must not take
  // every server out of the load balancer.
  app.get('/readyz', async (_request, reply) => {
    try {
      const status = await readStatus(pool, migrations);
      if (status.publicPending.length > 0) {
        return reply.code(503).send({
          status: 'unavailable',
          database: 'ok',
          migrations: 'pending',
          publicPending: status.publicPending.length,
          tenantsBehind: status.tenantsBehind,
        });
      }
      return {
        status: 'ready',
        database: 'ok',
        migrations: isUpToDate(status) ? 'current' : 'tenants behind',
        tenants: status.tenantsTotal,
        tenantsBehind: status.tenantsBehind,
        tenantMigrationFailures: status.failureCount,
      };
    } catch (error) {
      logger.warn({ err: error }, 'readiness check failed');
      return reply.code(503).send({ status: 'unavailable', database: 'unreachable' });
    }
  });

  return app;
}
