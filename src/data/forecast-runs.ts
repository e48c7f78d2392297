/**
 * Forecast runs (the tenant's forecast_runs table): one row per generateForecasts, with its
 * progress and outcome. At most one run per tenant is QUEUED or RUNNING (the partial unique index
 * forecast_runs_one_active): a second one is a CONFLICT, never interleaved rows.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import type { Cursor } from '../graphql/pagination.js';
import { microsecondKey, timestampPosition } from '../graphql/pagination.js';
import { guarded } from './constraint-errors.js';
import { FORECAST_TYPES } from './forecasts.js';

export const RUN_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const numeric = z.coerce.number().nullable();

export const Fallback = z.object({
  productId: z.string().nullable(),
  currency: z.string().nullable(),
  model: z.string().nullable(),
  reason: z.string(),
});
export type Fallback = z.infer<typeof Fallback>;

export const ForecastRunRow = z.object({
  id: z.string(),
  status: z.enum(RUN_STATUSES),
  forecast_type: z.enum(FORECAST_TYPES),
  period_type: z.enum(['DAILY', 'WEEKLY', 'MONTHLY']),
  horizon: z.number(),
  model: z.enum(['SEASONAL_NAIVE', 'ETS', 'MSTL', 'AUTO']),
  as_of: z.string(),
  confidence_level: z.coerce.number(),
  product_ids: z.array(z.string()),
  products_total: z.number(),
  products_done: z.number(),
  fallbacks: z.array(Fallback),
  mape: numeric,
  smape: numeric,
  mase: numeric,
  baseline_mape: numeric,
  error: z.string().nullable(),
  attempts: z.number(),
  requested_by: z.string(),
  created_at: z.date(),
  created_at_key: z.string(),
  started_at: z.date().nullable(),
  finished_at: z.date().nullable(),
});
export type ForecastRunRow = z.infer<typeof ForecastRunRow>;

const runColumns = sql.fragment`
  r.id, r.status, r.forecast_type, r.period_type, r.horizon, r.model, r.as_of::text AS as_of,
  r.confidence_level, r.product_ids::text[] AS product_ids, r.products_total, r.products_done,
  r.fallbacks, r.mape, r.smape, r.mase, r.baseline_mape, r.error, r.attempts, r.requested_by,
  r.created_at, ${microsecondKey(sql.identifier(['r', 'created_at']))} AS created_at_key,
  r.started_at, r.finished_at`;

export type NewForecastRun = {
  type: (typeof FORECAST_TYPES)[number];
  periodType: 'DAILY' | 'WEEKLY' | 'MONTHLY';
  horizon: number;
  model: 'SEASONAL_NAIVE' | 'ETS' | 'MSTL' | 'AUTO';
  asOf: string;
  confidenceLevel: number;
  productIds: readonly string[];
  productsTotal: number;
  requestedBy: string;
};

const ACTIVE_RUN = {
  forecast_runs_one_active: {
    field: 'generateForecasts',
    message:
      'Another forecast run of this tenant is queued or running; wait for it to finish (forecastRun shows its status).',
  },
};

/** Inserts a QUEUED run; CONFLICT while another run of the tenant is queued or running. */
export async function createForecastRun(db: CommonQueryMethods, run: NewForecastRun) {
  return guarded(ACTIVE_RUN, () =>
    db.one(sql.type(ForecastRunRow)`
      /* createForecastRun */
      INSERT INTO forecast_runs AS r (forecast_type, period_type, horizon, model, as_of,
        confidence_level, product_ids, products_total, requested_by)
      VALUES (${run.type}, ${run.periodType}, ${run.horizon}, ${run.model}, ${run.asOf}::date,
        ${run.confidenceLevel}, ${sql.array(run.productIds, 'uuid')}, ${run.productsTotal},
        ${run.requestedBy})
      RETURNING ${runColumns}`),
  );
}

