/**
 * HTTP wiring: /graphql (the API), /webhooks/clerk (Clerk's events), /webhooks/stripe (Stripe's
 * billing events), /healthz (the process is up) and /readyz (the database answers and the
 * platform schema is current).
 */
import { randomUUID } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import type { DatabasePool } from 'slonik';
import type Stripe from 'stripe';
import { Authenticator } from '../auth/authenticate.js';
import { KeyUseRecorder } from '../auth/key-use.js';
import { UsageMeter } from '../billing/metering.js';
import { RequestLimiter } from '../billing/rate-limits.js';
import { RefusalAudit } from '../audit/refusals.js';
import {
  defaultTenantTransactions,
  type ClerkConfig,
  type TenantTransactionLimits,
} from '../config.js';
import { TenantAdmission } from '../db/tenant-admission.js';
import { ServiceUnavailableError } from '../errors.js';
import type { MigrationSet } from '../db/migrations/files.js';
import { isUpToDate, readStatus } from '../db/migrations/runner.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Logger } from '../logger.js';
import { registerGraphQL } from '../graphql/server.js';
import { registerClerkWebhooks } from '../webhooks/clerk.js';
import { registerStripeWebhooks } from '../webhooks/stripe.js';

export type AppDependencies = {
  pool: DatabasePool;
  migrations: MigrationSet;
  logger: Logger;
  /** How long a verified API key is trusted before it is looked up again (0: always). */
  apiKeyCacheTtlMs: number;
  /** How many keys and organisations the server keeps (API_KEY_CACHE_SIZE, 50,000). */
  apiKeyCacheSize?: number;
  /** How often key uses are written to last_used_at (API_KEY_USE_FLUSH_MS, 10,000). */
  keyUseFlushMs?: number;
  /** Key for saved API credentials; saveApiCredential refuses to work without one. */
  encryptionKey?: Buffer;
  /** Clerk sessions and webhooks; undefined: both are refused. */
  clerk?: ClerkConfig;
  /** Clerk user ids of platform operators. */
  platformAdmins?: ReadonlySet<string>;
  /** Browser origins allowed by CORS; none: no CORS headers at all. */
  corsOrigins?: readonly string[];
  /** fastify's trustProxy (TRUST_PROXY): whether client IPs come from X-Forwarded-For. */
  trustProxy?: boolean | string[];
  /** For tenants that operators delete (TENANT_RETENTION_DAYS) and create (TENANT_ROLE_LOGIN). */
  tenantRetentionDays?: number;
  tenantRoleLogin?: boolean;
  /** Days a PAST_DUE tenant keeps writing (BILLING_GRACE_DAYS, 7). */
  billingGraceDays?: number;
  /** How often counted API requests are written to usage_metrics (USAGE_FLUSH_MS, 1000). */
  usageFlushMs?: number;
  /**
   * For `npm run bench` only: 'off' serves without plan limits or metering, 'transaction' meters
   * in each request's first statement; what they cost is measured against the default,
   * 'memory' (counted per server, flushed in batches).
   */
  metering?: 'memory' | 'transaction' | 'off';
  /**
   * For `npm run bench:tenants` only: one request rate for every plan, so that a load meant to
   * measure throughput over few tenants is not refused by the plans' rates (which still apply).
   */
  requestsPerMinute?: number;
  /** The Stripe client (STRIPE_SECRET_KEY); undefined: checkout and portal are refused. */
  stripe?: Stripe;
  /** Verifies POST /webhooks/stripe (STRIPE_WEBHOOK_SECRET); undefined: the route answers 404. */
  stripeWebhookSecret?: string;
  /** The front end's base URL for Stripe's return links (APP_URL, http://localhost:3000). */
  appUrl?: string;
  /**
   * The job queue (started by the caller, which also stops it after the app closes): forecast
   * runs larger than a few products go to it; unset: every run finishes inside its request.
   * The fleet-wide chores (billing sweep, usage snapshots) are its schedules (jobs/chores.ts).
   */
  /** The per-tenant cap on concurrent request transactions (DB_TENANT_MAX_TRANSACTIONS, ...). */
  tenantTransactions?: TenantTransactionLimits;
  /** How often summaries of refused requests are written to the audit log (60,000). */
  refusalFlushMs?: number;
  jobs?: JobQueue;
};

/** How long /readyz waits for the database before it answers 503 (well under a second). */
export const READY_TIMEOUT_MS = 800;
const NO_ANSWER = new Error(`the database gave no answer within ${READY_TIMEOUT_MS} ms`);

