/**
 * Turns a request's credentials into a Principal.
 *
 * - API keys (`cq_live_…`) arrive as `Authorization: Bearer <key>` or `X-API-Key: <key>`. A key
 *   with a bad checksum is refused before any database work; a known key's lookup is cached
 *   briefly per server.
 * - Clerk session tokens (JWTs) arrive as `Authorization: Bearer <token>`. They are verified
 *   without a network call (clerk-session.ts); the organisation's tenant is cached like a key's,
 *   and the user is recorded in public.users at most once a minute per server. An organisation
 *   without a tenant gets one at once (a session can arrive before Clerk's organization.created
 *   webhook) unless provisioning on sessions is off.
 *
 * Caches live for `cacheTtlMs` (0: off), and an entry in use is refreshed in the background,
 * batched, before it expires (refresh-cache.ts): over thousands of tenants an active credential
 * costs no lookup on the request path. Revoking a key, or suspending or deleting a tenant,
 * through this server takes effect here at once (`forget`, `forgetTenant`); on other servers
 * within the cache's lifetime. A key's use is noted in memory for last_used_at (key-use.ts).
 */
import { LRUCache } from 'lru-cache';
import type { DatabasePool } from 'slonik';
import type { ClerkConfig } from '../config.js';
import { hasFeature } from '../billing/plans.js';
import {
  ForbiddenError,
  PaymentRequiredError,
  TenantSuspendedError,
  UnauthenticatedError,
  type AppError,
} from '../errors.js';
import { placeholderName, provisionOrganisation } from '../identity/organisations.js';
import { recordSessionUser } from '../identity/users.js';
import type { Logger } from '../logger.js';
import {
  findTenantByOrganisation,
  findTenantsByOrganisation,
  type LifecycleContext,
  type Tenant,
} from '../tenants/lifecycle.js';
import { isWellFormedApiKey, hashApiKey } from './api-key-format.js';
import { findKeyByHash, findKeysByHash, type KeyLookup } from './api-keys.js';
import type { KeyUseRecorder } from './key-use.js';
import { RefreshAheadCache } from './refresh-cache.js';
import { verifyClerkSession, type ClerkSession } from './clerk-session.js';
import { roleOfScopes, type Principal, type Scope } from './principal.js';

export type Headers = Record<string, string | string[] | undefined>;

const MISSING =
  'Missing credentials: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>", or a Clerk session token as "Authorization: Bearer <token>".';
const INVALID = 'Invalid API key.';
const TOUCH_INTERVAL_MS = 60_000;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The credential a request carries, or undefined when it carries none. */
export function credentialsOf(headers: Headers): string | undefined {
  const authorization = header(headers, 'authorization');
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match)
      throw new UnauthenticatedError('Malformed Authorization header: use "Bearer <credential>".');
    return match[1];
  }
  return header(headers, 'x-api-key')?.trim() || undefined;
}

/** A compact JWS has three base64url parts; API keys have none of its dots. */
const looksLikeJwt = (credential: string) =>
  /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);

type CachedUser = { id: string; active: boolean; email: string | null; lastTouched: number };

export type AuthenticatorOptions = {
  cacheTtlMs: number;
  cacheSize?: number;
  /** Where key uses are noted for last_used_at; none: not recorded. */
  keyUses?: KeyUseRecorder;
  /** Clerk sessions; undefined: session tokens are refused. */
  clerk?: ClerkConfig;
  /** Clerk user ids (user_…) of platform operators. */
  platformAdmins?: ReadonlySet<string>;
  /** Creates tenants for organisations that have none; undefined: such sessions are refused. */
  provisioning?: LifecycleContext;
};

export class Authenticator {
  /** Keys by the base64 of their hash; null: no such key (refused without a lookup). */
  private readonly keys: RefreshAheadCache<KeyLookup | null>;
  private readonly keyIds = new Map<string, string>();
  private readonly organisations: RefreshAheadCache<Tenant>;
  private readonly users: LRUCache<string, CachedUser>;
  private readonly caching: boolean;
  private readonly platformAdmins: ReadonlySet<string>;

