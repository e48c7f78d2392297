/**
 * Forecasts, per product and type within a date range. A forecast that a later run replaced
 * (replaced_by_run_id) is no longer current: only a look at its own run shows it.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';

export const FORECAST_TYPES = ['DEMAND', 'REVENUE', 'CASH_FLOW'] as const;
export type ForecastType = (typeof FORECAST_TYPES)[number];
export const PERIOD_TYPES = ['DAILY', 'WEEKLY', 'MONTHLY'] as const;

export const ForecastRow = z.object({
  id: z.string(),
  product_id: z.string().nullable(),
  forecast_date: z.string(),
  forecast_type: z.enum(FORECAST_TYPES),
  period_type: z.enum(PERIOD_TYPES),
  model_type: z.string(),
  model_version: z.string().nullable(),
  predicted_value: z.string(),
  lower_bound: z.string().nullable(),
  upper_bound: z.string().nullable(),
  confidence_level: z.string().nullable(),
  actual_value: z.string().nullable(),
  accuracy_percentage: z.string().nullable(),
  currency: z.string().nullable(),
  run_id: z.string().nullable(),
  replaced_by_run_id: z.string().nullable(),
});
export type ForecastRow = z.infer<typeof ForecastRow>;

const periodLength = sql.fragment`(CASE f.period_type WHEN 'DAILY' THEN interval '1 day'
  WHEN 'WEEKLY' THEN interval '7 days' ELSE interval '1 month' END)`;

/**
 * Actuals at read time: a product's DEMAND or REVENUE forecast that has no actual value yet and
 * whose period has ended (before today, UTC) gets the sales of its period, in its currency (0 when
 * there were none). Follows `forecasts f` in every query that selects forecastColumns. (A run
 * stores the actuals of the periods that had ended when it ran, CASH_FLOW's included.)
 */
export const forecastActuals = sql.fragment`
  LEFT JOIN LATERAL (
    SELECT (CASE WHEN f.forecast_type = 'DEMAND' THEN coalesce(sum(s.quantity), 0)
                 ELSE coalesce(sum(s.net_revenue), 0) END)::numeric(15,2) AS value
    FROM sales s
    WHERE s.product_id = f.product_id AND (f.currency IS NULL OR s.currency = f.currency)
      AND s.sale_date >= f.forecast_date AND s.sale_date < f.forecast_date + ${periodLength}
  ) a ON f.actual_value IS NULL AND f.product_id IS NOT NULL AND f.forecast_type <> 'CASH_FLOW'
    AND (f.forecast_date + ${periodLength})::date <= (now() AT TIME ZONE 'UTC')::date`;

const actualValue = sql.fragment`coalesce(f.actual_value, a.value)`;

/** 100 − APE floored at 0 (an actual of 0: 100 when the forecast is 0 too, else 0). */
const accuracyValue = sql.fragment`coalesce(f.accuracy_percentage, (CASE
  WHEN a.value IS NULL THEN NULL
  WHEN a.value = 0 THEN CASE WHEN f.predicted_value = 0 THEN 100 ELSE 0 END
  ELSE greatest(0, 100 - abs(a.value - f.predicted_value) / a.value * 100) END)::numeric(5,2))`;

export const forecastColumns = sql.fragment`
  f.id, f.product_id, f.forecast_date, f.forecast_type, f.period_type, f.model_type, f.model_version,
  f.predicted_value, f.lower_bound, f.upper_bound, f.confidence_level,
  ${actualValue} AS actual_value, ${accuracyValue} AS accuracy_percentage,
  f.currency::text AS currency, f.run_id, f.replaced_by_run_id`;

export type ForecastKey = {
  productId: string;
  type: ForecastType | null;
  from: string | null;
  to: string | null;
};

/** Rows for many (product, type, range) keys in one statement, tagged with their key's index. */
export async function forecastsByKeys(db: CommonQueryMethods, keys: readonly ForecastKey[]) {
  return db.any(sql.type(ForecastRow.extend({ idx: z.number() }))`
    /* forecastsByKeys */
    SELECT k.idx::int AS idx, ${forecastColumns}
    FROM ${sql.unnest(
      keys.map((key) => [key.productId, key.type, key.from, key.to]),
      ['uuid', 'text', 'date', 'date'],
    )} WITH ORDINALITY AS k(product_id, forecast_type, from_date, to_date, idx)
    JOIN forecasts f ON f.product_id = k.product_id AND f.replaced_by_run_id IS NULL
      AND (k.forecast_type IS NULL OR f.forecast_type = k.forecast_type)
      AND (k.from_date IS NULL OR f.forecast_date >= k.from_date)
      AND (k.to_date IS NULL OR f.forecast_date <= k.to_date)
    ${forecastActuals}
    ORDER BY k.idx, f.forecast_date, f.forecast_type, f.id`);
}

export async function listForecasts(
  db: CommonQueryMethods,
  filter: {
    type: ForecastType | null;
    from: string | null;
    to: string | null;
    productId: string | null;
    /** One run's rows, replaced ones included; null: the current forecasts. */
    runId: string | null;
  },
) {
  return db.any(sql.type(ForecastRow)`
    /* listForecasts */
    SELECT ${forecastColumns} FROM forecasts f ${forecastActuals}
    WHERE (${filter.type}::text IS NULL OR f.forecast_type = ${filter.type})
      AND (${filter.from}::date IS NULL OR f.forecast_date >= ${filter.from}::date)
      AND (${filter.to}::date IS NULL OR f.forecast_date <= ${filter.to}::date)
      AND (${filter.productId}::uuid IS NULL OR f.product_id = ${filter.productId}::uuid)
      AND (CASE WHEN ${filter.runId}::uuid IS NULL THEN f.replaced_by_run_id IS NULL
                ELSE f.run_id = ${filter.runId}::uuid END)
    ORDER BY f.forecast_date, f.forecast_type, f.product_id NULLS FIRST, f.id
    LIMIT 1000`);
}

export const ForecastAccuracyRow = z.object({
  periods: z.number(),
  mean_accuracy: z.coerce.number().nullable(),
  mape: z.coerce.number().nullable(),
  first_date: z.string().nullable(),
  last_date: z.string().nullable(),
});
export type ForecastAccuracyRow = z.infer<typeof ForecastAccuracyRow>;

/** Current forecasts of a product that have an actual value (stored or at read time), summarised. */
export async function forecastAccuracyOf(
  db: CommonQueryMethods,
  key: { productId: string; type: ForecastType; periodType: string },
) {
  return db.one(sql.type(ForecastAccuracyRow)`
    /* forecastAccuracy */
    SELECT count(*)::int AS periods, avg(${accuracyValue}) AS mean_accuracy,
      avg(abs(${actualValue} - f.predicted_value) / ${actualValue} * 100)
        FILTER (WHERE ${actualValue} <> 0) AS mape,
      min(f.forecast_date)::text AS first_date, max(f.forecast_date)::text AS last_date
    FROM forecasts f ${forecastActuals}
    WHERE f.product_id = ${key.productId} AND f.forecast_type = ${key.type}
      AND f.period_type = ${key.periodType} AND f.replaced_by_run_id IS NULL
      AND ${actualValue} IS NOT NULL`);
}
