/**
 * The current tenant's usage as the request's transaction sees it (its role, its search_path, and
 * row-level security on the platform tables): live counts of what the plan limits, and the
 * period rows of public.usage_metrics that the meter and the snapshots write.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { isActiveUser } from '../identity/active-user.js';

const CurrentUsageRow = z.object({
  active_users: z.number(),
  products: z.number(),
  api_requests: z.number(),
  api_errors: z.number(),
  storage_mb: z.number(),
  forecasts: z.number(),
  exports: z.number(),
});
export type CurrentUsageRow = z.infer<typeof CurrentUsageRow>;

/**
 * One statement: active users (public.users) and active products (the tenant's schema) counted
 * now, with the period's usage_metrics row (zeros when there is none yet).
 */
export async function currentUsage(
  db: CommonQueryMethods,
  tenantId: string,
  periodStart: Date,
): Promise<CurrentUsageRow> {
  return db.one(sql.type(CurrentUsageRow)`
    /* currentUsage */
    SELECT
      (SELECT count(*)::int FROM public.users u
        WHERE u.tenant_id = ${tenantId} AND ${isActiveUser('u')}) AS active_users,
      (SELECT count(*)::int FROM products p WHERE p.is_active) AS products,
      coalesce(m.api_requests_count, 0) AS api_requests,
      coalesce(m.api_errors_count, 0) AS api_errors,
      coalesce(m.storage_used_mb, 0) AS storage_mb,
      coalesce(m.forecasts_generated, 0) AS forecasts,
      coalesce(m.reports_exported, 0) AS exports
    FROM (SELECT) AS one
    LEFT JOIN public.usage_metrics m
      ON m.tenant_id = ${tenantId} AND m.period_start = ${sql.timestamp(periodStart)}`);
}

const UsagePeriodRow = z.object({
  period_start: z.date(),
  api_requests: z.number(),
  api_errors: z.number(),
  active_users: z.number(),
  products: z.number(),
  storage_mb: z.number(),
  forecasts: z.number(),
  exports: z.number(),
});
export type UsagePeriodRow = z.infer<typeof UsagePeriodRow>;

/**
 * One row per period start given, newest first, zeros for a period without a usage_metrics row.
 * The periods come from the caller (calendar months in UTC), not from the session's time zone.
 */
export async function usageHistory(
  db: CommonQueryMethods,
  tenantId: string,
  periodStarts: readonly Date[],
): Promise<readonly UsagePeriodRow[]> {
  return db.any(sql.type(UsagePeriodRow)`
    /* usageHistory */
    SELECT p.period_start,
      coalesce(m.api_requests_count, 0) AS api_requests,
      coalesce(m.api_errors_count, 0) AS api_errors,
      coalesce(m.active_users_count, 0) AS active_users,
      coalesce(m.total_entities_count, 0) AS products,
      coalesce(m.storage_used_mb, 0) AS storage_mb,
      coalesce(m.forecasts_generated, 0) AS forecasts,
      coalesce(m.reports_exported, 0) AS exports
    FROM unnest(${sql.array(
      periodStarts.map((start) => start.toISOString()),
      'timestamptz',
    )}::timestamptz[]) AS p(period_start)
    LEFT JOIN public.usage_metrics m ON m.tenant_id = ${tenantId} AND m.period_start = p.period_start
    ORDER BY p.period_start DESC`);
}

/**
 * Counts one forecast run in the period's usage_metrics row (under the login role: tenant roles
 * only read usage). The snapshot later recounts the period's runs, so the two agree.
 */
export async function countForecastRunUsage(
  db: CommonQueryMethods,
  tenantId: string,
  periodStart: Date,
): Promise<void> {
  await db.query(sql.unsafe`
    /* countForecastRunUsage */
    INSERT INTO public.usage_metrics (tenant_id, period_start, period_end, forecasts_generated)
    VALUES (${tenantId}, ${sql.timestamp(periodStart)}, ${sql.timestamp(periodStart)} + interval '1 month', 1)
    ON CONFLICT (tenant_id, period_start) DO UPDATE
      SET forecasts_generated = usage_metrics.forecasts_generated + 1`);
}
