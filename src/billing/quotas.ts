/**
 * Plan quotas on things a tenant accumulates: active products (SKUs) and active users. A check
 * and the insert it guards must not interleave with another's, or 200 concurrent inserts with room
 * for 10 would all see room: each takes the tenant's advisory lock for that quota first (held until
 * its transaction ends), and the insert itself re-counts in a statement that starts after the lock
 * is held (READ COMMITTED takes a new snapshot per statement).
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { isActiveUser } from '../identity/active-user.js';
import { QuotaExceededError } from '../errors.js';

export type QuotaMetric = 'PRODUCTS' | 'USERS';

const NAMES: Record<QuotaMetric, string> = { PRODUCTS: 'active products', USERS: 'active users' };

/**
 * Waits for the tenant's lock on a quota; it lasts until the transaction ends. Inside a tenant
 * transaction the tenant is app.tenant_id; platform code names it.
 */
export async function lockQuota(
  db: CommonQueryMethods,
  metric: QuotaMetric,
  tenantId?: string,
): Promise<void> {
  const tenant = tenantId
    ? sql.fragment`${tenantId}`
    : sql.fragment`current_setting('app.tenant_id')`;
  await db.query(sql.unsafe`
    /* lockQuota */
    SELECT pg_advisory_xact_lock(hashtextextended(${`quota:${metric}:`} || ${tenant}, 0))`);
}

/** The QUOTA_EXCEEDED error a client gets, with { metric, limit, used } in its extensions. */
export function quotaExceeded(metric: QuotaMetric, limit: number, used: number) {
  return new QuotaExceededError(
    `Plan limit reached: ${used} of ${limit} ${NAMES[metric]}. Upgrade the plan, or archive some first.`,
    { extensions: { metric, limit, used } },
  );
}

const Usage = z.object({ limit: z.number().nullable(), used: z.coerce.number() });

/** Active products and the plan's limit, read in a tenant transaction. */
export async function productQuota(db: CommonQueryMethods) {
  return db.one(sql.type(Usage)`
    /* productQuota */
    SELECT (SELECT max_entities FROM public.tenants WHERE id = current_setting('app.tenant_id')::uuid) AS limit,
      (SELECT count(*) FROM products WHERE is_active) AS used`);
}

/** Active users of a tenant and the plan's limit, read by platform code. */
export async function userQuota(db: CommonQueryMethods, tenantId: string) {
  return db.one(sql.type(Usage)`
    /* userQuota */
    SELECT (SELECT max_users FROM public.tenants WHERE id = ${tenantId}) AS limit,
      (SELECT count(*) FROM public.users u
        WHERE u.tenant_id = ${tenantId} AND ${isActiveUser('u')}) AS used`);
}

/** True when one more active user fits (a condition for an INSERT ... SELECT ... WHERE). */
export const roomForUser = (tenantId: string) => sql.fragment`(
  SELECT t.max_users IS NULL OR t.max_users > (
    SELECT count(*) FROM public.users u
    WHERE u.tenant_id = t.id AND ${isActiveUser('u')})
  FROM public.tenants t WHERE t.id = ${tenantId})`;

/** True when one more active product fits, inside a tenant transaction. */
export const roomForProduct = sql.fragment`(
  SELECT t.max_entities IS NULL OR t.max_entities > (SELECT count(*) FROM products WHERE is_active)
  FROM public.tenants t WHERE t.id = current_setting('app.tenant_id')::uuid)`;
