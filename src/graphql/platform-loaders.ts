/**
 * DataLoaders for the usage figures of platform tenants, one per kind of figure, keyed by tenant
 * id. A set is created by the root field that returns the tenants (never shared between
 * requests) and runs its batches through ctx.platform, under the login role: an operator's
 * request may be in its own tenant's role. A page of tenants costs one statement per figure asked
 * for, whatever its size.
 */
import DataLoader from 'dataloader';
import type { CommonQueryMethods } from 'slonik';
import {
  activeUsersByTenant,
  apiKeysByTenant,
  apiRequestsThisPeriodByTenant,
  productsByTenant,
  storageBytesByTenant,
  type TenantCount,
} from '../data/platform-tenants.js';
import { MAX_PAGE_SIZE } from './pagination.js';

type Platform = <T>(fn: (db: CommonQueryMethods) => Promise<T>) => Promise<T>;
type CountQuery = (
  db: CommonQueryMethods,
  ids: readonly string[],
) => Promise<readonly TenantCount[]>;

export type UsageLoaders = ReturnType<typeof createUsageLoaders>;

export function createUsageLoaders(platform: Platform) {
  /** The figure of each tenant in key order; 0 for a tenant the query left out. */
  const counting = (query: CountQuery) =>
    new DataLoader<string, number>(
      async (tenantIds) => {
        const rows = await platform((db) => query(db, tenantIds));
        const found = new Map(rows.map((row) => [row.tenant_id, row.count]));
        return tenantIds.map((id) => found.get(id) ?? 0);
      },
      { maxBatchSize: MAX_PAGE_SIZE },
    );
  return {
    activeUsers: counting(activeUsersByTenant),
    apiKeys: counting(apiKeysByTenant),
    products: counting(productsByTenant),
    storageBytes: counting(storageBytesByTenant),
    apiRequestsThisMonth: counting(apiRequestsThisPeriodByTenant),
  };
}
