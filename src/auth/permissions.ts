/**
 * Who may do what: one table of operations (every root field of the schema), one table of what
 * each role holds, and one guard that reads both. The request path calls `authorize` for each
 * root field of an operation before any tenant SQL runs; a field missing from OPERATIONS is
 * refused (and a test fails), so a new field cannot slip through unguarded.
 */
import { ForbiddenError } from '../errors.js';
import type { Principal, UserRole } from './principal.js';

export const PERMISSIONS = [
  /** `viewer`: who am I. Any authenticated principal, with or without a tenant. */
  'self',
  /** Reads the tenant's business data. */
  'read',
  /** Saves the caller's own preferences (not business data: viewers may too). */
  'preferences',
  /** Writes business data: products, inventory, sales, forecasts, metrics, scenarios. */
  'write',
  /** API keys, saved third-party credentials, users. */
  'manage_access',
  /** The tenant's audit log. */
  'audit',
  /** Plans, checkout and the billing portal. */
  'billing',
  /** The tenant's payment terms (part of its settings). */
  'payment_terms',
  /** The tenant's own settings. */
  'settings',
  /** Every tenant: list, inspect, create, suspend, reactivate, delete, restore. */
  'platform',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const VIEWER: readonly Permission[] = ['self', 'read', 'preferences'];
const MEMBER: readonly Permission[] = [...VIEWER, 'write'];
const ADMIN: readonly Permission[] = [...MEMBER, 'manage_access', 'audit', 'payment_terms'];
const OWNER: readonly Permission[] = [...ADMIN, 'billing', 'settings'];

/** What each tenant role holds; each role holds everything the one below it does. */
export const ROLE_PERMISSIONS: Readonly<Record<UserRole, readonly Permission[]>> = {
  viewer: VIEWER,
  member: MEMBER,
  admin: ADMIN,
  owner: OWNER,
};

/** What a platform operator holds, whatever its role in its own organisation (if any). */
export const OPERATOR_PERMISSIONS: readonly Permission[] = ['self', 'platform', 'audit'];

/** Permissions that act on a tenant's data, and so need the principal to have a tenant. */
const TENANT_PERMISSIONS: ReadonlySet<Permission> = new Set([
  'read',
  'preferences',
  'write',
  'manage_access',
  'billing',
  'payment_terms',
  'settings',
]);

export type Operation = {
  permission: Permission;
  /** The audit action a refusal of this operation is recorded as (sensitive operations only). */
  audit?: string;
  /**
   * What a refusal is recorded against: the resource type its successful entries use, and the
   * argument that names the resource, if one does.
   */
  resource?: { type: string; idArgument?: string };
};

/** Every root field, keyed "Query.name" or "Mutation.name". */
export const OPERATIONS: Readonly<Record<string, Operation>> = {
  'Query.viewer': { permission: 'self' },
  'Query.plans': { permission: 'self' },

  'Query.company': { permission: 'read' },
  'Query.products': { permission: 'read' },
  'Query.product': { permission: 'read' },
  'Query.productBySku': { permission: 'read' },
  'Query.inventoryAlerts': { permission: 'read' },
  'Query.salesSummary': { permission: 'read' },
  'Query.forecasts': { permission: 'read' },
  'Query.forecastRun': { permission: 'read' },
  'Query.forecastRuns': { permission: 'read' },
  'Query.workingCapitalMetrics': { permission: 'read' },
  'Query.workingCapital': { permission: 'read' },
  'Query.workingCapitalTrend': { permission: 'read' },
  'Query.paymentTerms': { permission: 'read' },
  'Query.scenarios': { permission: 'read' },
  'Query.scenario': { permission: 'read' },
  'Query.preferences': { permission: 'read' },
  'Query.tenantSettings': { permission: 'read' },
  'Query.usage': { permission: 'read' },
  'Query.usageHistory': { permission: 'read' },

  'Mutation.updatePreferences': { permission: 'preferences' },

  'Mutation.createProduct': { permission: 'write' },
  'Mutation.updateProduct': { permission: 'write' },
  'Mutation.archiveProduct': { permission: 'write' },
  'Mutation.adjustInventory': { permission: 'write' },
  'Mutation.recordSales': { permission: 'write' },
  'Mutation.upsertWorkingCapitalMetrics': { permission: 'write' },
  'Mutation.computeWorkingCapitalMetrics': { permission: 'write' },
  'Mutation.createScenario': { permission: 'write' },
  'Mutation.updateScenario': { permission: 'write' },
  'Mutation.deleteScenario': { permission: 'write' },
  'Mutation.generateForecasts': { permission: 'write' },

  'Query.apiKeys': { permission: 'manage_access' },
  'Mutation.createApiKey': {
    permission: 'manage_access',
    audit: 'api_key.created',
    resource: { type: 'api_key' },
  },
  'Mutation.revokeApiKey': {
    permission: 'manage_access',
    audit: 'api_key.revoked',
    resource: { type: 'api_key', idArgument: 'id' },
  },
  'Query.apiCredentials': { permission: 'manage_access' },
  'Mutation.saveApiCredential': {
    permission: 'manage_access',
    audit: 'credential.saved',
    resource: { type: 'api_credential' },
  },

  'Query.auditLogs': { permission: 'audit' },

  'Mutation.updatePaymentTerms': {
    permission: 'payment_terms',
    audit: 'tenant.payment_terms_changed',
    resource: { type: 'tenant' },
  },
  'Mutation.updateTenantSettings': {
    permission: 'settings',
    audit: 'tenant.settings_changed',
    resource: { type: 'tenant' },
  },

  'Mutation.startCheckout': {
    permission: 'billing',
    audit: 'billing.checkout_started',
    resource: { type: 'checkout_session' },
  },
  'Mutation.billingPortal': {
    permission: 'billing',
    audit: 'billing.portal_opened',
    resource: { type: 'stripe_customer' },
  },

  'Query.tenants': { permission: 'platform' },
  'Query.tenant': { permission: 'platform' },
  'Mutation.createTenant': { permission: 'platform', audit: 'tenant.created' },
  'Mutation.suspendTenant': { permission: 'platform', audit: 'tenant.suspended' },
  'Mutation.reactivateTenant': { permission: 'platform', audit: 'tenant.reactivated' },
  'Mutation.deleteTenant': { permission: 'platform', audit: 'tenant.deleted' },
  'Mutation.restoreTenant': { permission: 'platform', audit: 'tenant.restored' },
};

/** The least role that holds a permission, for messages; undefined for operator-only ones. */
function leastRoleWith(permission: Permission): UserRole | undefined {
  return (['viewer', 'member', 'admin', 'owner'] as const).find((role) =>
    ROLE_PERMISSIONS[role].includes(permission),
  );
}

/** Whether the principal holds the permission. */
export function holds(principal: Principal, permission: Permission): boolean {
  if (principal.operator && OPERATOR_PERMISSIONS.includes(permission)) return true;
  if (principal.tenant === null || principal.role === null) return false;
  return ROLE_PERMISSIONS[principal.role].includes(permission);
}

/**
 * Undefined when the principal may run the root field `key` ("Mutation.createApiKey"), else the
 * refusal to return, with a message that says what would be needed.
 */
export function authorize(principal: Principal, key: string): ForbiddenError | undefined {
  const operation = Object.hasOwn(OPERATIONS, key) ? OPERATIONS[key] : undefined;
  const field = key.slice(key.indexOf('.') + 1);
  if (operation === undefined) {
    return new ForbiddenError(`${field} is not available.`, { field });
  }
  const { permission } = operation;
  if (holds(principal, permission)) return undefined;
  if (permission === 'platform') {
    return new ForbiddenError(`${field} is for platform operators only.`, { field });
  }
  if (TENANT_PERMISSIONS.has(permission) && principal.tenant === null) {
    return new ForbiddenError(
      `${field} acts on a tenant: use a tenant's API key, or a session with an active organisation.`,
      { field },
    );
  }
  const needed = leastRoleWith(permission);
  if (principal.kind === 'api_key') {
    return new ForbiddenError(
      needed === 'member'
        ? `This API key is read-only: ${field} needs the write scope.`
        : `API keys may not use ${field}: it needs a session with the ${needed?.toUpperCase()} role.`,
      { field },
    );
  }
  return new ForbiddenError(
    `Your role (${principal.role?.toUpperCase()}) may not use ${field}: it needs ${needed?.toUpperCase()}.`,
    { field },
  );
}
