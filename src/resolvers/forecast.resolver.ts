import { Arg, Ctx, ID, Query, Resolver } from 'type-graphql';
import { listForecasts } from '../data/forecasts.js';
import { optionalDateRange } from '../graphql/arguments.js';
import { isUuid } from '../validation.js';
import type { RequestContext } from '../graphql/context.js';
import { GraphQLDate } from '../graphql/scalars.js';
import { ForecastTypeEnum } from '../schema/enums.js';
import { Forecast, forecastFromRow } from '../schema/forecast.type.js';

@Resolver(() => Forecast)
export class ForecastResolver {
  @Query(() => [Forecast], {
    description:
      'Current forecasts of the company and its products, by date (at most 1000). productId narrows to one product, runId to one run.',
  })
  async forecasts(
    @Arg('type', () => ForecastTypeEnum, { nullable: true }) type: ForecastTypeEnum | null,
    @Arg('from', () => GraphQLDate, { nullable: true }) from: Date | null,
    @Arg('to', () => GraphQLDate, { nullable: true }) to: Date | null,
    @Arg('productId', () => ID, { nullable: true }) productId: string | null,
    @Arg('runId', () => ID, {
      nullable: true,
      description:
        'One run’s forecasts, including those a later run replaced; without it, the current ones.',
    })
    runId: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<Forecast[]> {
    const range = optionalDateRange(from, to);
    // An id that is not a UUID names no product: nothing to list, as for another tenant's id.
    if (productId != null && !isUuid(productId)) return [];
    if (runId != null && !isUuid(runId)) return [];
    const rows = await listForecasts(ctx.db, {
      type: type ?? null,
      ...range,
      productId: productId ?? null,
      runId: runId ?? null,
    });
    return rows.map(forecastFromRow);
  }
}
