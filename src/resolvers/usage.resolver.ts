/**
 * The tenant's own usage against its plan (permission 'read': every role of the tenant, and its
 * API keys). Reads run in the request's transaction under the tenant's role.
 */
import { Args, Ctx, Query, Resolver } from 'type-graphql';
import { usageHistoryOf, usageOf } from '../billing/usage.js';
import type { RequestContext } from '../graphql/context.js';
import { UsageHistoryArgs } from '../schema/usage.args.js';
import { Usage, UsagePeriod, usageFromData, usagePeriodFromData } from '../schema/usage.type.js';

const sourceOf = (ctx: RequestContext) => ({
  db: ctx.db,
  tenant: ctx.tenant,
  meter: ctx.billing.meter,
  now: new Date(),
});

@Resolver()
export class UsageResolver {
  @Query(() => Usage, {
    description:
      'What the tenant uses this billing period against its plan: requests (including this server’s not yet written), users and products counted now, storage and forecasts as last measured.',
  })
  async usage(@Ctx() ctx: RequestContext): Promise<Usage> {
    return usageFromData(await usageOf(sourceOf(ctx)));
  }

  @Query(() => [UsagePeriod], {
    description:
      'Usage per calendar month, newest first, the current month included; months without usage are zeros.',
  })
  async usageHistory(
    @Args(() => UsageHistoryArgs) args: UsageHistoryArgs,
    @Ctx() ctx: RequestContext,
  ): Promise<UsagePeriod[]> {
    const periods = await usageHistoryOf(sourceOf(ctx), args.months);
    return periods.map(usagePeriodFromData);
  }
}
