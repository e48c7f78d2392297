import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { WorkingCapitalRow } from '../data/working-capital.js';
import { GraphQLDate, GraphQLDateTime, GraphQLDecimal, GraphQLMoney } from '../graphql/scalars.js';
import { FigureSourceEnum, PeriodTypeEnum } from './enums.js';

@ObjectType({
  simpleResolvers: true,
  description:
    "The company's working capital for one period. Totals, ratios and day counts are computed by the database.",
})
export class WorkingCapitalMetrics {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  companyId!: string;

  @Field(() => GraphQLDate)
  periodDate!: string;

  @Field(() => PeriodTypeEnum)
  periodType!: PeriodTypeEnum;

  @Field(() => GraphQLMoney)
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

  @Field(() => GraphQLMoney, { nullable: true })
  revenue!: string | null;

  @Field(() => GraphQLMoney, { nullable: true })
  costOfGoodsSold!: string | null;

  @Field(() => Int)
  daysInPeriod!: number;

  @Field(() => GraphQLMoney, { description: 'cash + receivables + inventory + other.' })
  totalCurrentAssets!: string;

  @Field(() => GraphQLMoney, { description: 'payables + short-term debt + other.' })
  totalCurrentLiabilities!: string;

  @Field(() => GraphQLMoney, { description: 'totalCurrentAssets - totalCurrentLiabilities.' })
  workingCapital!: string;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description:
      'totalCurrentAssets / totalCurrentLiabilities, 4 decimals; null without liabilities.',
  })
  currentRatio!: string | null;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description: '(current assets - inventory) / current liabilities, 4 decimals.',
  })
  quickRatio!: string | null;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description: 'DSO: receivables x days / revenue; null without revenue.',
  })
  daysSalesOutstanding!: string | null;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description: 'DIO: inventory x days / cost of goods sold; null without it.',
  })
  daysInventoryOutstanding!: string | null;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description: 'DPO: payables x days / cost of goods sold; null without it.',
  })
  daysPayablesOutstanding!: string | null;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description: 'DSO + DIO - DPO; null when any of them is null.',
  })
  cashConversionCycle!: string | null;

  @Field(() => String, { nullable: true })
  notes!: string | null;

  @Field(() => FigureSourceEnum, {
    description:
      'ENTERED: a user recorded these figures (upsertWorkingCapitalMetrics); DERIVED: computeWorkingCapitalMetrics computed them from the data.',
  })
  source!: FigureSourceEnum;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}

export const workingCapitalFromRow = (row: WorkingCapitalRow): WorkingCapitalMetrics => ({
  id: row.id,
  companyId: row.company_id,
  periodDate: row.period_date,
  periodType: row.period_type as PeriodTypeEnum,
  cash: row.cash,
  accountsReceivable: row.accounts_receivable,
  inventory: row.inventory,
  otherCurrentAssets: row.other_current_assets,
  accountsPayable: row.accounts_payable,
  shortTermDebt: row.short_term_debt,
  otherCurrentLiabilities: row.other_current_liabilities,
  revenue: row.revenue,
  costOfGoodsSold: row.cost_of_goods_sold,
  daysInPeriod: row.days_in_period,
  totalCurrentAssets: row.total_current_assets,
  totalCurrentLiabilities: row.total_current_liabilities,
  workingCapital: row.working_capital,
  currentRatio: row.current_ratio,
  quickRatio: row.quick_ratio,
  daysSalesOutstanding: row.days_sales_outstanding,
  daysInventoryOutstanding: row.days_inventory_outstanding,
  daysPayablesOutstanding: row.days_payables_outstanding,
  cashConversionCycle: row.cash_conversion_cycle,
  notes: row.notes,
  source: row.source as FigureSourceEnum,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