  constructor(
    private readonly pool: DatabasePool,
    private readonly logger: Logger,
    private readonly options: AuthenticatorOptions,
  ) {
    this.caching = options.cacheTtlMs > 0;
    const max = options.cacheSize ?? 50_000;
    const onError = (error: unknown) =>
      logger.warn({ err: error }, 'could not refresh cached credentials');
    this.keys = new RefreshAheadCache({
      max,
      ttlMs: options.cacheTtlMs,
      load: async (cacheKeys) => {
        const found = await findKeysByHash(
          pool,
          cacheKeys.map((cacheKey) => Buffer.from(cacheKey, 'base64')),
          'refresh',
        );
        // A hash still unknown stays cached as unknown.
        return new Map(cacheKeys.map((cacheKey) => [cacheKey, found.get(cacheKey) ?? null]));
      },
      onError,
      onDispose: (lookup) => {
        if (lookup) this.keyIds.delete(lookup.id);
      },
    });
    this.organisations = new RefreshAheadCache({
      max,
      ttlMs: options.cacheTtlMs,
      load: (organisationIds) => findTenantsByOrganisation(pool, organisationIds),
      onError,
    });
    // Users are remembered (for the once-a-minute login stamp) whether or not caching is on.
    this.users = new LRUCache({ max, ttl: TOUCH_INTERVAL_MS });
    this.platformAdmins = options.platformAdmins ?? new Set();
  }

  async authenticate(headers: Headers): Promise<Principal> {
    const credential = credentialsOf(headers);
    if (credential === undefined) throw new UnauthenticatedError(MISSING);
    if (isWellFormedApiKey(credential)) return this.apiKey(credential);
    if (looksLikeJwt(credential)) return this.session(credential);
    throw new UnauthenticatedError(
      credential.startsWith('cq_')
        ? INVALID
        : 'Invalid credentials: not an API key or a session token.',
    );
  }

  /** Forgets a key at once (after it is revoked through this server). */
  forget(keyId: string): void {
    const cacheKey = this.keyIds.get(keyId);
    if (cacheKey) this.keys.delete(cacheKey);
  }

  /** Forgets everything cached about a tenant (after it is suspended, deleted, renamed, ...). */
  forgetTenant(tenantId: string): void {
    for (const [cacheKey, lookup] of this.keys.values()) {
      if (lookup?.tenant_id === tenantId) this.keys.delete(cacheKey);
    }
    for (const [organisationId, tenant] of this.organisations.values()) {
      if (tenant.id === tenantId) this.organisations.delete(organisationId);
    }
  }

  /** Resolves once the background refreshes scheduled so far are done. */
  settled(): Promise<void> {
    return Promise.all([this.keys.settled(), this.organisations.settled()]).then(() => {});
  }

  private async apiKey(key: string): Promise<Principal> {
    const hash = hashApiKey(key);
    const cacheKey = hash.toString('base64');
    let lookup = this.keys.get(cacheKey)?.value;
    if (lookup === undefined) {
      lookup = await findKeyByHash(this.pool, hash);
      if (this.caching) {
        this.keys.set(cacheKey, lookup);
        if (lookup) this.keyIds.set(lookup.id, cacheKey);
      }
    }
    const refusal = refuseKey(lookup);
    if (refusal) throw refusal;
    const found = lookup!;
    this.options.keyUses?.record(found.id);
    if (found.tenant_id === null) {
      return { kind: 'platform_key', keyId: found.id, tenant: null, role: null, operator: true };
    }
    const scopes = found.scopes as Scope[];
    return {
      kind: 'api_key',
      keyId: found.id,
      scopes,
      role: roleOfScopes(scopes),
      operator: false,
      tenant: {
        id: found.tenant_id,
        slug: found.slug!,
        name: found.name!,
        schemaName: found.schema_name!,
        tier: found.subscription_tier!,
        status: found.subscription_status!,
        trialEndsAt: found.trial_ends_at,
        pastDueSince: found.past_due_since,
        suspendedReason: found.suspended_reason,
        limits: {
          maxUsers: found.max_users,
          maxProducts: found.max_entities,
          maxStorageMb: found.max_storage_mb,
        },
      },
    };
  }

