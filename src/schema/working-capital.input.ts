import { Field, InputType, Int } from 'type-graphql';
import { GraphQLDate, GraphQLMoney } from '../graphql/scalars.js';
import { PeriodTypeEnum } from './enums.js';

@InputType({
  description:
    'The figures of one period. Saving a period that exists replaces all of its figures: a field left out takes its default.',
})
export class WorkingCapitalMetricsInput {
  @Field(() => GraphQLDate)
  periodDate!: Date;

  @Field(() => PeriodTypeEnum)
  periodType!: PeriodTypeEnum;

  @Field(() => GraphQLMoney, { description: 'At least 0, as every amount here.' })
  cash!: string;

  @Field(() => GraphQLMoney)
  accountsReceivable!: string;

  @Field(() => GraphQLMoney)
  inventory!: string;

  @Field(() => GraphQLMoney)
  otherCurrentAssets!: string;

  @Field(() => GraphQLMoney)
  accountsPayable!: string;

  @Field(() => GraphQLMoney)
  shortTermDebt!: string;

  @Field(() => GraphQLMoney)
  otherCurrentLiabilities!: string;

  @Field(() => GraphQLMoney, { nullable: true, description: 'Needed for DSO.' })
  revenue?: string | null;

  @Field(() => GraphQLMoney, { nullable: true, description: 'Needed for DIO and DPO.' })
  costOfGoodsSold?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Days the period covers, 1 or more (default 30).',
  })
  daysInPeriod?: number | null;

  @Field(() => String, { nullable: true })
  notes?: string | null;
}
