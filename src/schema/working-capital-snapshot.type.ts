import { Field, Int, ObjectType } from 'type-graphql';
import type { Snapshot } from '../analytics/working-capital.js';
import type { MetricChange as MetricChangeValue } from '../analytics/trend.js';
import { GraphQLCurrency, GraphQLDate, GraphQLDecimal, GraphQLMoney } from '../graphql/scalars.js';
import { FigureSourceEnum, PeriodTypeEnum } from './enums.js';

@ObjectType({ simpleResolvers: true, description: 'Where one figure of a snapshot came from.' })
export class FigureSourceEntry {
  @Field(() => String, { description: 'The snapshot field, e.g. accountsReceivable.' })
  field!: string;

  @Field(() => FigureSourceEnum)
  source!: FigureSourceEnum;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "Working capital as at a date, computed from the tenant's sales, stock and receipts (docs/analytics.md has every formula). Day counts and ratios are 0, with a dataWarnings entry, when their denominator is 0.",
})
export class WorkingCapitalSnapshot {
  @Field(() => GraphQLDate)
  asOf!: string;

  @Field(() => Int, {
    description: 'The days of sales and costs counted: (asOf - windowDays, asOf].',
  })
  windowDays!: number;

  @Field(() => GraphQLCurrency, {
    description: 'Every amount is in this currency; other currencies are never added in.',
  })
  currency!: string;

  @Field(() => GraphQLMoney, { description: 'Sales total_amount in the window.' })
  revenue!: string;

  @Field(() => GraphQLMoney, { description: 'Sales net of channel commission in the window.' })
  netRevenue!: string;

  @Field(() => GraphQLMoney, { description: 'Units sold in the window x unit cost.' })
  costOfGoodsSold!: string;

  @Field(() => GraphQLMoney, { description: 'Stock on hand at asOf x unit cost.' })
  inventory!: string;

  @Field(() => GraphQLMoney, {
    description: "Sales not yet paid at asOf under each channel's terms.",
  })
  accountsReceivable!: string;

  @Field(() => GraphQLMoney, {
    description: 'Receipts not yet paid at asOf under the supplier terms.',
  })
  accountsPayable!: string;

  @Field(() => GraphQLMoney, { description: 'From entered metrics; 0 without them.' })
  cash!: string;

  @Field(() => GraphQLMoney, { description: 'From entered metrics; 0 without them.' })
  otherCurrentAssets!: string;

  @Field(() => GraphQLMoney, { description: 'From entered metrics; 0 without them.' })
  shortTermDebt!: string;

  @Field(() => GraphQLMoney, { description: 'From entered metrics; 0 without them.' })
  otherCurrentLiabilities!: string;

  @Field(() => GraphQLMoney, {
    description: 'cash + receivables + inventory + other current assets.',
  })
  totalCurrentAssets!: string;

  @Field(() => GraphQLMoney, {
    description: 'payables + short-term debt + other current liabilities.',
  })
  totalCurrentLiabilities!: string;

  @Field(() => GraphQLMoney, { description: 'totalCurrentAssets - totalCurrentLiabilities.' })
  workingCapital!: string;

  @Field(() => GraphQLDecimal, { description: 'DSO: receivables / revenue x windowDays.' })
  daysSalesOutstanding!: string;

  @Field(() => GraphQLDecimal, { description: 'DIO: inventory / cost of goods sold x windowDays.' })
  daysInventoryOutstanding!: string;

  @Field(() => GraphQLDecimal, { description: 'DPO: payables / cost of goods sold x windowDays.' })
  daysPayablesOutstanding!: string;

  @Field(() => GraphQLDecimal, { description: 'DSO + DIO - DPO.' })
  cashConversionCycle!: string;

  @Field(() => GraphQLDecimal, { description: 'totalCurrentAssets / totalCurrentLiabilities.' })
  currentRatio!: string;

  @Field(() => GraphQLDecimal, {
    description: '(totalCurrentAssets - inventory) / totalCurrentLiabilities.',
  })
  quickRatio!: string;

  @Field(() => [FigureSourceEntry])
  sources!: FigureSourceEntry[];

  @Field(() => [String], { description: 'What makes a figure less than it seems, in words.' })
  dataWarnings!: string[];
}

export const snapshotToGraphQL = (snapshot: Snapshot): WorkingCapitalSnapshot => ({
  ...snapshot,
  sources: snapshot.sources.map((entry) => ({
    field: entry.field,
    source: entry.source as FigureSourceEnum,
  })),
});

@ObjectType({ simpleResolvers: true, description: 'How one figure moved from the period before.' })
export class MetricChange {
  @Field(() => String, { description: 'The snapshot field, e.g. workingCapital.' })
  metric!: string;

  @Field(() => GraphQLDecimal)
  previous!: string;

  @Field(() => GraphQLDecimal)
  current!: string;

  @Field(() => GraphQLDecimal, { description: 'current - previous.' })
  change!: string;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description: 'change / previous x 100, 2 decimals; null when previous is 0.',
  })
  changePercent!: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'One period of a working-capital trend.' })
export class WorkingCapitalTrendPoint {
  @Field(() => GraphQLDate, { description: "The period's first day." })
  periodDate!: string;

  @Field(() => PeriodTypeEnum)
  periodType!: PeriodTypeEnum;

  @Field(() => WorkingCapitalSnapshot, {
    description: "As at the period's last day (today for the period under way), over the period.",
  })
  snapshot!: WorkingCapitalSnapshot;

  @Field(() => [MetricChange], { description: 'Against the period before; empty for the first.' })
  changes!: MetricChangeValue[];
}
