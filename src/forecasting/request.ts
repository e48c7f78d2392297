/**
 * A request for a forecast run, from generateForecasts or the CLI: validated field by field
 * (BAD_USER_INPUT or NOT_FOUND naming the field, before any run row exists), checked against the
 * plan (AUTO and MSTL are AI forecasting; a monthly number of runs), then written as a QUEUED
 * run. The caller then runs it inline (a few products) or hands it to the job queue.
 */
import type { CommonQueryMethods } from 'slonik';
import { recordAudit, type AuditSource } from '../audit/audit-log.js';
import { countForecastRunUsage } from '../data/usage.js';
import { periodOf } from '../billing/metering.js';
import { hasFeature, PLANS } from '../billing/plans.js';
import {
  productsByIdsForForecast,
  activeProductIds,
  productsWithSalesBefore,
} from '../data/forecast-history.js';
import {
  countForecastRunsBetween,
  createForecastRun,
  type ForecastRunRow,
} from '../data/forecast-runs.js';
import type { ForecastType } from '../data/forecasts.js';
import {
  BadUserInputError,
  NotFoundError,
  PaymentRequiredError,
  QuotaExceededError,
} from '../errors.js';
import type { Tier } from '../tenants/tiers.js';
import { TIERS } from '../tenants/tiers.js';
import { isUuid } from '../validation.js';
import type { ModelChoice } from './models.js';
import {
  FORECAST_PERIOD_TYPES,
  MAX_HORIZON,
  periodStart,
  todayIso,
  type ForecastPeriodType,
} from './periods.js';

export const DEFAULT_CONFIDENCE_LEVEL = 0.95;
/** Runs of at most this many products (and every CASH_FLOW run) finish inside their request. */
export const INLINE_MAX_PRODUCTS = 3;

export type ForecastRequest = {
  type: ForecastType;
  periodType: string;
  horizon: number;
  productIds?: readonly string[] | null;
  model?: ModelChoice | null;
  confidenceLevel?: number | null;
  /** ISO date; default today (UTC). */
  asOf?: string | null;
};

const AI_MODELS: readonly ModelChoice[] = ['AUTO', 'MSTL'];

/** The plans that include AI forecasting, for the PAYMENT_REQUIRED message. */
const aiPlans = () =>
  TIERS.filter((tier) => hasFeature(tier, 'ai_forecasting'))
    .map((tier) => PLANS[tier].name)
    .join(' and ');

/**
 * Validates a request and inserts its QUEUED run (in `db`, the tenant's transaction). Nothing is
 * written when any check fails.
 */
