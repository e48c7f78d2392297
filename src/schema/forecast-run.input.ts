import { Field, Float, ID, InputType, Int } from 'type-graphql';
import { GraphQLDate } from '../graphql/scalars.js';
import { ForecastTypeEnum, PeriodTypeEnum } from './enums.js';
import { ForecastModelEnum } from './forecast-run.type.js';

@InputType({ description: 'What to forecast, from which history, how far ahead.' })
export class GenerateForecastsInput {
  @Field(() => ForecastTypeEnum)
  type!: ForecastTypeEnum;

  @Field(() => PeriodTypeEnum, { description: 'DAILY, WEEKLY (ISO weeks) or MONTHLY.' })
  periodType!: PeriodTypeEnum;

  @Field(() => Int, { description: 'Periods ahead: 1 to 366 DAILY, 104 WEEKLY, 36 MONTHLY.' })
  horizon!: number;

  @Field(() => [ID], {
    nullable: true,
    description:
      'Products to forecast; empty or absent: every active product. Ignored for CASH_FLOW.',
  })
  productIds?: string[] | null;

  @Field(() => ForecastModelEnum, { nullable: true, defaultValue: ForecastModelEnum.AUTO })
  model?: ForecastModelEnum | null;

  @Field(() => Float, {
    nullable: true,
    defaultValue: 0.95,
    description: 'Of the prediction intervals (lowerBound, upperBound), in (0, 1).',
  })
  confidenceLevel?: number | null;

  @Field(() => GraphQLDate, {
    nullable: true,
    description:
      'History is the sales before the period containing asOf, which is the first forecast period. Default today (UTC); never in the future.',
  })
  asOf?: Date | null;
}
