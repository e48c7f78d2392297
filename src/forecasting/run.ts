/**
 * One forecast run, in three steps that the job (one short transaction each, inside withTenant)
 * and a small run inside its request (the request's transaction) share:
 *
 * 1. loadRunInputs: the products, the sales per period before the first forecast period (the
 *    history: nothing on or after asOf, not even later in the same period), and the sales of the
 *    forecast periods that have already ended (actuals, kept apart from the history);
 * 2. computeRun: every series fitted and forecast (models.ts), with its backtest;
 * 3. writeRunResults: the previous forecasts replaced and the run finished, in one transaction.
 */
import type { CommonQueryMethods } from 'slonik';
import {
  activeProductIds,
  replaceForecasts,
  salesPerPeriod,
  type NewForecastRow,
  type PeriodSales,
} from '../data/forecast-history.js';
import { finishForecastRun, type Fallback, type ForecastRunRow } from '../data/forecast-runs.js';
import {
  DEFAULT_PAYMENT_TERMS,
  tenantPaymentTerms,
  type PaymentTerms,
} from '../data/payment-terms.js';
import { detectSeasonality, ENGINE_VERSION, type Prediction } from './engine.js';
import { accuracyPercentage, meanOf } from './metrics.js';
import { forecastSeries, type Accuracy, type FittedModel } from './models.js';
import {
  addPeriods,
  BACKTEST_WINDOW,
  DAYS_PER_PERIOD,
  periodsBetween,
  periodStart,
  SEASONAL_CANDIDATES,
  todayIso,
} from './periods.js';

/**
 * The cash-flow forecast's terms: one lag for customers (the terms' default customer days; the
 * series is per currency, not per channel) and one for suppliers.
 */
export type CashFlowTerms = { receivableDays: number; payableDays: number };

export const cashFlowTermsOf = (terms: PaymentTerms): CashFlowTerms => ({
  receivableDays: terms.defaultCustomerDays,
  payableDays: terms.supplierDays,
});

export type RunInputs = {
  productIds: string[];
  firstPeriod: string;
  history: readonly PeriodSales[];
  actuals: readonly PeriodSales[];
  /** Period starts of the forecast whose sales are complete (they ended before today). */
  endedPeriods: number;
  terms: CashFlowTerms;
};

/** The first period of a run: the one containing asOf. */
export const firstPeriodOf = (run: Pick<ForecastRunRow, 'as_of' | 'period_type'>) =>
  periodStart(run.as_of, run.period_type);

export async function loadRunInputs(
  db: CommonQueryMethods,
  run: ForecastRunRow,
  tenantId: string,
  now: Date = new Date(),
): Promise<RunInputs> {
  const firstPeriod = firstPeriodOf(run);
  const cashFlow = run.forecast_type === 'CASH_FLOW';
  const productIds = cashFlow
    ? []
    : run.product_ids.length > 0
      ? [...run.product_ids]
      : [...(await activeProductIds(db))];
  const scope = cashFlow ? null : productIds;
  const history = await salesPerPeriod(db, {
    productIds: scope,
    periodType: run.period_type,
    from: null,
    to: firstPeriod,
  });
  // Actuals: forecast periods that ended before today's period began.
  const horizonEnd = addPeriods(firstPeriod, run.horizon, run.period_type);
  const todayPeriod = periodStart(todayIso(now), run.period_type);
  const actualsEnd = horizonEnd < todayPeriod ? horizonEnd : todayPeriod;
  const endedPeriods =
    actualsEnd > firstPeriod ? periodsBetween(firstPeriod, actualsEnd, run.period_type).length : 0;
  const actuals =
    endedPeriods > 0
      ? await salesPerPeriod(db, {
          productIds: scope,
          periodType: run.period_type,
          from: firstPeriod,
          to: actualsEnd,
        })
      : [];
  const terms = cashFlowTermsOf(
    cashFlow ? await tenantPaymentTerms(db, tenantId) : DEFAULT_PAYMENT_TERMS,
  );
  return { productIds, firstPeriod, history, actuals, endedPeriods, terms };
}

type Series = {
  productId: string | null;
  currency: string | null;
  /** From the period of the first sale to the last period before the run's first one. */
  values: number[];
  /** The actual value of each ended forecast period. */
  actuals: number[];
  /** For CASH_FLOW: the cost of the same sales, period by period. */
  cost?: number[];
  costActuals?: number[];
};

type Measure = 'units' | 'revenue' | 'cost';

