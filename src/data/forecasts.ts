/**
 * Forecasts, per product and type within a date range.
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
});
export type ForecastRow = z.infer<typeof ForecastRow>;

export const forecastColumns = sql.fragment`
  f.id, f.product_id, f.forecast_date, f.forecast_type, f.period_type, f.model_type, f.model_version,
  f.predicted_value, f.lower_bound, f.upper_bound, f.confidence_level, f.actual_value,
  f.accuracy_percentage`;

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
    JOIN forecasts f ON f.product_id = k.product_id
      AND (k.forecast_type IS NULL OR f.forecast_type = k.forecast_type)
      AND (k.from_date IS NULL OR f.forecast_date >= k.from_date)
      AND (k.to_date IS NULL OR f.forecast_date <= k.to_date)
    ORDER BY k.idx, f.forecast_date, f.forecast_type, f.id`);
}

export async function listForecasts(
  db: CommonQueryMethods,
  filter: {
    type: ForecastType | null;
    from: string | null;
    to: string | null;
    productId: string | null;
  },
) {
  return db.any(sql.type(ForecastRow)`
    /* listForecasts */
    SELECT ${forecastColumns} FROM forecasts f
    WHERE (${filter.type}::text IS NULL OR f.forecast_type = ${filter.type})
      AND (${filter.from}::date IS NULL OR f.forecast_date >= ${filter.from}::date)
      AND (${filter.to}::date IS NULL OR f.forecast_date <= ${filter.to}::date)
      AND (${filter.productId}::uuid IS NULL OR f.product_id = ${filter.productId}::uuid)
    ORDER BY f.forecast_date, f.forecast_type, f.product_id NULLS FIRST, f.id
    LIMIT 1000`);
}
