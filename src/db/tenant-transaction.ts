/**
 * The tenant transaction: every tenant-scoped unit of work runs in exactly one transaction that
 * first sets search_path, role and app.tenant_id with set_config(..., true), the LOCAL form, in one
 * statement with bound parameters. LOCAL settings end with the transaction, so a pooled connection
 * (or a PgBouncer server connection in transaction mode) never carries them into another request.
 */
import type { CommonQueryMethods, DatabasePool, DatabaseTransactionConnection } from 'slonik';
import { roleNameFor, searchPathFor, type TenantRef } from '../tenants/names.js';
import { sql } from './sql.js';

export type TenantTransaction = DatabaseTransactionConnection;

/** How the first statement of every tenant transaction begins: the pool counts tenants by it. */
export const ENTER_TENANT = '/* enterTenant */';

export type TenantTransactionOptions = {
  readOnly: boolean;
  /**
   * Count the request in usage_metrics in the same first statement (public.count_api_request),
   * instead of in memory: the alternative `npm run bench` measures. It runs before the role and
   * read-only settings take effect (a SELECT's output columns are computed in order).
   */
  countRequest?: boolean;
};

export async function withTenant<T>(
  pool: DatabasePool,
  tenant: TenantRef,
  options: TenantTransactionOptions,
  fn: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  const searchPath = searchPathFor(tenant);
  const role = roleNameFor(tenant);
  const count = options.countRequest
    ? sql.fragment`public.count_api_request(${tenant.id}),`
    : sql.fragment``;
  return pool.transaction(async (tx) => {
    // transaction_read_only may be switched on at any point; it is only ever left as it is here.
    await tx.query(
      options.readOnly
        ? sql.unsafe`/* enterTenant */ SELECT ${count} set_config('search_path', ${searchPath}, true),
            set_config('role', ${role}, true), set_config('app.tenant_id', ${tenant.id}, true),
            set_config('transaction_read_only', 'on', true)`
        : sql.unsafe`/* enterTenant */ SELECT ${count} set_config('search_path', ${searchPath}, true),
            set_config('role', ${role}, true), set_config('app.tenant_id', ${tenant.id}, true)`,
    );
    return fn(tx);
    // No automatic retry: a request's resolvers cannot be replayed behind its back.
  }, 0);
}

/**
 * A transaction for work that belongs to no tenant (an operator's request): the login role, no
 * tenant schema on the search path, no app.tenant_id, so tenant roles' row-level policies match
 * nothing. Read-only when asked, like a tenant's.
 */
export async function withoutTenant<T>(
  pool: DatabasePool,
  options: TenantTransactionOptions,
  fn: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  return pool.transaction(async (tx) => {
    if (options.readOnly) {
      await tx.query(sql.unsafe`
        /* enterPlatform */ SELECT set_config('transaction_read_only', 'on', true)`);
    }
    return fn(tx);
  }, 0);
}

/**
 * Runs `fn` in the same transaction under the login role (RESET to the session's own role), then
 * switches back to the tenant's role. For platform tables that tenant roles may not touch.
 */
export async function asPlatform<T, C extends CommonQueryMethods>(
  tx: C,
  tenant: TenantRef,
  fn: (tx: C) => Promise<T>,
): Promise<T> {
  await tx.query(sql.unsafe`/* leaveTenantRole */ SELECT set_config('role', 'none', true)`);
  try {
    return await fn(tx);
  } finally {
    await tx.query(sql.unsafe`
      /* enterTenantRole */ SELECT set_config('role', ${roleNameFor(tenant)}, true)`);
  }
}