/** Dense series (missing periods are zero sales) from the period of the first sale on. */
function densify(
  rows: readonly PeriodSales[],
  measure: Measure,
  start: string,
  end: string,
  periodType: ForecastRunRow['period_type'],
): number[] {
  const byPeriod = new Map<string, number>();
  for (const row of rows) byPeriod.set(row.period, (byPeriod.get(row.period) ?? 0) + row[measure]);
  return periodsBetween(start, end, periodType).map((period) => byPeriod.get(period) ?? 0);
}

const groupBy = <T>(rows: readonly T[], keyOf: (row: T) => string) => {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(row);
  }
  return groups;
};

/** The series of a run: per product (DEMAND), per product and currency (REVENUE), per currency (CASH_FLOW). */
function seriesOf(run: ForecastRunRow, inputs: RunInputs): Series[] {
  const { firstPeriod, endedPeriods } = inputs;
  const actualsEnd = addPeriods(firstPeriod, endedPeriods, run.period_type);
  const measure: Measure = run.forecast_type === 'DEMAND' ? 'units' : 'revenue';
  const keyOf = (row: PeriodSales) =>
    run.forecast_type === 'DEMAND'
      ? row.product_id
      : run.forecast_type === 'REVENUE'
        ? `${row.product_id}|${row.currency}`
        : row.currency;
  const actualGroups = groupBy(inputs.actuals, keyOf);
  const series: Series[] = [];
  for (const [key, rows] of groupBy(inputs.history, keyOf)) {
    const start = rows.reduce(
      (first, row) => (row.period < first ? row.period : first),
      rows[0]!.period,
    );
    const actualRows = actualGroups.get(key) ?? [];
    const entry: Series = {
      productId: run.forecast_type === 'CASH_FLOW' ? null : rows[0]!.product_id,
      currency: run.forecast_type === 'DEMAND' ? null : rows[0]!.currency,
      values: densify(rows, measure, start, firstPeriod, run.period_type),
      actuals: densify(actualRows, measure, firstPeriod, actualsEnd, run.period_type),
    };
    if (run.forecast_type === 'CASH_FLOW') {
      entry.cost = densify(rows, 'cost', start, firstPeriod, run.period_type);
      entry.costActuals = densify(actualRows, 'cost', firstPeriod, actualsEnd, run.period_type);
    }
    series.push(entry);
  }
  return series;
}

/**
 * Cash flow of `count` periods after the history's `n`: revenue collected `receivableDays` after
 * the sale, less the cost of the goods sold paid `payableDays` after it. `revenue` and `cost` run
 * from the first history period through the periods to value.
 */
function cashFlows(
  revenue: readonly number[],
  cost: readonly number[],
  n: number,
  count: number,
  terms: CashFlowTerms,
  periodType: ForecastRunRow['period_type'],
): number[] {
  const inLag = Math.round(terms.receivableDays / DAYS_PER_PERIOD[periodType]);
  const outLag = Math.round(terms.payableDays / DAYS_PER_PERIOD[periodType]);
  const at = (values: readonly number[], t: number) => (t < 0 ? 0 : values[t]!);
  return Array.from(
    { length: count },
    (_, h) => at(revenue, n + h - inLag) - at(cost, n + h - outLag),
  );
}

/**
 * The cash-flow forecast from the revenue forecast: periods whose sale falls before the run's
 * first period use the history, later ones the forecast revenue and its cost at the history's
 * cost-to-revenue ratio. The bounds are the cash flows of the revenue forecast's bounds.
 */
function cashFlowForecast(
  revenue: readonly number[],
  cost: readonly number[],
  forecast: Prediction,
  terms: CashFlowTerms,
  periodType: ForecastRunRow['period_type'],
): Prediction {
  const totalRevenue = revenue.reduce((sum, value) => sum + value, 0);
  const ratio = totalRevenue === 0 ? 0 : cost.reduce((sum, value) => sum + value, 0) / totalRevenue;
  const flows = (future: readonly number[]) =>
    cashFlows(
      [...revenue, ...future],
      [...cost, ...future.map((value) => value * ratio)],
      revenue.length,
      future.length,
      terms,
      periodType,
    );
  const point = flows(forecast.point);
  if (!forecast.lower || !forecast.upper) return { point, lower: null, upper: null };
  const low = flows(forecast.lower);
  const high = flows(forecast.upper);
  return {
    point,
    lower: point.map((value, h) => Math.min(value, low[h]!, high[h]!)),
    upper: point.map((value, h) => Math.max(value, low[h]!, high[h]!)),
  };
}

export type RunResults = {
  rows: NewForecastRow[];
  productIds: string[];
  fallbacks: Fallback[];
  accuracy: Accuracy;
};

