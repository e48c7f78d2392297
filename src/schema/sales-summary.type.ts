import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { SalesSummaryRow as SalesSummaryRecord } from '../data/sales-summary.js';
import { GraphQLCurrency, GraphQLDate, GraphQLMoney } from '../graphql/scalars.js';
import { SalesMarketEnum } from './sale.type.js';

export enum SalesGroupByEnum {
  CHANNEL = 'CHANNEL',
  MARKET = 'MARKET',
  MONTH = 'MONTH',
  WEEK = 'WEEK',
  PRODUCT = 'PRODUCT',
  CATEGORY = 'CATEGORY',
  CURRENCY = 'CURRENCY',
}
registerEnumType(SalesGroupByEnum, {
  name: 'SalesGroupBy',
  description: 'A key to group sales by.',
  valuesConfig: {
    MONTH: { description: 'The first day of the month.' },
    WEEK: { description: 'The Monday of the ISO week.' },
    PRODUCT: { description: 'Also fills sku and productName.' },
    CURRENCY: {
      description: 'Sales are in the currency of their market: group by it so amounts never mix.',
    },
  },
});

@ObjectType({
  simpleResolvers: true,
  description:
    'Sales summed over one group; the fields of keys not grouped by are null. Amounts are in the currency of the sales: group or filter by CURRENCY to keep currencies apart.',
})
export class SalesSummaryRow {
  @Field(() => String, { nullable: true })
  channel!: string | null;

  @Field(() => SalesMarketEnum, { nullable: true })
  market!: SalesMarketEnum | null;

  @Field(() => GraphQLDate, { nullable: true, description: 'First day of the month.' })
  month!: string | null;

  @Field(() => GraphQLDate, { nullable: true, description: 'Monday of the ISO week.' })
  week!: string | null;

  @Field(() => ID, { nullable: true })
  productId!: string | null;

  @Field(() => String, { nullable: true })
  sku!: string | null;

  @Field(() => String, { nullable: true })
  productName!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Null also for the group of products without a category.',
  })
  category!: string | null;

  @Field(() => GraphQLCurrency, { nullable: true })
  currency!: string | null;

  @Field(() => Int)
  quantity!: number;

  @Field(() => GraphQLMoney, { description: 'Total amount before commission.' })
  revenue!: string;

  @Field(() => GraphQLMoney)
  commission!: string;

  @Field(() => GraphQLMoney)
  netRevenue!: string;

  @Field(() => Int, { description: 'Number of sale rows.' })
  orders!: number;
}

export const salesSummaryRowFromRow = (row: SalesSummaryRecord): SalesSummaryRow => ({
  channel: row.channel,
  market: row.market as SalesMarketEnum | null,
  month: row.month,
  week: row.week,
  productId: row.product_id,
  sku: row.sku,
  productName: row.product_name,
  category: row.category,
  currency: row.currency,
  quantity: row.quantity,
  revenue: row.revenue,
  commission: row.commission,
  netRevenue: row.net_revenue,
  orders: row.orders,
});
