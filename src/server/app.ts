/**
 * HTTP wiring: /graphql (the API), /healthz (the process is up) and /readyz (the database answers
 * and the platform schema is current).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { DatabasePool } from 'slonik';
import type { MigrationSet } from '../db/migrations/files.js';
import { isUpToDate, readStatus } from '../db/migrations/runner.js';
import type { Logger } from '../logger.js';
import { registerGraphQL } from '../graphql/server.js';

export type AppDependencies = {
  pool: DatabasePool;
  migrations: MigrationSet;
  logger: Logger;
  /** How long a verified API key is trusted before it is looked up again (0: always). */
  apiKeyCacheTtlMs: number;
  /** Key for saved API credentials; saveApiCredential refuses to work without one. */
  encryptionKey?: Buffer;
};

export async function buildApp({
  pool,
  migrations,
  logger,
  apiKeyCacheTtlMs,
  encryptionKey,
}: AppDependencies) {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per request would be the hot path's largest cost; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    genReqId: () => randomUUID(),
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
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

  await registerGraphQL(app, { pool, logger, apiKeyCacheTtlMs, encryptionKey });
  return app;
}
