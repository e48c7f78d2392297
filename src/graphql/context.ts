/**
 * The context of one GraphQL request: who calls, the request's one transaction (opened once the
 * operation is known and allowed, see plugins.ts), and DataLoaders bound to that transaction.
 * Resolvers get nothing else to reach the database with.
 */
import type { CommonQueryMethods, DatabasePool } from 'slonik';
import { recordAudit, type AuditEntry, type AuditSource } from '../audit/audit-log.js';
import type { Authenticator } from '../auth/authenticate.js';
import { actorOf, type Principal, type TenantInfo } from '../auth/principal.js';
import { SerialConnection } from '../db/serialized.js';
import type { TenantAdmission } from '../db/tenant-admission.js';
import { asPlatform } from '../db/tenant-transaction.js';
import type { StripeBilling } from '../billing/stripe-calls.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Logger } from '../logger.js';
import type { LifecycleContext } from '../tenants/lifecycle.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { BillingLimits } from './plugins.js';
import { openTenantSession, type TenantSession } from './session.js';

/** Where a request came from, for the audit log. */
export type Client = { ip: string | null; userAgent: string | null };

export type RequestContextOptions = {
  requestId: string;
  principal: Principal;
  client: Client;
  logger: Logger;
  authenticator: Authenticator;
  pool: DatabasePool;
  /** For platform fields that create tenants (actor and pool are the request's). */
  lifecycle: Omit<LifecycleContext, 'pool' | 'actor'>;
  /** For saved API credentials (AES-256-GCM); undefined when ENCRYPTION_KEY is not set. */
  encryptionKey?: Buffer;
  /** The server's usage meter, rate limiter and billing grace period. */
  billing: BillingLimits;
  /** Stripe checkout and portal; undefined when STRIPE_SECRET_KEY is not set. */
  stripe?: StripeBilling;
  /** The per-tenant cap on concurrent transactions (DB_TENANT_MAX_TRANSACTIONS). */
  admission: TenantAdmission;
  /** The job queue (forecast runs); undefined: every run finishes inside its request. */
  jobs?: JobQueue;
};

export class RequestContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly client: Client;
  readonly logger: Logger;
  readonly authenticator: Authenticator;
  readonly encryptionKey: Buffer | undefined;
  readonly billing: BillingLimits;
  readonly stripe: StripeBilling | undefined;
  readonly jobs: JobQueue | undefined;
  private readonly pool: DatabasePool;
  private readonly lifecycleSettings: RequestContextOptions['lifecycle'];
  private readonly admission: TenantAdmission;
  private leave: (() => void) | undefined;
  private session: TenantSession | undefined;
  private serial: SerialConnection | undefined;
  private loaderSet: Loaders | undefined;
  private committed: (() => void)[] = [];

  constructor(options: RequestContextOptions) {
    this.requestId = options.requestId;
    this.principal = options.principal;
    this.client = options.client;
    this.logger = options.logger;
    this.authenticator = options.authenticator;
    this.encryptionKey = options.encryptionKey;
    this.billing = options.billing;
    this.stripe = options.stripe;
    this.jobs = options.jobs;
    this.pool = options.pool;
    this.lifecycleSettings = options.lifecycle;
    this.admission = options.admission;
  }

  /**
   * Opens the request's one transaction (read-only for queries); a tenant's when it has one, once
   * the tenant has a free turn (RATE_LIMITED after a brief wait) and the pool a free connection
   * (SERVICE_UNAVAILABLE after DB_ACQUIRE_TIMEOUT_MS).
   */
  async begin(options: { readOnly: boolean }): Promise<void> {
    const tenant = this.principal.tenant;
    const countRequest = this.billing.enforce && this.billing.metering === 'transaction' && tenant;
    if (tenant) this.leave = await this.admission.enter(tenant.id);
    try {
      this.session = await openTenantSession(this.pool, tenant, {
        ...options,
        countRequest: Boolean(countRequest),
      });
    } catch (error) {
      this.leave?.();
      throw error;
    }
    this.serial = new SerialConnection(this.session.tx);
  }

  /** Commits or rolls back; a no-op when no transaction was opened. */
  async finish(outcome: 'commit' | 'rollback'): Promise<void> {
    const session = this.session;
    this.session = undefined;
    const callbacks = this.committed;
    this.committed = [];
    try {
      await session?.finish(outcome);
    } finally {
      this.leave?.();
    }
    if (outcome === 'commit') for (const callback of callbacks) callback();
  }

  /**
   * Runs `callback` once the request's transaction has committed (never after a rollback): for
   * dropping cached credentials, so no concurrent request can cache the state being replaced.
   */
  afterCommit(callback: () => void): void {
    this.committed.push(callback);
  }

  /** The request's transaction; statements from concurrent resolvers run one after another. */
  get db(): CommonQueryMethods {
    if (!this.serial) throw new Error('no transaction is open for this request');
    return this.serial.db;
  }

  get loaders(): Loaders {
    this.loaderSet ??= createLoaders(this.db);
    return this.loaderSet;
  }

  /** The caller's tenant; the permission guard lets only principals with one reach tenant fields. */
  get tenant(): TenantInfo {
    const tenant = this.principal.tenant;
    if (!tenant) throw new Error('this request has no tenant');
    return tenant;
  }

  get tenantId(): string {
    return this.tenant.id;
  }

  /** Who acts, for the audit log. */
  get actor(): string {
    return actorOf(this.principal);
  }

  /**
   * Runs platform work (public tables that tenant roles may not write) in the same transaction
   * under the login role, then returns to the tenant's role. Work for one tenant must filter by
   * its id itself.
   */
  platform<T>(fn: (db: CommonQueryMethods) => Promise<T>): Promise<T> {
    if (!this.serial) throw new Error('no transaction is open for this request');
    const tenant = this.principal.tenant;
    // Exclusive: no other resolver's statement may run while the role is the login role.
    return this.serial.exclusive((connection) =>
      tenant ? asPlatform(connection, tenant, fn) : fn(connection),
    );
  }

  /** The tenant lifecycle, acting as this principal inside this request's transaction. */
  lifecycle(db: CommonQueryMethods): LifecycleContext {
    return { ...this.lifecycleSettings, pool: db, actor: this.auditSource() };
  }

  /**
   * Records an audit entry in the request's transaction (so it rolls back with the action), with
   * the actor, user, IP and user agent of this request.
   */
  audit(db: CommonQueryMethods, entry: Omit<AuditEntry, 'actor'>): Promise<void> {
    return recordAudit(db, { ...this.auditSource(), ...entry });
  }

  /** The actor, user and client of this request as the audit log records them. */
  auditSource(): AuditSource {
    const principal = this.principal;
    return {
      actor: this.actor,
      userId: principal.kind === 'user' ? principal.userId : null,
      ipAddress: this.client.ip,
      userAgent: this.client.userAgent,
    };
  }
}
