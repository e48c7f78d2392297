import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import {
  countProducts,
  createProduct,
  listProducts,
  orderKey,
  productBySku,
  updateProduct,
  type ProductFilter as ProductFilterValues,
} from '../data/products.js';
import { dateRange, optionalDateRange } from '../graphql/arguments.js';
import { assertUuid, isUuid, validChannel } from '../validation.js';
import type { RequestContext } from '../graphql/context.js';
import { decodeCursor, pageSize, toPage } from '../graphql/pagination.js';
import { GraphQLCurrency, GraphQLDate } from '../graphql/scalars.js';
import { ForecastTypeEnum, PeriodTypeEnum, ProductOrderEnum } from '../schema/enums.js';
import { ProductForecastAccuracy } from '../schema/forecast-run.type.js';
import { forecastAccuracyOf } from '../data/forecasts.js';
import { Forecast, forecastFromRow } from '../schema/forecast.type.js';
import { ProductsArgs } from '../schema/product.args.js';
import { CreateProductInput, UpdateProductInput } from '../schema/product.input.js';
import {
  InventoryLevel,
  Product,
  ProductConnection,
  SalesTotals,
  Stock,
  inventoryLevelFromRow,
  productFromRow,
} from '../schema/product.type.js';
import { totalCountResolver } from './total-count.resolver.js';

export const ProductConnectionResolver = totalCountResolver(
  ProductConnection,
  'All products matching the filter (counted only when asked for).',
);

@Resolver(() => Product)
export class ProductResolver {
  @Query(() => ProductConnection, { description: 'Products, a page at a time.' })
  async products(@Args(() => ProductsArgs) args: ProductsArgs, @Ctx() ctx: RequestContext) {
    const size = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after) : null;
    const filter: ProductFilterValues = { ...args.filter };
    // An explicit null replaces the default in GraphQL: it means the default here too.
    const order = args.orderBy ?? ProductOrderEnum.NAME_ASC;
    const rows = await listProducts(ctx.db, { limit: size + 1, after, filter, order });
    for (const row of rows) ctx.loaders.productById.prime(row.id, row);
    const page = toPage(
      rows,
      size,
      (row) => ({ key: orderKey[order](row), id: row.id }),
      () => countProducts(ctx.db, filter),
      after !== null,
    );
    return {
      ...page,
      edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: productFromRow(edge.node) })),
    };
  }

  @Query(() => Product, { nullable: true })
  async product(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    if (!isUuid(id)) return null;
    const row = await ctx.loaders.productById.load(id);
    return row && productFromRow(row);
  }

  @Query(() => Product, { nullable: true })
  async productBySku(@Arg('sku', () => String) sku: string, @Ctx() ctx: RequestContext) {
    const row = await productBySku(ctx.db, sku);
    return row && productFromRow(row);
  }

  @FieldResolver(() => [InventoryLevel], { description: 'Stock per location.' })
  async inventory(@Root() product: Product, @Ctx() ctx: RequestContext) {
    const rows = await ctx.loaders.inventoryByProduct.load(product.id);
    return rows.map(inventoryLevelFromRow);
  }

  @FieldResolver(() => Stock, { description: 'Stock summed over locations.' })
  async stock(@Root() product: Product, @Ctx() ctx: RequestContext): Promise<Stock> {
    const rows = await ctx.loaders.inventoryByProduct.load(product.id);
    return rows.reduce(
      (sum, row) => ({
        onHand: sum.onHand + row.quantity_on_hand,
        reserved: sum.reserved + row.quantity_reserved,
        available: sum.available + row.quantity_available,
      }),
      { onHand: 0, reserved: 0, available: 0 },
    );
  }

  @FieldResolver(() => SalesTotals, { description: 'Sales between two dates (inclusive).' })
  async salesTotals(
    @Root() product: Product,
    @Arg('from', () => GraphQLDate) from: Date,
    @Arg('to', () => GraphQLDate) to: Date,
    @Arg('channel', () => String, { nullable: true }) channel: string | null,
    @Arg('currency', () => GraphQLCurrency, {
      nullable: true,
      description:
        'Only sales in this currency. Without it, amounts in different currencies add up.',
    })
    currency: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<SalesTotals> {
    const range = dateRange(from, to);
    const totals = await ctx.loaders.salesTotals.load({
      productId: product.id,
      ...range,
      channel: validChannel(channel),
      currency: currency ?? null,
    });
    return {
      quantity: totals.quantity,
      revenue: totals.revenue,
      commission: totals.commission,
      netRevenue: totals.net_revenue,
      orders: totals.orders,
    };
  }

  @FieldResolver(() => [Forecast])
  async forecasts(
    @Root() product: Product,
    @Arg('type', () => ForecastTypeEnum, { nullable: true }) type: ForecastTypeEnum | null,
    @Arg('from', () => GraphQLDate, { nullable: true }) from: Date | null,
    @Arg('to', () => GraphQLDate, { nullable: true }) to: Date | null,
    @Ctx() ctx: RequestContext,
  ) {
    const range = optionalDateRange(from, to);
    const rows = await ctx.loaders.forecasts.load({
      productId: product.id,
      type: type ?? null,
      ...range,
    });
    return rows.map(forecastFromRow);
  }

  @FieldResolver(() => ProductForecastAccuracy, {
    description:
      'How the current forecasts of this type and period type did against the actual sales of the periods that have ended.',
  })
  async forecastAccuracy(
    @Root() product: Product,
    @Arg('type', () => ForecastTypeEnum) type: ForecastTypeEnum,
    @Arg('periodType', () => PeriodTypeEnum) periodType: PeriodTypeEnum,
    @Ctx() ctx: RequestContext,
  ): Promise<ProductForecastAccuracy> {
    const row = await forecastAccuracyOf(ctx.db, { productId: product.id, type, periodType });
    return {
      periods: row.periods,
      meanAccuracyPercentage: row.mean_accuracy,
      mape: row.mape,
      from: row.first_date,
      to: row.last_date,
    };
  }

  @Mutation(() => Product)
  async createProduct(
    @Arg('input', () => CreateProductInput) input: CreateProductInput,
    @Ctx() ctx: RequestContext,
  ) {
    return productFromRow(await createProduct(ctx.db, input));
  }

  @Mutation(() => Product)
  async updateProduct(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateProductInput) input: UpdateProductInput,
    @Ctx() ctx: RequestContext,
  ) {
    assertUuid(id);
    return productFromRow(await updateProduct(ctx.db, id, input));
  }

  @Mutation(() => Product, { description: 'Marks a product inactive; its history stays.' })
  async archiveProduct(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    assertUuid(id);
    return productFromRow(await updateProduct(ctx.db, id, { isActive: false }));
  }
}
