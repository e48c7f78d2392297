import { Field, ID, InputType, Int } from 'type-graphql';
import { GraphQLCurrency, GraphQLDate, GraphQLDecimal, GraphQLMoney } from '../graphql/scalars.js';
import { SalesMarketEnum } from './sale.type.js';

@InputType({ description: 'One sale line to record.' })
export class SaleInput {
  @Field(() => ID)
  productId!: string;

  @Field(() => GraphQLDate)
  saleDate!: Date;

  @Field(() => Int, { description: 'Greater than 0.' })
  quantity!: number;

  @Field(() => GraphQLMoney, { description: '0 or more.' })
  unitPrice!: string;

  @Field(() => String, { description: '1 to 50 lowercase letters, digits and _.' })
  channel!: string;

  @Field(() => String, {
    nullable: true,
    description: "The channel's order id; one line per (channel, channelOrderId, productId).",
  })
  channelOrderId?: string | null;

  @Field(() => SalesMarketEnum)
  market!: SalesMarketEnum;

  @Field(() => GraphQLCurrency, { description: 'GBP, EUR or USD.' })
  currency!: string;

  @Field(() => GraphQLDecimal, {
    nullable: true,
    description: '0 to 1, at most 4 decimal places (default 0).',
  })
  commissionRate?: string | null;
}

@InputType({ description: 'Narrows a sales summary.' })
export class SalesSummaryFilter {
  @Field(() => String, { nullable: true })
  channel?: string | null;

  @Field(() => SalesMarketEnum, { nullable: true })
  market?: SalesMarketEnum | null;

  @Field(() => ID, { nullable: true })
  productId?: string | null;

  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => GraphQLCurrency, { nullable: true })
  currency?: string | null;
}
