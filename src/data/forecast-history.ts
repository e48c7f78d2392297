/**
 * What a forecast run reads and writes in the tenant's schema: products, sales summed per period
 * (units, net revenue and their cost at the product's unit cost, per currency), and the forecast
 * rows it replaces and inserts.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { TRUNC_FIELD, type ForecastPeriodType } from '../forecasting/periods.js';
import type { ForecastType } from './forecasts.js';

const ProductRef = z.object({ id: z.string(), is_active: z.boolean() });

/** The products among `ids` that exist (in this tenant's schema: another tenant's are not there). */
export async function productsByIdsForForecast(db: CommonQueryMethods, ids: readonly string[]) {
  return db.any(sql.type(ProductRef)`
    /* productsForForecast */
    SELECT id, is_active FROM products WHERE id = ANY(${sql.array(ids, 'uuid')}) ORDER BY id`);
}

export async function activeProductIds(db: CommonQueryMethods) {
  return db.anyFirst(sql.type(z.object({ id: z.string() }))`
    /* activeProductIdsForForecast */ SELECT id FROM products WHERE is_active ORDER BY id`);
}

/** Of `ids`, those with at least one sale before `before`. */
export async function productsWithSalesBefore(
  db: CommonQueryMethods,
  ids: readonly string[],
  before: string,
) {
  return db.anyFirst(sql.type(z.object({ id: z.string() }))`
    /* productsWithSalesBefore */
    SELECT p.id FROM products p
    WHERE p.id = ANY(${sql.array(ids, 'uuid')})
      AND EXISTS (SELECT 1 FROM sales s WHERE s.product_id = p.id AND s.sale_date < ${before}::date)`);
}

export const PeriodSales = z.object({
  product_id: z.string(),
  currency: z.string(),
  period: z.string(),
  units: z.number(),
  revenue: z.number(),
  cost: z.number(),
});
export type PeriodSales = z.infer<typeof PeriodSales>;

/**
 * Sales in [from, to) summed per product, currency and period. `productIds` null: every product
 * (the company's cash flow). The caller decides which side of asOf each period belongs to.
 */
export async function salesPerPeriod(
  db: CommonQueryMethods,
  options: {
    productIds: readonly string[] | null;
    periodType: ForecastPeriodType;
    from: string | null;
    to: string;
  },
) {
  const field = TRUNC_FIELD[options.periodType];
  const products =
    options.productIds === null
      ? sql.fragment`TRUE`
      : sql.fragment`s.product_id = ANY(${sql.array(options.productIds, 'uuid')})`;
  return db.any(sql.type(PeriodSales)`
    /* salesPerPeriod */
    SELECT s.product_id, s.currency::text AS currency,
      date_trunc(${field}, s.sale_date)::date::text AS period,
      sum(s.quantity)::float8 AS units, sum(s.net_revenue)::float8 AS revenue,
      sum(s.quantity * p.unit_cost)::float8 AS cost
    FROM sales s JOIN products p ON p.id = s.product_id
    WHERE ${products} AND s.sale_date < ${options.to}::date
      AND (${options.from}::date IS NULL OR s.sale_date >= ${options.from}::date)
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
}

export type NewForecastRow = {
  productId: string | null;
  currency: string | null;
  date: string;
  model: string;
  predicted: number;
  lower: number | null;
  upper: number | null;
  actual: number | null;
  accuracy: number | null;
};

/**
 * Marks the current forecasts that the run replaces (same type and period type, from its first
 * period on, of the products it forecast, or the company's for CASH_FLOW) and inserts its rows.
 */
export async function replaceForecasts(
  db: CommonQueryMethods,
  run: {
    id: string;
    type: ForecastType;
    periodType: ForecastPeriodType;
    firstPeriod: string;
    confidenceLevel: number;
    modelVersion: string;
  },
  productIds: readonly string[],
  rows: readonly NewForecastRow[],
) {
  const whose =
    run.type === 'CASH_FLOW'
      ? sql.fragment`product_id IS NULL`
      : sql.fragment`product_id = ANY(${sql.array(productIds, 'uuid')})`;
  await db.query(sql.unsafe`
    /* replaceForecasts */
    UPDATE forecasts SET replaced_by_run_id = ${run.id}
    WHERE replaced_by_run_id IS NULL AND ${whose} AND forecast_type = ${run.type}
      AND period_type = ${run.periodType} AND forecast_date >= ${run.firstPeriod}::date
      AND run_id IS DISTINCT FROM ${run.id}::uuid`);
  const chunk = 5_000;
  for (let at = 0; at < rows.length; at += chunk) {
    const part = rows.slice(at, at + chunk);
    await db.query(sql.unsafe`
      /* insertForecasts */
      INSERT INTO forecasts (company_id, product_id, forecast_date, forecast_type, period_type,
        model_type, model_version, predicted_value, lower_bound, upper_bound, confidence_level,
        actual_value, accuracy_percentage, run_id, currency)
      SELECT (SELECT c.id FROM companies c ORDER BY c.created_at, c.id LIMIT 1), r.product_id,
        r.forecast_date, ${run.type}, ${run.periodType}, r.model, ${run.modelVersion}, r.predicted,
        r.lower, r.upper, ${run.confidenceLevel}, r.actual, r.accuracy, ${run.id}, r.currency
      FROM ${sql.unnest(
        part.map((row) => [
          row.productId,
          row.currency,
          row.date,
          row.model,
          row.predicted,
          row.lower,
          row.upper,
          row.actual,
          row.accuracy,
        ]),
        ['uuid', 'text', 'date', 'text', 'numeric', 'numeric', 'numeric', 'numeric', 'numeric'],
      )} AS r(product_id, currency, forecast_date, model, predicted, lower, upper, actual, accuracy)`);
  }
}
