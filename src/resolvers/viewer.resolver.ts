import { Ctx, Query, Resolver } from 'type-graphql';
import type { RequestContext } from '../graphql/context.js';
import { Company, companyFromRow } from '../schema/company.type.js';
import type { ScopeEnum, TenantStatusEnum, TierEnum } from '../schema/enums.js';
import { Viewer } from '../schema/viewer.type.js';

@Resolver()
export class ViewerResolver {
  @Query(() => Viewer, { description: 'Who is calling.' })
  viewer(@Ctx() ctx: RequestContext): Viewer {
    const { tenant, scopes } = ctx.principal;
    return {
      tenant: {
        id: tenant.id,
        slug: tenant.slug,
        name: tenant.name,
        tier: tenant.tier as TierEnum,
        status: tenant.status as TenantStatusEnum,
      },
      scopes: scopes as ScopeEnum[],
    };
  }

  @Query(() => Company, { nullable: true, description: "The tenant's company." })
  async company(@Ctx() ctx: RequestContext) {
    const row = await ctx.loaders.company.load('company');
    return row && companyFromRow(row);
  }
}
