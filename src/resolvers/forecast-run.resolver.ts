import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import {
  countForecastRuns,
  forecastRunById,
  forecastRunCursor,
  forecastRunPosition,
  listForecastRuns,
} from '../data/forecast-runs.js';
import { executeForecastRunIn } from '../forecasting/execute.js';
import { recordForecastRequest, requestForecastRun, runsInline } from '../forecasting/request.js';
import type { RequestContext } from '../graphql/context.js';
import { decodeCursor, pageSize, toPage } from '../graphql/pagination.js';
import { PageArgs } from '../schema/page.args.js';
import { GenerateForecastsInput } from '../schema/forecast-run.input.js';
import {
  ForecastRun,
  ForecastRunConnection,
  forecastRunFromRow,
} from '../schema/forecast-run.type.js';
import { isUuid } from '../validation.js';
import { totalCountResolver } from './total-count.resolver.js';

export const ForecastRunConnectionResolver = totalCountResolver(
  ForecastRunConnection,
  'All forecast runs of the tenant (counted only when asked for).',
);

@Resolver(() => ForecastRun)
export class ForecastRunResolver {
  @Mutation(() => ForecastRun, {
    description:
      'Forecasts from the tenant’s own sales. A run of a few products (and every CASH_FLOW run) finishes in the request and comes back SUCCEEDED; a larger one comes back QUEUED and runs as a background job (follow it with forecastRun). One run at a time per tenant: another while one is queued or running is a CONFLICT.',
  })
  async generateForecasts(
    @Arg('input', () => GenerateForecastsInput) input: GenerateForecastsInput,
    @Ctx() ctx: RequestContext,
  ): Promise<ForecastRun> {
    const now = new Date();
    const queued = await requestForecastRun(
      ctx.db,
      ctx.tenant,
      {
        type: input.type,
        periodType: input.periodType,
        horizon: input.horizon,
        productIds: input.productIds,
        model: input.model,
        confidenceLevel: input.confidenceLevel,
        asOf: input.asOf ? input.asOf.toISOString().slice(0, 10) : null,
      },
      ctx.actor,
      now,
    );
    const inline = runsInline(queued) || ctx.jobs === undefined;
    await ctx.platform((db) =>
      recordForecastRequest(db, ctx.tenantId, queued, ctx.auditSource(), inline),
    );
    if (inline) return forecastRunFromRow(await executeForecastRunIn(ctx.db, ctx.tenantId, queued));
    const jobs = ctx.jobs!;
    const tenant = ctx.tenant;
    ctx.afterCommit(() => jobs.queueCommittedRun(tenant, queued.id));
    return forecastRunFromRow(queued);
  }

  @Query(() => ForecastRun, { nullable: true })
  async forecastRun(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    if (!isUuid(id)) return null;
    const row = await forecastRunById(ctx.db, id);
    return row && forecastRunFromRow(row);
  }

  @Query(() => ForecastRunConnection, { description: 'Forecast runs, newest first.' })
  async forecastRuns(@Args(() => PageArgs) args: PageArgs, @Ctx() ctx: RequestContext) {
    const size = pageSize(args.first);
    const after = args.after ? forecastRunPosition(decodeCursor(args.after)) : null;
    const rows = await listForecastRuns(ctx.db, { limit: size + 1, after });
    const page = toPage(
      rows,
      size,
      forecastRunCursor,
      () => countForecastRuns(ctx.db),
      after !== null,
    );
    return {
      ...page,
      edges: page.edges.map((edge) => ({
        cursor: edge.cursor,
        node: forecastRunFromRow(edge.node),
      })),
    };
  }
}
