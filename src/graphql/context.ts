/**
 * The context of one GraphQL request: who calls, the tenant transaction (opened once the operation
 * is known, see plugins.ts), and DataLoaders bound to that transaction. Resolvers get nothing else
 * to reach the database with.
 */
import type { CommonQueryMethods, DatabasePool } from 'slonik';
import type { Authenticator } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';
import { SerialConnection } from '../db/serialized.js';
import { asPlatform } from '../db/tenant-transaction.js';
import type { Logger } from '../logger.js';
import { createLoaders, type Loaders } from './loaders.js';
import { openTenantSession, type TenantSession } from './session.js';

export class RequestContext {
  private session: TenantSession | undefined;
  private serial: SerialConnection | undefined;
  private loaderSet: Loaders | undefined;

  constructor(
    readonly requestId: string,
    readonly principal: Principal,
    readonly logger: Logger,
    readonly authenticator: Authenticator,
    private readonly pool: DatabasePool,
    /** For saved API credentials (AES-256-GCM); undefined when ENCRYPTION_KEY is not set. */
    readonly encryptionKey?: Buffer,
  ) {}

  /** Opens the request's one transaction (read-only for queries). */
  async begin(options: { readOnly: boolean }): Promise<void> {
    this.session = await openTenantSession(this.pool, this.principal.tenant, options);
    this.serial = new SerialConnection(this.session.tx);
  }

  /** Commits or rolls back; a no-op when no transaction was opened. */
  async finish(outcome: 'commit' | 'rollback'): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.finish(outcome);
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

  get tenantId(): string {
    return this.principal.tenant.id;
  }

  /**
   * Runs platform work (public.api_keys and the like) in the same transaction under the login
   * role, then returns to the tenant's role. The callback must filter by this.tenantId itself.
   */
  platform<T>(fn: (db: CommonQueryMethods) => Promise<T>): Promise<T> {
    if (!this.serial) throw new Error('no transaction is open for this request');
    // Exclusive: no other resolver's statement may run while the role is the login role.
    return this.serial.exclusive((connection) => asPlatform(connection, this.principal.tenant, fn));
  }
}
