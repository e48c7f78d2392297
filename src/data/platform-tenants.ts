/**
 * Every tenant, as platform operators see it: the tenants registry with its limits and schema
 * version, paged by (created_at, id), and each tenant's usage counted for a whole page at once
 * (one statement per kind of figure, whatever the page size). Runs under the login role
 * (ctx.platform): tenant roles see only their own rows of the platform tables.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { isActiveUser } from '../identity/active-user.js';
import { microsecondKey } from '../graphql/pagination.js';
import { STATUSES, TIERS, type TenantStatus, type Tier } from '../tenants/tiers.js';

export const PlatformTenantRow = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  schema_name: z.string(),
  subscription_tier: z.enum(TIERS),
  subscription_status: z.enum(STATUSES),
  clerk_organization_id: z.string().nullable(),
  trial_ends_at: z.date().nullable(),
  created_at: z.date(),
  deleted_at: z.date().nullable(),
  max_users: z.number().nullable(),
  max_entities: z.number().nullable(),
  max_storage_mb: z.number().nullable(),
  schema_version: z.number().nullable(),
  /** created_at to the microsecond (a JavaScript Date keeps milliseconds), for cursors. */
  created_key: z.string(),
});
export type PlatformTenantRow = z.infer<typeof PlatformTenantRow>;

const platformTenantColumns = sql.fragment`
  t.id, t.slug, t.name, t.schema_name, t.subscription_tier, t.subscription_status,
  t.clerk_organization_id, t.trial_ends_at, t.created_at, t.deleted_at, t.max_users,
  t.max_entities, t.max_storage_mb, s.version AS schema_version,
  ${microsecondKey(sql.identifier(['t', 'created_at']))} AS created_key`;

const fromTenants = sql.fragment`
  public.tenants t LEFT JOIN public.tenant_migration_state s ON s.tenant_id = t.id`;

export type PlatformTenantFilter = {
  status?: TenantStatus | null;
  tier?: Tier | null;
  /** Slug or name, case-insensitive substring; % and _ match themselves. */
  search?: string | null;
  includeDeleted?: boolean | null;
};

/** A LIKE pattern that matches `text` anywhere, with LIKE's wildcards and escape taken literally. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

function conditions(filter: PlatformTenantFilter) {
  const list = [];
  if (!filter.includeDeleted) list.push(sql.fragment`t.deleted_at IS NULL`);
  if (filter.status != null) list.push(sql.fragment`t.subscription_status = ${filter.status}`);
  if (filter.tier != null) list.push(sql.fragment`t.subscription_tier = ${filter.tier}`);
  const search = filter.search?.trim();
  if (search) {
    const pattern = containsPattern(search);
    list.push(sql.fragment`(t.slug ILIKE ${pattern} OR t.name ILIKE ${pattern})`);
  }
  return list;
}

const where = (list: ReturnType<typeof conditions>) =>
  list.length > 0 ? sql.fragment`WHERE ${sql.join(list, sql.fragment` AND `)}` : sql.fragment``;

export async function listPlatformTenants(
  db: CommonQueryMethods,
  options: {
    limit: number;
    after: { key: string; id: string } | null;
    filter: PlatformTenantFilter;
  },
): Promise<readonly PlatformTenantRow[]> {
  const list = conditions(options.filter);
  if (options.after) {
    list.push(
      sql.fragment`(t.created_at, t.id) > (${options.after.key}::timestamptz, ${options.after.id}::uuid)`,
    );
  }
  return db.any(sql.type(PlatformTenantRow)`
    /* listPlatformTenants */
    SELECT ${platformTenantColumns} FROM ${fromTenants} ${where(list)}
    ORDER BY t.created_at, t.id LIMIT ${options.limit}`);
}

export async function countPlatformTenants(
  db: CommonQueryMethods,
  filter: PlatformTenantFilter,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    /* countPlatformTenants */
    SELECT count(*)::int AS count FROM public.tenants t ${where(conditions(filter))}`);
}