export async function forecastRunById(db: CommonQueryMethods, id: string) {
  return db.maybeOne(sql.type(ForecastRunRow)`
    /* forecastRunById */ SELECT ${runColumns} FROM forecast_runs r WHERE r.id = ${id}`);
}

export const forecastRunCursor = (row: ForecastRunRow): Cursor => ({
  key: row.created_at_key,
  id: row.id,
});

export function forecastRunPosition(cursor: Cursor): { createdAt: string; id: string } {
  const { key, id } = timestampPosition(cursor);
  return { createdAt: key, id };
}

/** Runs newest first, after a position, `limit` of them. */
export async function listForecastRuns(
  db: CommonQueryMethods,
  options: { limit: number; after: { createdAt: string; id: string } | null },
) {
  const after = options.after
    ? sql.fragment`WHERE (r.created_at, r.id) < (${options.after.createdAt}::timestamptz, ${options.after.id}::uuid)`
    : sql.fragment``;
  return db.any(sql.type(ForecastRunRow)`
    /* listForecastRuns */
    SELECT ${runColumns} FROM forecast_runs r ${after}
    ORDER BY r.created_at DESC, r.id DESC LIMIT ${options.limit}`);
}

export async function countForecastRuns(db: CommonQueryMethods) {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    /* countForecastRuns */ SELECT count(*)::int AS count FROM forecast_runs`);
}

/** Runs created in [start, end): what the monthly plan limit counts. */
export async function countForecastRunsBetween(db: CommonQueryMethods, start: Date, end: Date) {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    /* countForecastRunsInPeriod */
    SELECT count(*)::int AS count FROM forecast_runs
    WHERE created_at >= ${sql.timestamp(start)} AND created_at < ${sql.timestamp(end)}`);
}

/**
 * Claims a run for an attempt: RUNNING, progress back to 0, one more attempt. Null when the run is
 * gone or already finished (a job that outlived its run has nothing to do).
 */
export async function startForecastRun(db: CommonQueryMethods, id: string, productsTotal: number) {
  return db.maybeOne(sql.type(ForecastRunRow)`
    /* startForecastRun */
    UPDATE forecast_runs r SET status = 'RUNNING', started_at = coalesce(r.started_at, now()),
      attempts = r.attempts + 1, products_done = 0, products_total = ${productsTotal}, error = NULL
    WHERE r.id = ${id} AND r.status IN ('QUEUED', 'RUNNING')
    RETURNING ${runColumns}`);
}

export async function recordRunProgress(db: CommonQueryMethods, id: string, done: number) {
  await db.query(sql.unsafe`
    /* recordRunProgress */
    UPDATE forecast_runs SET products_done = least(${done}, products_total)
    WHERE id = ${id} AND status = 'RUNNING'`);
}

export type RunOutcome = {
  fallbacks: readonly Fallback[];
  mape: number | null;
  smape: number | null;
  mase: number | null;
  baselineMape: number | null;
};

export async function finishForecastRun(db: CommonQueryMethods, id: string, outcome: RunOutcome) {
  return db.one(sql.type(ForecastRunRow)`
    /* finishForecastRun */
    UPDATE forecast_runs r SET status = 'SUCCEEDED', finished_at = now(),
      products_done = r.products_total, fallbacks = ${sql.jsonb(outcome.fallbacks)},
      mape = ${outcome.mape}, smape = ${outcome.smape}, mase = ${outcome.mase},
      baseline_mape = ${outcome.baselineMape}
    WHERE r.id = ${id}
    RETURNING ${runColumns}`);
}

/** FAILED with a reason, unless it already finished. */
export async function failForecastRun(db: CommonQueryMethods, id: string, reason: string) {
  await db.query(sql.unsafe`
    /* failForecastRun */
    UPDATE forecast_runs SET status = 'FAILED', finished_at = now(), error = ${reason.slice(0, 2000)}
    WHERE id = ${id} AND status IN ('QUEUED', 'RUNNING')`);
}
