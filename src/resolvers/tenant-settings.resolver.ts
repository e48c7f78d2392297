import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { replaceTenantSettings, tenantSettings } from '../data/tenant-settings.js';
import type { RequestContext } from '../graphql/context.js';
import { GraphQLJSON } from '../graphql/scalars.js';

@Resolver()
export class TenantSettingsResolver {
  @Query(() => GraphQLJSON, { description: "The tenant's settings (a JSON object; {} at first)." })
  tenantSettings(@Ctx() ctx: RequestContext) {
    return tenantSettings(ctx.db, ctx.tenantId);
  }

  @Mutation(() => GraphQLJSON, {
    description:
      "Replaces the tenant's settings with a JSON object (at most 16 KB); OWNER only. Returns them.",
  })
  async updateTenantSettings(
    @Arg('settings', () => GraphQLJSON) settings: unknown,
    @Ctx() ctx: RequestContext,
  ) {
    return ctx.platform(async (db) => {
      const { before, after } = await replaceTenantSettings(db, ctx.tenantId, settings);
      const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
      const changed = [...keys].filter(
        (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
      );
      await ctx.audit(db, {
        action: 'tenant.settings_changed',
        tenantId: ctx.tenantId,
        resourceType: 'tenant',
        resourceId: ctx.tenantId,
        changes: { keys: changed.sort() },
      });
      return after;
    });
  }
}
