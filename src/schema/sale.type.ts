import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { SaleRow } from '../data/sales.js';
import { GraphQLCurrency, GraphQLDate, GraphQLDecimal, GraphQLMoney } from '../graphql/scalars.js';
import { PageInfo } from './page-info.type.js';

export enum SalesMarketEnum {
  UK = 'UK',
  EU = 'EU',
  USA = 'USA',
  ROW = 'ROW',
}
registerEnumType(SalesMarketEnum, {
  name: 'SalesMarket',
  description: 'Where a sale was made (ROW: rest of the world).',
});

@ObjectType({
  simpleResolvers: true,
  description: 'One sale line: a quantity of one product on one day via one channel.',
})
export class Sale {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  productId!: string;

  @Field(() => GraphQLDate)
  saleDate!: string;

  @Field(() => Int)
  quantity!: number;

  @Field(() => GraphQLMoney)
  unitPrice!: string;

  @Field(() => GraphQLMoney, { description: 'quantity × unitPrice, rounded to 2 places.' })
  totalAmount!: string;

  @Field(() => GraphQLDecimal, { description: 'Channel commission, 0 to 1.' })
  commissionRate!: string;

  @Field(() => GraphQLMoney, { description: 'totalAmount × commissionRate, rounded to 2 places.' })
  commissionAmount!: string;

  @Field(() => GraphQLMoney, { description: 'totalAmount − commissionAmount.' })
  netRevenue!: string;

  @Field(() => String)
  channel!: string;

  @Field(() => String, { nullable: true, description: "The channel's own order id." })
  channelOrderId!: string | null;

  @Field(() => SalesMarketEnum)
  market!: SalesMarketEnum;

  @Field(() => GraphQLCurrency)
  currency!: string;
}

export const saleFromRow = (row: SaleRow): Sale => ({
  id: row.id,
  productId: row.product_id,
  saleDate: row.sale_date,
  quantity: row.quantity,
  unitPrice: row.unit_price,
  totalAmount: row.total_amount,
  commissionRate: row.commission_rate,
  commissionAmount: row.commission_amount,
  netRevenue: row.net_revenue,
  channel: row.channel,
  channelOrderId: row.channel_order_id,
  market: row.market as SalesMarketEnum,
  currency: row.currency,
});

@ObjectType({ simpleResolvers: true })
export class SaleEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Sale)
  node!: Sale;
}

@ObjectType({ simpleResolvers: true, description: 'A page of sales, newest first.' })
export class SaleConnection {
  @Field(() => [SaleEdge])
  edges!: SaleEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Counts all matching sales (not a GraphQL field: see SaleConnectionResolver). */
  count!: () => Promise<number>;
}

@ObjectType({ simpleResolvers: true, description: 'What one recordSales call wrote.' })
export class RecordSalesResult {
  @Field(() => Int, { description: 'Sale rows written.' })
  count!: number;

  @Field(() => Int)
  totalQuantity!: number;

  @Field(() => GraphQLMoney, { description: 'Sum of totalAmount over the rows written.' })
  totalRevenue!: string;
}
