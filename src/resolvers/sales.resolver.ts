import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { salesSummary } from '../data/sales-summary.js';
import { recordSales, type NewSale } from '../data/sales.js';
import { dateRange } from '../graphql/arguments.js';
import type { RequestContext } from '../graphql/context.js';
import { GraphQLDate, isoDate } from '../graphql/scalars.js';
import { SaleInput, SalesSummaryFilter } from '../schema/sale.input.js';
import { RecordSalesResult } from '../schema/sale.type.js';
import {
  SalesGroupByEnum,
  SalesSummaryRow,
  salesSummaryRowFromRow,
} from '../schema/sales-summary.type.js';

const toNewSale = (input: SaleInput): NewSale => ({
  productId: input.productId,
  saleDate: isoDate(input.saleDate),
  quantity: input.quantity,
  unitPrice: input.unitPrice,
  channel: input.channel,
  channelOrderId: input.channelOrderId ?? null,
  market: input.market,
  currency: input.currency,
  commissionRate: input.commissionRate ?? null,
});

@Resolver()
export class SalesResolver {
  @Mutation(() => RecordSalesResult, {
    description:
      'Records up to 1000 sale lines, all or nothing: one bad row (named in the error) writes none.',
  })
  async recordSales(
    @Arg('input', () => [SaleInput]) input: SaleInput[],
    @Ctx() ctx: RequestContext,
  ): Promise<RecordSalesResult> {
    const result = await recordSales(ctx.db, input.map(toNewSale));
    return {
      count: result.count,
      totalQuantity: result.total_quantity,
      totalRevenue: result.total_revenue,
    };
  }

  @Query(() => [SalesSummaryRow], {
    description:
      'Sales between two dates (inclusive, at most 3 years) summed per group, ordered by the keys as given.',
  })
  async salesSummary(
    @Arg('from', () => GraphQLDate) from: Date,
    @Arg('to', () => GraphQLDate) to: Date,
    @Arg('groupBy', () => [SalesGroupByEnum], { description: '1 to 4 distinct keys.' })
    groupBy: SalesGroupByEnum[],
    @Arg('filter', () => SalesSummaryFilter, { nullable: true }) filter: SalesSummaryFilter | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SalesSummaryRow[]> {
    const rows = await salesSummary(ctx.db, {
      ...dateRange(from, to),
      groupBy,
      filter: { ...filter },
    });
    return rows.map(salesSummaryRowFromRow);
  }
}
