/**
 * Who is calling. The tenant always comes from the principal's own record (an API key's row, a
 * verified session's organisation), never from a header or an argument.
 *
 * - `api_key`: a partner's key, bound to one tenant; it acts as MEMBER with the `write` scope and
 *   as VIEWER with `read` only.
 * - `user`: a Clerk session. Its tenant is the session's active organisation and its role that
 *   organisation's role. A user listed in PLATFORM_ADMIN_USER_IDS is also an operator, and needs
 *   no active organisation (then it has no tenant).
 * - `platform_key`: an operator's key (`capliquify keys create --platform`): no tenant at all.
 */
import type { UserRole } from '../config.js';
import type { Tenant } from '../tenants/lifecycle.js';

export type { UserRole } from '../config.js';

export const SCOPES = ['read', 'write'] as const;
export type Scope = (typeof SCOPES)[number];

/** The caller's tenant as authentication found it: identity, plan, billing state and limits. */
export type TenantInfo = Pick<
  Tenant,
  | 'id'
  | 'schemaName'
  | 'slug'
  | 'name'
  | 'tier'
  | 'status'
  | 'trialEndsAt'
  | 'pastDueSince'
  | 'suspendedReason'
  | 'limits'
>;

export type ApiKeyPrincipal = {
  kind: 'api_key';
  keyId: string;
  tenant: TenantInfo;
  scopes: readonly Scope[];
  role: UserRole;
  operator: false;
};

export type UserPrincipal = {
  kind: 'user';
  clerkUserId: string;
  sessionId: string;
  email: string | null;
  /** public.users.id in this tenant; null for an operator acting without an organisation. */
  userId: string | null;
  tenant: TenantInfo | null;
  role: UserRole | null;
  operator: boolean;
};

export type PlatformKeyPrincipal = {
  kind: 'platform_key';
  keyId: string;
  tenant: null;
  role: null;
  operator: true;
};

export type Principal = ApiKeyPrincipal | UserPrincipal | PlatformKeyPrincipal;

/** What an API key with these scopes may do: MEMBER with `write`, VIEWER otherwise. */
export const roleOfScopes = (scopes: readonly Scope[]): UserRole =>
  scopes.includes('write') ? 'member' : 'viewer';

/** The audit log's `actor`: who did it, in a form that survives the deletion of its record. */
export function actorOf(principal: Principal): string {
  switch (principal.kind) {
    case 'api_key':
      return `api_key:${principal.keyId}`;
    case 'platform_key':
      return `platform_key:${principal.keyId}`;
    case 'user':
      return `user:${principal.clerkUserId}`;
  }
}