/** One tenant by id or slug, deleted ones included; null when there is none. */
export async function findPlatformTenant(
  db: CommonQueryMethods,
  by: { id: string } | { slug: string },
): Promise<PlatformTenantRow | null> {
  return db.maybeOne(sql.type(PlatformTenantRow)`
    /* findPlatformTenant */
    SELECT ${platformTenantColumns} FROM ${fromTenants}
    WHERE ${'id' in by ? sql.fragment`t.id = ${by.id}` : sql.fragment`t.slug = ${by.slug}`}`);
}

const Count = z.object({ tenant_id: z.string(), count: z.number() });
export type TenantCount = z.infer<typeof Count>;

const ids = (tenantIds: readonly string[]) => sql.array(tenantIds, 'uuid');

/** Active members (public.users) of each tenant; tenants without any are left out. */
export async function activeUsersByTenant(db: CommonQueryMethods, tenantIds: readonly string[]) {
  return db.any(sql.type(Count)`
    /* activeUsersByTenant */
    SELECT tenant_id, count(*)::int AS count FROM public.users u
    WHERE tenant_id = ANY(${ids(tenantIds)}) AND ${isActiveUser('u')}
    GROUP BY tenant_id`);
}

/** API keys of each tenant that still work: not revoked, not expired. */
export async function apiKeysByTenant(db: CommonQueryMethods, tenantIds: readonly string[]) {
  return db.any(sql.type(Count)`
    /* apiKeysByTenant */
    SELECT tenant_id, count(*)::int AS count FROM public.api_keys
    WHERE tenant_id = ANY(${ids(tenantIds)}) AND revoked_at IS NULL
      AND (expires_at IS NULL OR expires_at > now())
    GROUP BY tenant_id`);
}

/** Requests counted in each tenant's usage_metrics row for the period that contains now. */
export async function apiRequestsThisPeriodByTenant(
  db: CommonQueryMethods,
  tenantIds: readonly string[],
) {
  return db.any(sql.type(Count)`
    /* apiRequestsThisPeriodByTenant */
    SELECT DISTINCT ON (tenant_id) tenant_id, api_requests_count AS count FROM public.usage_metrics
    WHERE tenant_id = ANY(${ids(tenantIds)}) AND period_start <= now() AND period_end > now()
    ORDER BY tenant_id, period_start DESC`);
}

/**
 * Bytes of each tenant schema's tables with their indexes and TOAST, the way
 * public.list_tenant_schemas() sums them; a tenant whose schema is missing is left out.
 */
export async function storageBytesByTenant(db: CommonQueryMethods, tenantIds: readonly string[]) {
  return db.any(sql.type(Count)`
    /* storageBytesByTenant */
    SELECT t.id AS tenant_id, coalesce(sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::bigint AS count
    FROM public.tenants t
    JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema_name::name
    LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relkind = 'r'
    WHERE t.id = ANY(${ids(tenantIds)})
    GROUP BY t.id`);
}

const ProductsTable = z.object({ tenant_id: z.string(), schema_name: z.string() });

/**
 * Products in each tenant's schema: one statement finds the schemas that have a products table
 * (a rolled-back or half-purged schema may not), one counts them all (UNION ALL).
 */
export async function productsByTenant(
  db: CommonQueryMethods,
  tenantIds: readonly string[],
): Promise<readonly TenantCount[]> {
  const tables = await db.any(sql.type(ProductsTable)`
    /* productTablesOfTenants */
    SELECT t.id AS tenant_id, t.schema_name
    FROM public.tenants t
    JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema_name::name
    JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = 'products' AND c.relkind = 'r'
    WHERE t.id = ANY(${ids(tenantIds)})`);
  if (tables.length === 0) return [];
  const counts = tables.map(
    (table) => sql.fragment`
      SELECT ${table.tenant_id}::uuid AS tenant_id, count(*)::int AS count
      FROM ${sql.identifier([table.schema_name, 'products'])}`,
  );
  return db.any(sql.type(Count)`
    /* productsByTenant */ ${sql.join(counts, sql.fragment` UNION ALL `)}`);
}
