import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ForecastRunRow } from '../data/forecast-runs.js';
import { GraphQLDate, GraphQLDateTime } from '../graphql/scalars.js';
import { ForecastTypeEnum, PeriodTypeEnum } from './enums.js';
import { PageInfo } from './page-info.type.js';

export enum ForecastModelEnum {
  SEASONAL_NAIVE = 'SEASONAL_NAIVE',
  ETS = 'ETS',
  MSTL = 'MSTL',
  AUTO = 'AUTO',
}
registerEnumType(ForecastModelEnum, {
  name: 'ForecastModel',
  description:
    'SEASONAL_NAIVE repeats the last season (the baseline); ETS is automatic exponential smoothing; MSTL decomposes weekly and yearly seasonality (AI forecasting); AUTO backtests each and keeps the lowest error (AI forecasting).',
});

export enum ForecastRunStatusEnum {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
}
registerEnumType(ForecastRunStatusEnum, { name: 'ForecastRunStatus' });

@ObjectType({
  simpleResolvers: true,
  description:
    'Backtest errors (rolling origin over the last windows of each series’ own history), averaged over the series of the run; null when no series was long enough to backtest.',
})
export class ForecastAccuracy {
  @Field(() => Float, { nullable: true, description: 'Mean absolute percentage error, %.' })
  mape!: number | null;

  @Field(() => Float, { nullable: true, description: 'Symmetric MAPE, %.' })
  smape!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Mean absolute scaled error: below 1 beats the in-sample seasonal naive.',
  })
  mase!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'MAPE of SEASONAL_NAIVE on the same windows, %.',
  })
  baselineMape!: number | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'A series that got a simpler model than asked for.',
})
export class ForecastFallback {
  @Field(() => ID, { nullable: true, description: 'Null for a company-level (CASH_FLOW) series.' })
  productId!: string | null;

  @Field(() => String, { nullable: true })
  currency!: string | null;

  @Field(() => ForecastModelEnum, {
    nullable: true,
    description: 'Null: the series was not forecast.',
  })
  model!: ForecastModelEnum | null;

  @Field(() => String)
  reason!: string;
}

@ObjectType({
  simpleResolvers: true,
  description: 'One generateForecasts: its progress and outcome.',
})
export class ForecastRun {
  @Field(() => ID)
  id!: string;

  @Field(() => ForecastRunStatusEnum)
  status!: ForecastRunStatusEnum;

  @Field(() => ForecastTypeEnum)
  type!: ForecastTypeEnum;

  @Field(() => PeriodTypeEnum)
  periodType!: PeriodTypeEnum;

  @Field(() => Int)
  horizon!: number;

  @Field(() => ForecastModelEnum, {
    description: 'The model asked for; each forecast row names the one used.',
  })
  model!: ForecastModelEnum;

  @Field(() => GraphQLDate)
  asOf!: string;

  @Field(() => Float)
  confidenceLevel!: number;

  @Field(() => Int, { description: 'Products in the run (currencies for CASH_FLOW).' })
  productsTotal!: number;

  @Field(() => Int)
  productsDone!: number;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime, { nullable: true })
  startedAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'Why a FAILED run failed.' })
  error!: string | null;

  @Field(() => Int, { description: 'Attempts so far (a retried job counts each).' })
  attempts!: number;

  @Field(() => ForecastAccuracy)
  accuracy!: ForecastAccuracy;

  @Field(() => [ForecastFallback])
  fallbacks!: ForecastFallback[];
}

export const forecastRunFromRow = (row: ForecastRunRow): ForecastRun => ({
  id: row.id,
  status: row.status as ForecastRunStatusEnum,
  type: row.forecast_type as ForecastTypeEnum,
  periodType: row.period_type as PeriodTypeEnum,
  horizon: row.horizon,
  model: row.model as ForecastModelEnum,
  asOf: row.as_of,
  confidenceLevel: row.confidence_level,
  productsTotal: row.products_total,
  productsDone: row.products_done,
  createdAt: row.created_at,
  startedAt: row.started_at,
  finishedAt: row.finished_at,
  error: row.error,
  attempts: row.attempts,
  accuracy: {
    mape: row.mape,
    smape: row.smape,
    mase: row.mase,
    baselineMape: row.baseline_mape,
  },
  fallbacks: row.fallbacks.map((fallback) => ({
    productId: fallback.productId,
    currency: fallback.currency,
    model: fallback.model as ForecastModelEnum | null,
    reason: fallback.reason,
  })),
});

@ObjectType({ simpleResolvers: true })
export class ForecastRunEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => ForecastRun)
  node!: ForecastRun;
}

@ObjectType({ simpleResolvers: true, description: 'A page of forecast runs, newest first.' })
export class ForecastRunConnection {
  @Field(() => [ForecastRunEdge])
  edges!: ForecastRunEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  count!: () => Promise<number>;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "How a product's current forecasts of one type and period type did against actual sales.",
})
export class ProductForecastAccuracy {
  @Field(() => Int, { description: 'Forecast periods with an actual value.' })
  periods!: number;

  @Field(() => Float, { nullable: true, description: 'Mean accuracyPercentage of those periods.' })
  meanAccuracyPercentage!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'MAPE over those periods (zero actuals left out), %.',
  })
  mape!: number | null;

  @Field(() => GraphQLDate, { nullable: true })
  from!: string | null;

  @Field(() => GraphQLDate, { nullable: true })
  to!: string | null;
}
