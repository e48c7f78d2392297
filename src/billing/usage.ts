/**
 * A tenant's usage against its plan: what `usage` and `usageHistory` answer. Request counts are
 * the period's usage_metrics row plus what this server has counted and not written yet (the
 * meter's pending counts, read so that a flush running alongside is counted exactly once, see
 * UsageMeter.readWithPending); other servers' unwritten counts (at most one flush interval each)
 * are not in it. Users and products are counted live; storage, forecasts and exports come from
 * the snapshot (usage-snapshots.ts).
 */
import type { CommonQueryMethods } from 'slonik';
import type { TenantInfo } from '../auth/principal.js';
import { currentUsage, usageHistory, type UsagePeriodRow } from '../data/usage.js';
import { BadUserInputError } from '../errors.js';
import { periodOf, type UsageMeter } from './metering.js';
import { PLANS } from './plans.js';

export const USAGE_METRICS = [
  'API_REQUESTS',
  'API_ERRORS',
  'USERS',
  'PRODUCTS',
  'STORAGE_MB',
  'FORECASTS_GENERATED',
  'EXPORTS',
] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

export type UsageItem = {
  metric: UsageMetric;
  used: number;
  /** null: unlimited. */
  limit: number | null;
  /** used / limit x 100, to one decimal; null without a limit. */
  percent: number | null;
};

export type Usage = { periodStart: Date; periodEnd: Date; items: UsageItem[] };

export type UsagePeriod = {
  periodStart: Date;
  periodEnd: Date;
  apiRequests: number;
  apiErrors: number;
  activeUsers: number;
  products: number;
  storageMb: number;
  forecastsGenerated: number;
  exports: number;
};

export const MIN_HISTORY_MONTHS = 1;
export const MAX_HISTORY_MONTHS = 24;
export const DEFAULT_HISTORY_MONTHS = 6;

/** used / limit as a percentage to one decimal (half up); null without a limit. */
export function percentOf(used: number, limit: number | null): number | null {
  if (limit === null) return null;
  return Math.round((used * 1000) / limit) / 10;
}

const item = (metric: UsageMetric, used: number, limit: number | null): UsageItem => ({
  metric,
  used,
  limit,
  percent: percentOf(used, limit),
});

type UsageSource = {
  db: CommonQueryMethods;
  tenant: Pick<TenantInfo, 'id' | 'tier' | 'limits'>;
  meter: UsageMeter;
  now: Date;
};

/** The tenant's usage in the period that contains `now`, in one statement. */
export async function usageOf({ db, tenant, meter, now }: UsageSource): Promise<Usage> {
  const period = periodOf(now);
  const { result: row, pending } = await meter.readWithPending(tenant.id, now, () =>
    currentUsage(db, tenant.id, period.start),
  );
  const { limits } = tenant;
  return {
    periodStart: period.start,
    periodEnd: period.end,
    items: [
      item(
        'API_REQUESTS',
        row.api_requests + pending.requests,
        PLANS[tenant.tier].limits.monthlyApiRequests,
      ),
      item('API_ERRORS', row.api_errors + pending.errors, null),
      item('USERS', row.active_users, limits.maxUsers),
      item('PRODUCTS', row.products, limits.maxProducts),
      item('STORAGE_MB', row.storage_mb, limits.maxStorageMb),
      item('FORECASTS_GENERATED', row.forecasts, PLANS[tenant.tier].limits.monthlyForecastRuns),
      item('EXPORTS', row.exports, null),
    ],
  };
}

/** The period starts of the `months` calendar months (UTC) up to the one of `now`, newest first. */
export function monthsBack(now: Date, months: number): Date[] {
  return Array.from(
    { length: months },
    (_, back) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1)),
  );
}

/** `months` of usageHistory: null (given explicitly) means the default. */
export function validHistoryMonths(months: number | null): number {
  const value = months ?? DEFAULT_HISTORY_MONTHS;
  if (!Number.isInteger(value) || value < MIN_HISTORY_MONTHS || value > MAX_HISTORY_MONTHS) {
    throw new BadUserInputError(
      `months must be from ${MIN_HISTORY_MONTHS} to ${MAX_HISTORY_MONTHS}.`,
      { field: 'months' },
    );
  }
  return value;
}

/**
 * One entry per calendar month, newest first, months without a row as zeros. The current month's
 * request counts include this server's pending ones, as `usage` does.
 */
export async function usageHistoryOf(
  { db, tenant, meter, now }: UsageSource,
  months: number | null,
): Promise<UsagePeriod[]> {
  const starts = monthsBack(now, validHistoryMonths(months));
  const current = periodOf(now).start.getTime();
  const { result: rows, pending } = await meter.readWithPending(tenant.id, now, () =>
    usageHistory(db, tenant.id, starts),
  );
  return rows.map((row: UsagePeriodRow) => {
    const isCurrent = row.period_start.getTime() === current;
    return {
      periodStart: row.period_start,
      periodEnd: periodOf(row.period_start).end,
      apiRequests: row.api_requests + (isCurrent ? pending.requests : 0),
      apiErrors: row.api_errors + (isCurrent ? pending.errors : 0),
      activeUsers: row.active_users,
      products: row.products,
      storageMb: row.storage_mb,
      forecastsGenerated: row.forecasts,
      exports: row.exports,
    };
  });
}
