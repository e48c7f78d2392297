/**
 * Turns a request's credentials into a Principal. API keys arrive as `Authorization: Bearer <key>`
 * or `X-API-Key: <key>`. A key with a bad checksum is refused before any database work; a known
 * key's lookup is cached briefly per server (revocation on this server takes effect at once, on
 * others within the cache's lifetime).
 */
import { LRUCache } from 'lru-cache';
import type { DatabasePool } from 'slonik';
import {
  ForbiddenError,
  TenantSuspendedError,
  UnauthenticatedError,
  type AppError,
} from '../errors.js';
import type { Logger } from '../logger.js';
import { isWellFormedApiKey, hashApiKey } from './api-key-format.js';
import { findTenantKeyByHash, touchApiKey, type KeyLookup } from './api-keys.js';
import type { Principal } from './principal.js';

export type Headers = Record<string, string | string[] | undefined>;

const MISSING =
  'Missing credentials: send an API key as "Authorization: Bearer <key>" or "X-API-Key: <key>".';
const INVALID = 'Invalid API key.';

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The key a request carries, or undefined when it carries none. */
export function credentialsOf(headers: Headers): string | undefined {
  const authorization = header(headers, 'authorization');
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match)
      throw new UnauthenticatedError('Malformed Authorization header: use "Bearer <key>".');
    return match[1];
  }
  return header(headers, 'x-api-key')?.trim() || undefined;
}

type Cached = { lookup: KeyLookup | null; lastTouched: number };

export class Authenticator {
  private readonly cache: LRUCache<string, Cached>;
  private readonly keyIds = new Map<string, string>();
  private readonly caching: boolean;

  /** `cacheTtlMs` 0 turns the cache off: every request looks its key up. */
  constructor(
    private readonly pool: DatabasePool,
    private readonly logger: Logger,
    options: { cacheTtlMs: number; cacheSize?: number },
  ) {
    this.caching = options.cacheTtlMs > 0;
    this.cache = new LRUCache({
      max: options.cacheSize ?? 10_000,
      ttl: Math.max(1, options.cacheTtlMs),
      dispose: (value) => {
        if (value.lookup) this.keyIds.delete(value.lookup.id);
      },
    });
  }

  async authenticate(headers: Headers): Promise<Principal> {
    const key = credentialsOf(headers);
    if (key === undefined) throw new UnauthenticatedError(MISSING);
    if (!isWellFormedApiKey(key)) throw new UnauthenticatedError(INVALID);
    const hash = hashApiKey(key);
    const cacheKey = hash.toString('base64');
    let cached = this.cache.get(cacheKey);
    if (!cached) {
      cached = { lookup: await findTenantKeyByHash(this.pool, hash), lastTouched: 0 };
      if (this.caching) {
        this.cache.set(cacheKey, cached);
        if (cached.lookup) this.keyIds.set(cached.lookup.id, cacheKey);
      }
    }
    const lookup = cached.lookup;
    const refusal = refuse(lookup);
    if (refusal) throw refusal;
    const found = lookup!;
    const now = Date.now();
    if (now - cached.lastTouched > 60_000) {
      cached.lastTouched = now;
      touchApiKey(this.pool, found.id).catch((error: unknown) =>
        this.logger.warn({ err: error, keyId: found.id }, 'could not record API key use'),
      );
    }
    return {
      kind: 'api_key',
      keyId: found.id,
      scopes: found.scopes,
      tenant: {
        id: found.tenant_id,
        slug: found.slug,
        name: found.name,
        schemaName: found.schema_name,
        tier: found.subscription_tier,
        status: found.subscription_status,
      },
    };
  }

  /** Forgets a key at once (after it is revoked through this server). */
  forget(keyId: string): void {
    const cacheKey = this.keyIds.get(keyId);
    if (cacheKey) this.cache.delete(cacheKey);
  }
}

function refuse(lookup: KeyLookup | null): AppError | undefined {
  if (!lookup) return new UnauthenticatedError(INVALID);
  if (lookup.revoked_at) return new UnauthenticatedError('API key revoked.');
  if (lookup.expires_at && lookup.expires_at.getTime() <= Date.now()) {
    return new UnauthenticatedError('API key expired.');
  }
  if (lookup.deleted_at) return new ForbiddenError('This tenant has been deleted.');
  if (lookup.subscription_status === 'suspended') {
    return new TenantSuspendedError('This tenant is suspended.');
  }
  return undefined;
}