  private async session(token: string): Promise<Principal> {
    const clerk = this.options.clerk;
    if (!clerk) {
      throw new UnauthenticatedError(
        'Session tokens are not accepted by this server (Clerk is not configured): use an API key.',
      );
    }
    const session = await verifyClerkSession(token, clerk, {
      organisationOptional: (userId) => this.platformAdmins.has(userId),
    });
    const operator = this.platformAdmins.has(session.userId);
    if (session.organizationId === null || session.role === null) {
      return {
        kind: 'user',
        clerkUserId: session.userId,
        sessionId: session.sessionId,
        email: session.email,
        userId: null,
        tenant: null,
        role: null,
        operator,
      };
    }
    const tenant = await this.tenantOf(session);
    const user = await this.user(tenant, session);
    return {
      kind: 'user',
      clerkUserId: session.userId,
      sessionId: session.sessionId,
      email: user.email,
      userId: user.id,
      // A Tenant is a TenantInfo (with more fields): no copy needed.
      tenant,
      role: session.role,
      operator,
    };
  }

  /** The session organisation's tenant: cached, else looked up, else provisioned. */
  private async tenantOf(session: ClerkSession): Promise<Tenant> {
    const organisationId = session.organizationId!;
    let tenant = this.organisations.get(organisationId)?.value;
    if (!tenant) {
      tenant = (await findTenantByOrganisation(this.pool, organisationId)) ?? undefined;
      if (!tenant) {
        const provisioning = this.options.provisioning;
        if (!provisioning) {
          throw new ForbiddenError(
            'This organisation has no CapLiquify tenant yet: ask an operator to create one.',
          );
        }
        const slug = session.organizationSlug;
        ({ tenant } = await provisionOrganisation(
          { ...provisioning, actor: `user:${session.userId}` },
          { id: organisationId, slug, name: placeholderName({ id: organisationId, slug }) },
        ));
        this.logger.info(
          { tenantId: tenant.id, organisationId },
          'tenant provisioned for a session that arrived before its organisation webhook',
        );
      }
      if (this.caching) this.organisations.set(organisationId, tenant);
    }
    if (tenant.deletedAt) throw new ForbiddenError("This organisation's tenant has been deleted.");
    if (isBlocked(tenant.status, tenant.suspendedReason)) {
      throw new TenantSuspendedError('This tenant is suspended.');
    }
    return tenant;
  }

  /** The session's public.users row, recorded at most once a minute per server. */
  private async user(tenant: Tenant, session: ClerkSession): Promise<CachedUser> {
    const cacheKey = `${tenant.id}:${session.userId}`;
    const now = Date.now();
    let cached = this.users.get(cacheKey);
    if (!cached || now - cached.lastTouched > TOUCH_INTERVAL_MS) {
      const recorded = await recordSessionUser(this.pool, {
        tenantId: tenant.id,
        clerkUserId: session.userId,
        email: session.email,
        role: session.role!,
      });
      cached = { ...recorded, email: session.email ?? cached?.email ?? null, lastTouched: now };
      this.users.set(cacheKey, cached);
    }
    if (!cached.active) {
      throw new ForbiddenError('Your membership of this organisation has been removed.');
    }
    return cached;
  }

  /** Forgets a Clerk user everywhere on this server (after a membership or user webhook). */
  forgetUser(clerkUserId: string): void {
    for (const cacheKey of this.users.keys()) {
      if (cacheKey.endsWith(`:${clerkUserId}`)) this.users.delete(cacheKey);
    }
  }
}

/** An operator's suspension blocks everything; a payment one leaves reads (see billing/access). */
const isBlocked = (status: string, reason: 'operator' | 'payment' | null) =>
  status === 'suspended' && reason !== 'payment';

export const API_KEYS_PLAN =
  "API keys are part of the Professional and Enterprise plans: this tenant's plan does not include them, so its keys do not work until it upgrades.";

function refuseKey(lookup: KeyLookup | null): AppError | undefined {
  if (!lookup) return new UnauthenticatedError(INVALID);
  if (lookup.revoked_at) return new UnauthenticatedError('API key revoked.');
  if (lookup.expires_at && lookup.expires_at.getTime() <= Date.now()) {
    return new UnauthenticatedError('API key expired.');
  }
  if (lookup.tenant_id === null) return undefined; // a platform key
  if (lookup.deleted_at) return new ForbiddenError('This tenant has been deleted.');
  if (isBlocked(lookup.subscription_status!, lookup.suspended_reason)) {
    return new TenantSuspendedError('This tenant is suspended.');
  }
  if (!hasFeature(lookup.subscription_tier!, 'api_keys')) {
    return new PaymentRequiredError(API_KEYS_PLAN);
  }
  return undefined;
}