export async function buildApp(dependencies: AppDependencies) {
  const { pool, migrations, logger } = dependencies;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One log line per request would be the hot path's largest cost; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    genReqId: () => randomUUID(),
    trustProxy: dependencies.trustProxy ?? false,
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Outside GraphQL (webhooks, health): a 500 says only its request id; the log line has the rest.
  app.setErrorHandler((error: { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.send(error);
    logger.error({ err: error, requestId: request.id }, 'request failed');
    return reply.code(status).send({ error: 'Internal server error', requestId: request.id });
  });
  const corsOrigins = dependencies.corsOrigins ?? [];
  if (corsOrigins.length > 0) {
    // Browser front ends on these origins send Clerk session tokens in the Authorization header;
    // no cookies are involved, so credentials stay off.
    await app.register(cors, {
      origin: [...corsOrigins],
      methods: ['GET', 'POST', 'OPTIONS'],
      allowedHeaders: [
        'authorization',
        'content-type',
        'x-api-key',
        'x-request-id',
        'apollo-require-preflight',
        'x-apollo-operation-name',
      ],
      exposedHeaders: ['x-request-id', 'retry-after'],
      maxAge: 600,
    });
  }

  app.get('/healthz', async () => ({ status: 'ok' }));

  // Ready when the database answers and the platform schema is current. Tenant schemas that lag
  // behind (a failed tenant migration) are reported, not fatal: one broken tenant must not take
  // every server out of the load balancer.
  // Bounded: whatever the pool is doing, the answer comes within READY_TIMEOUT_MS.
  app.get('/readyz', async (_request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const status = await Promise.race([
        readStatus(pool, migrations),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(NO_ANSWER), READY_TIMEOUT_MS);
        }),
      ]);
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
      // Busy: no pooled connection (or no answer) in time; unreachable: the query failed.
      const busy = error === NO_ANSWER || error instanceof ServiceUnavailableError;
      return reply
        .code(503)
        .send({ status: 'unavailable', database: busy ? 'busy' : 'unreachable' });
    } finally {
      clearTimeout(timer);
    }
  });

  const lifecycle = {
    migrations,
    retentionDays: dependencies.tenantRetentionDays ?? 30,
    roleLogin: dependencies.tenantRoleLogin ?? false,
  };
  const clerk = dependencies.clerk;
  const keyUses = new KeyUseRecorder(pool, logger, dependencies.keyUseFlushMs ?? 10_000);
  keyUses.start();
  // One per server: GraphQL authenticates with it; webhooks and platform fields make it forget.
  const authenticator = new Authenticator(pool, logger, {
    cacheTtlMs: dependencies.apiKeyCacheTtlMs,
    cacheSize: dependencies.apiKeyCacheSize,
    keyUses,
    clerk,
    platformAdmins: dependencies.platformAdmins ?? new Set(),
    provisioning: clerk?.provisionOnSession ? { ...lifecycle, pool, actor: 'system' } : undefined,
  });

  const meter = new UsageMeter(pool, logger, dependencies.usageFlushMs ?? 1_000);
  meter.start();
  const refusals = new RefusalAudit(pool, logger, dependencies.refusalFlushMs ?? 60_000);
  refusals.start();
  // The billing clock (billing/sweep.ts) is a fleet-wide chore of the job queue (jobs/chores.ts).
  const graceDays = dependencies.billingGraceDays ?? 7;
  // onClose runs once in-flight requests are done (each counted before its response): a clean
  // shutdown writes every count.
  app.addHook('onClose', async () => {
    await meter.stop().catch((error: unknown) => {
      logger.error({ err: error }, 'API usage counted since the last flush could not be written');
    });
    await keyUses.stop();
    await refusals.stop();
    await authenticator.settled();
  });

  await registerGraphQL(app, {
    pool,
    logger,
    authenticator,
    encryptionKey: dependencies.encryptionKey,
    lifecycle,
    billing: {
      enforce: dependencies.metering !== 'off',
      metering: dependencies.metering === 'transaction' ? 'transaction' : 'memory',
      meter,
      limiter: new RequestLimiter(dependencies.requestsPerMinute),
      graceDays,
    },
    admission: new TenantAdmission(dependencies.tenantTransactions ?? defaultTenantTransactions),
    refusals,
    stripe: dependencies.stripe && {
      stripe: dependencies.stripe,
      pool,
      logger,
      appUrl: dependencies.appUrl ?? 'http://localhost:3000',
    },
    jobs: dependencies.jobs,
  });
  // POST /webhooks/clerk, only when CLERK_WEBHOOK_SECRET is set.
  await registerClerkWebhooks(app, { pool, logger, authenticator, lifecycle, clerk });
  // POST /webhooks/stripe, only when Stripe is configured with STRIPE_WEBHOOK_SECRET.
  await registerStripeWebhooks(app, {
    pool,
    logger,
    authenticator,
    stripe: dependencies.stripe,
    webhookSecret: dependencies.stripeWebhookSecret,
  });
  return app;
}