const cents = (value: number) => Math.round(value * 100) / 100;

/**
 * Fits and forecasts every series of the run. `onProgress(done)` is awaited after each product
 * (each currency for CASH_FLOW), and gives the event loop a turn between fits.
 */
export async function computeRun(
  run: ForecastRunRow,
  inputs: RunInputs,
  onProgress?: (done: number) => Promise<void>,
): Promise<RunResults> {
  const all = seriesOf(run, inputs);
  const rows: NewForecastRow[] = [];
  const fallbacks: Fallback[] = [];
  const accuracies: Accuracy[] = [];
  const cashFlow = run.forecast_type === 'CASH_FLOW';
  const units = cashFlow ? [...new Set(all.map((series) => series.currency))] : inputs.productIds;
  // Products asked for that have no sale before asOf (an all-products run skips them).
  if (!cashFlow) {
    const withHistory = new Set(all.map((series) => series.productId));
    for (const productId of inputs.productIds) {
      if (!withHistory.has(productId)) {
        fallbacks.push({
          productId,
          currency: null,
          model: null,
          reason: 'no sales before asOf: not forecast',
        });
      }
    }
  }
  let done = 0;
  for (const unit of units) {
    for (const series of all.filter(
      (each) => (cashFlow ? each.currency : each.productId) === unit,
    )) {
      const periods = detectSeasonality(series.values, SEASONAL_CANDIDATES[run.period_type]);
      const result = forecastSeries(series.values, {
        model: run.model,
        horizon: run.horizon,
        level: run.confidence_level,
        periods,
        backtestHorizon: Math.min(run.horizon, BACKTEST_WINDOW[run.period_type]),
        nonNegative: !cashFlow,
      });
      let prediction = result.prediction;
      let actuals = series.actuals;
      if (cashFlow) {
        prediction = cashFlowForecast(
          series.values,
          series.cost!,
          prediction,
          inputs.terms,
          run.period_type,
        );
        actuals = cashFlows(
          [...series.values, ...series.actuals],
          [...series.cost!, ...series.costActuals!],
          series.values.length,
          series.actuals.length,
          inputs.terms,
          run.period_type,
        );
      }
      if (result.fallback) {
        fallbacks.push({
          productId: series.productId,
          currency: series.currency,
          model: result.model,
          reason: result.fallback,
        });
      }
      if (result.accuracy) accuracies.push(result.accuracy);
      rows.push(...rowsOf(series, result.model, prediction, actuals, inputs.firstPeriod, run));
    }
    done += 1;
    await onProgress?.(done);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    rows,
    productIds: cashFlow ? [] : inputs.productIds,
    fallbacks,
    accuracy: {
      mape: meanOf(accuracies.map((each) => each.mape)),
      smape: meanOf(accuracies.map((each) => each.smape)),
      mase: meanOf(accuracies.map((each) => each.mase)),
      baselineMape: meanOf(accuracies.map((each) => each.baselineMape)),
    },
  };
}

function rowsOf(
  series: Series,
  model: FittedModel,
  prediction: Prediction,
  actuals: readonly number[],
  firstPeriod: string,
  run: ForecastRunRow,
): NewForecastRow[] {
  return prediction.point.map((raw, h) => {
    const predicted = cents(raw);
    const lower = prediction.lower ? Math.min(cents(prediction.lower[h]!), predicted) : null;
    const upper = prediction.upper ? Math.max(cents(prediction.upper[h]!), predicted) : null;
    const actual = h < actuals.length ? cents(actuals[h]!) : null;
    return {
      productId: series.productId,
      currency: series.currency,
      date: addPeriods(firstPeriod, h, run.period_type),
      model,
      predicted,
      lower,
      upper,
      actual,
      accuracy: actual === null ? null : cents(accuracyPercentage(actual, predicted)),
    };
  });
}

/** Replaces the forecasts and finishes the run (the caller's transaction: all or nothing). */
export async function writeRunResults(
  db: CommonQueryMethods,
  run: ForecastRunRow,
  inputs: RunInputs,
  results: RunResults,
) {
  await replaceForecasts(
    db,
    {
      id: run.id,
      type: run.forecast_type,
      periodType: run.period_type,
      firstPeriod: inputs.firstPeriod,
      confidenceLevel: run.confidence_level,
      modelVersion: ENGINE_VERSION,
    },
    results.productIds,
    results.rows,
  );
  return finishForecastRun(db, run.id, { fallbacks: results.fallbacks, ...results.accuracy });
}
