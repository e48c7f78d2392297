import { Ctx, Query, Resolver } from 'type-graphql';
import { holds } from '../auth/permissions.js';
import { accessOf } from '../billing/access.js';
import type { RequestContext } from '../graphql/context.js';
import { Company, companyFromRow } from '../schema/company.type.js';
import {
  ScopeEnum,
  type PrincipalKindEnum,
  type RoleEnum,
  type TenantStatusEnum,
  type TierEnum,
} from '../schema/enums.js';
import { Viewer } from '../schema/viewer.type.js';

@Resolver()
export class ViewerResolver {
  @Query(() => Viewer, { description: 'Who is calling.' })
  viewer(@Ctx() ctx: RequestContext): Viewer {
    const principal = ctx.principal;
    const tenant = principal.tenant;
    const access = tenant && accessOf(tenant, new Date(), ctx.billing.graceDays);
    const scopes: ScopeEnum[] = [];
    if (holds(principal, 'read')) scopes.push(ScopeEnum.READ);
    if (holds(principal, 'write')) scopes.push(ScopeEnum.WRITE);
    return {
      kind: principal.kind as PrincipalKindEnum,
      tenant: tenant && {
        id: tenant.id,
        slug: tenant.slug,
        name: tenant.name,
        tier: tenant.tier as TierEnum,
        status: access!.status as TenantStatusEnum,
        readOnly: access!.mode === 'read_only',
        billingWarning: access!.message,
      },
      role: principal.role as RoleEnum | null,
      user:
        principal.kind === 'user' && principal.userId !== null && principal.role !== null
          ? {
              id: principal.userId,
              clerkUserId: principal.clerkUserId,
              email: principal.email,
              role: principal.role as RoleEnum,
            }
          : null,
      scopes,
      operator: principal.operator,
    };
  }

  @Query(() => Company, { nullable: true, description: "The tenant's company." })
  async company(@Ctx() ctx: RequestContext) {
    const row = await ctx.loaders.company.load('company');
    return row && companyFromRow(row);
  }
}
