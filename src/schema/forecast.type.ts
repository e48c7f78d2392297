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

  @Field(() => GraphQLDecimal, { nullable: true })
  accuracyPercentage!: string | null;
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
});
