/**
 * The tenant transaction: every tenant-scoped unit of work runs in exactly one transaction that
 * first sets search_path, role and app.tenant_id with set_config(..., true), the LOCAL form, in one
 * statement with bound parameters. LOCAL settings end with the transaction, so a pooled connection
 * (or a PgBouncer server connection in transaction mode) never carries them into another request.
 */
import type { DatabasePool, DatabaseTransactionConnection } from 'slonik';
import { roleNameFor, searchPathFor, type TenantRef } from '../tenants/names.js';
import { sql } from './sql.js';

export type TenantTransaction = DatabaseTransactionConnection;

export type TenantTransactionOptions = { readOnly: boolean };

export async function withTenant<T>(
  pool: DatabasePool,
  tenant: TenantRef,
  options: TenantTransactionOptions,
  fn: (tx: TenantTransaction) => Promise<T>,
): Promise<T> {
  const searchPath = searchPathFor(tenant);
  const role = roleNameFor(tenant);
  return pool.transaction(async (tx) => {
    // transaction_read_only may be switched on at any point; it is only ever left as it is here.
    await tx.query(
      options.readOnly
        ? sql.unsafe`/* enterTenant */ SELECT set_config('search_path', ${searchPath}, true),
            set_config('role', ${role}, true), set_config('app.tenant_id', ${tenant.id}, true),
            set_config('transaction_read_only', 'on', true)`
        : sql.unsafe`/* enterTenant */ SELECT set_config('search_path', ${searchPath}, true),
            set_config('role', ${role}, true), set_config('app.tenant_id', ${tenant.id}, true)`,
    );
    return fn(tx);
  });
}
