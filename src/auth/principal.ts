/**
 * Who is calling. The tenant always comes from the principal's own record (an API key's row, a
 * verified session's organisation), never from a header or an argument.
 */
import type { TenantStatus, Tier } from '../tenants/tiers.js';
import type { TenantRef } from '../tenants/names.js';

export const SCOPES = ['read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

export type TenantInfo = TenantRef & {
  slug: string;
  name: string;
  tier: Tier;
  status: TenantStatus;
};

export type ApiKeyPrincipal = {
  kind: 'api_key';
  keyId: string;
  tenant: TenantInfo;
  scopes: readonly Scope[];
};

/** Clerk sessions join this union as a second kind of principal. */
export type Principal = ApiKeyPrincipal;

export const canWrite = (principal: Principal) => principal.scopes.includes('write');