export async function requestForecastRun(
  db: CommonQueryMethods,
  tenant: { tier: Tier },
  request: ForecastRequest,
  requestedBy: string,
  now: Date = new Date(),
): Promise<ForecastRunRow> {
  if (!(FORECAST_PERIOD_TYPES as readonly string[]).includes(request.periodType)) {
    throw new BadUserInputError(`periodType must be one of ${FORECAST_PERIOD_TYPES.join(', ')}.`, {
      field: 'periodType',
    });
  }
  const periodType = request.periodType as ForecastPeriodType;
  const maxHorizon = MAX_HORIZON[periodType];
  if (!Number.isInteger(request.horizon) || request.horizon < 1 || request.horizon > maxHorizon) {
    throw new BadUserInputError(
      `horizon must be a whole number of periods from 1 to ${maxHorizon} for ${periodType}.`,
      { field: 'horizon' },
    );
  }
  const level = request.confidenceLevel ?? DEFAULT_CONFIDENCE_LEVEL;
  if (!(level > 0 && level < 1)) {
    throw new BadUserInputError('confidenceLevel must be between 0 and 1 (exclusive), e.g. 0.95.', {
      field: 'confidenceLevel',
    });
  }
  const today = todayIso(now);
  const asOf = request.asOf ?? today;
  if (asOf > today) {
    throw new BadUserInputError(`asOf must not be in the future (today is ${today} UTC).`, {
      field: 'asOf',
    });
  }
  const model = request.model ?? 'AUTO';
  if (AI_MODELS.includes(model) && !hasFeature(tenant.tier, 'ai_forecasting')) {
    throw new PaymentRequiredError(
      `The ${model} model is AI forecasting, part of the ${aiPlans()} plans; the ${PLANS[tenant.tier].name} plan includes SEASONAL_NAIVE and ETS. Upgrade the plan, or ask for one of those.`,
      { field: 'model' },
    );
  }

  const historyEnd = periodStart(asOf, periodType);
  let productIds: string[] = [];
  let productsTotal = 1;
  if (request.type !== 'CASH_FLOW') {
    const asked = [...new Set(request.productIds ?? [])];
    const unknown = asked.find((id) => !isUuid(id));
    if (unknown !== undefined) {
      throw new NotFoundError(`No product ${unknown}.`, { field: 'productIds' });
    }
    if (asked.length > 0) {
      const found = new Set((await productsByIdsForForecast(db, asked)).map((row) => row.id));
      const missing = asked.find((id) => !found.has(id));
      if (missing !== undefined) {
        throw new NotFoundError(`No product ${missing}.`, { field: 'productIds' });
      }
      const withSales = new Set(await productsWithSalesBefore(db, asked, historyEnd));
      const without = asked.find((id) => !withSales.has(id));
      if (without !== undefined) {
        throw new BadUserInputError(
          `Product ${without} has no sales before ${historyEnd} (the first forecast period): there is nothing to forecast from.`,
          { field: 'productIds' },
        );
      }
      productIds = asked;
      productsTotal = asked.length;
    } else {
      const active = await activeProductIds(db);
      const withSales = await productsWithSalesBefore(db, active, historyEnd);
      if (withSales.length === 0) {
        throw new BadUserInputError(
          `No active product has sales before ${historyEnd} (the first forecast period).`,
          { field: 'productIds' },
        );
      }
      productsTotal = active.length;
    }
  }

  const period = periodOf(now);
  const limit = PLANS[tenant.tier].limits.monthlyForecastRuns;
  const used = await countForecastRunsBetween(db, period.start, period.end);
  if (used >= limit) {
    throw new QuotaExceededError(
      `Plan limit reached: ${used} of ${limit} forecast runs this month. Upgrade the plan, or wait for next month.`,
      { extensions: { metric: 'FORECASTS_GENERATED', limit, used } },
    );
  }
  return createForecastRun(db, {
    type: request.type,
    periodType,
    horizon: request.horizon,
    model,
    asOf,
    confidenceLevel: level,
    productIds,
    productsTotal,
    requestedBy,
  });
}

/** Whether a run is small enough to finish inside its request. */
export const runsInline = (run: ForecastRunRow) =>
  run.forecast_type === 'CASH_FLOW' ||
  (run.products_total > 0 && run.products_total <= INLINE_MAX_PRODUCTS);

/**
 * What every new run leaves on the platform side (under the login role, in the run's own
 * transaction): one FORECASTS_GENERATED in the period's usage, and the `forecast.generated` audit
 * entry of who asked for what.
 */
export async function recordForecastRequest(
  platformDb: CommonQueryMethods,
  tenantId: string,
  run: ForecastRunRow,
  source: AuditSource,
  inline: boolean,
): Promise<void> {
  await countForecastRunUsage(platformDb, tenantId, periodOf(run.created_at).start);
  await recordAudit(platformDb, {
    ...source,
    action: 'forecast.generated',
    tenantId,
    resourceType: 'forecast_run',
    resourceId: run.id,
    changes: {
      type: run.forecast_type,
      periodType: run.period_type,
      horizon: run.horizon,
      model: run.model,
      asOf: run.as_of,
      confidenceLevel: run.confidence_level,
      productIds: run.product_ids,
    },
    metadata: { productsTotal: run.products_total, inline },
  });
}
