import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from 'type-graphql';
import { countProductSales, listProductSales, type SalesPageFilter } from '../data/sales.js';
import { BadUserInputError } from '../errors.js';
import { dateRange } from '../graphql/arguments.js';
import { isUuid, validChannel } from '../validation.js';
import type { RequestContext } from '../graphql/context.js';
import { decodeCursor, pageSize, toPage } from '../graphql/pagination.js';
import { GraphQLDate } from '../graphql/scalars.js';
import { Product } from '../schema/product.type.js';
import { SaleConnection, saleFromRow } from '../schema/sale.type.js';
import { totalCountResolver } from './total-count.resolver.js';

/** A sales cursor carries the row's sale date and id. */
function decodeSalesCursor(text: string) {
  const cursor = decodeCursor(text);
  if (
    typeof cursor.key !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}$/.test(cursor.key) ||
    !isUuid(cursor.id)
  ) {
    throw new BadUserInputError('Invalid cursor: pass an endCursor from a previous page.', {
      field: 'after',
    });
  }
  return { saleDate: cursor.key, id: cursor.id };
}

export const SaleConnectionResolver = totalCountResolver(
  SaleConnection,
  'All sales matching the arguments (counted only when asked for).',
);

@Resolver(() => Product)
export class ProductSalesResolver {
  /**
   * One product's sale lines, a page at a time. A page of products that each ask for `sales`
   * runs one query per product (N+1): accepted for this paginated, per-product field, whose
   * keyset pages cannot be shared across products. Totals over many products go through
   * `salesTotals`, which is batched by a DataLoader.
   */
  @FieldResolver(() => SaleConnection, {
    description: 'Sale lines between two dates (inclusive), newest first.',
  })
  async sales(
    @Root() product: Product,
    @Arg('from', () => GraphQLDate) from: Date,
    @Arg('to', () => GraphQLDate) to: Date,
    @Arg('channel', () => String, { nullable: true }) channel: string | null,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 0 to 100 (default 20).' })
    first: number | null,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' })
    after: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SaleConnection> {
    const filter: SalesPageFilter = {
      productId: product.id,
      ...dateRange(from, to),
      channel: validChannel(channel),
    };
    const size = pageSize(first);
    const cursor = after ? decodeSalesCursor(after) : null;
    const rows = await listProductSales(ctx.db, { filter, limit: size + 1, after: cursor });
    const page = toPage(
      rows,
      size,
      (row) => ({ key: row.sale_date, id: row.id }),
      () => countProductSales(ctx.db, filter),
      cursor !== null,
    );
    return {
      ...page,
      edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: saleFromRow(edge.node) })),
    };
  }
}
