import { Field, ID, ObjectType } from 'type-graphql';
import type { ForecastRow } from '../data/forecasts.js';
import { GraphQLDate, GraphQLDecimal } from '../graphql/scalars.js';
import { ForecastTypeEnum, PeriodTypeEnum } from './enums.js';

@ObjectType({ simpleResolvers: true, description: 'A forecast value for one date.' })
export class Forecast {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true, description: 'Null for a company-level forecast.' })
  productId!: string | null;

  @Field(() => GraphQLDate)
  date!: string;

  @Field(() => ForecastTypeEnum)
  type!: ForecastTypeEnum;

  @Field(() => PeriodTypeEnum)
  periodType!: PeriodTypeEnum;

  @Field(() => String)
  modelType!: string;

  @Field(() => String, { nullable: true })
  modelVersion!: string | null;

  @Field(() => GraphQLDecimal, {
    description: 'Units for DEMAND, money for REVENUE and CASH_FLOW.',
  })
  predictedValue!: string;

  @Field(() => GraphQLDecimal, { nullable: true })
  lowerBound!: string | null;

  @Field(() => GraphQLDecimal, { nullable: true })
  upperBound!: string | null;

  @Field(() => GraphQLDecimal, { nullable: true })
  confidenceLevel!: string | null;

  @Field(() => GraphQLDecimal, { nullable: true })
  actualValue!: string | null;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description: '100 − the absolute percentage error against actualValue, floored at 0.',
  })
  accuracyPercentage!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The currency of a REVENUE or CASH_FLOW forecast; null for DEMAND (units).',
  })
  currency!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The run that wrote it; null for rows written otherwise.',
  })
  runId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: 'The later run that replaced it; null while it is current.',
  })
  replacedByRunId!: string | null;
}

export const forecastFromRow = (row: ForecastRow): Forecast => ({
  id: row.id,
  productId: row.product_id,
  date: row.forecast_date,
  type: row.forecast_type as ForecastTypeEnum,
  periodType: row.period_type as PeriodTypeEnum,
  modelType: row.model_type,
  modelVersion: row.model_version,
  predictedValue: row.predicted_value,
  lowerBound: row.lower_bound,
  upperBound: row.upper_bound,
  confidenceLevel: row.confidence_level,
  actualValue: row.actual_value,
  accuracyPercentage: row.accuracy_percentage,
  currency: row.currency,
  runId: row.run_id,
  replacedByRunId: row.replaced_by_run_id,
});
