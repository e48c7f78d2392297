/**
 * The platform fields, for operators only (permission 'platform', checked before any SQL by the
 * request guard): every tenant, listed and inspected with its usage, and its lifecycle. Mutations
 * run the lifecycle inside the request's transaction under the login role, so the audit entry
 * carries the operator, IP and user agent and rolls back with the request.
 */
import { totalCountResolver } from './total-count.resolver.js';
import type { CommonQueryMethods } from 'slonik';
import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  Float,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import {
  countPlatformTenants,
  findPlatformTenant,
  listPlatformTenants,
  type PlatformTenantFilter,
} from '../data/platform-tenants.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { decodeCursor, pageSize, timestampPosition, toPage } from '../graphql/pagination.js';
import { createUsageLoaders, type UsageLoaders } from '../graphql/platform-loaders.js';
import { TierEnum } from '../schema/enums.js';
import { TenantsArgs } from '../schema/platform-tenant.args.js';
import { CreateTenantInput } from '../schema/platform-tenant.input.js';
import {
  PlatformTenant,
  PlatformTenantConnection,
  TenantUsage,
  platformTenantFromRow,
} from '../schema/platform-tenant.type.js';
import {
  createTenant,
  deleteTenant,
  reactivateTenant,
  restoreTenant,
  suspendTenant,
  type LifecycleContext,
  type Tenant,
} from '../tenants/lifecycle.js';
import { isUuid } from '../validation.js';

/** A cursor's key is created_at to the microsecond, as listPlatformTenants writes it. */
const tenantsCursor = (after: string) => timestampPosition(decodeCursor(after));

const usageLoadersOf = (ctx: RequestContext) => createUsageLoaders((fn) => ctx.platform(fn));

/** The tenant as operators see it, read in the same transaction (after a change, its new state). */
async function readTenant(
  db: CommonQueryMethods,
  id: string,
  loaders: UsageLoaders,
): Promise<PlatformTenant> {
  const row = await findPlatformTenant(db, { id });
  if (!row) throw new NotFoundError(`No tenant ${id}.`, { field: 'id' });
  return platformTenantFromRow(row, loaders);
}

export const PlatformTenantConnectionResolver = totalCountResolver(
  PlatformTenantConnection,
  'All tenants matching the filter (counted only when asked for).',
);

@Resolver(() => TenantUsage)
export class TenantUsageResolver {
  @FieldResolver(() => Int, { description: 'Active members (users who may sign in).' })
  activeUsers(@Root() usage: TenantUsage): Promise<number> {
    return usage.loaders.activeUsers.load(usage.tenantId);
  }

  @FieldResolver(() => Int, { description: 'API keys that work: neither revoked nor expired.' })
  apiKeys(@Root() usage: TenantUsage): Promise<number> {
    return usage.loaders.apiKeys.load(usage.tenantId);
  }

  @FieldResolver(() => Int, { description: 'Products in its schema, archived ones included.' })
  products(@Root() usage: TenantUsage): Promise<number> {
    return usage.loaders.products.load(usage.tenantId);
  }

  @FieldResolver(() => Float, {
    description: "Bytes taken by its schema's tables, with their indexes and TOAST.",
  })
  storageBytes(@Root() usage: TenantUsage): Promise<number> {
    return usage.loaders.storageBytes.load(usage.tenantId);
  }

  @FieldResolver(() => Float, {
    description: 'API requests counted for the current usage period (0 when none is recorded).',
  })
  apiRequestsThisMonth(@Root() usage: TenantUsage): Promise<number> {
    return usage.loaders.apiRequestsThisMonth.load(usage.tenantId);
  }
}

@Resolver(() => PlatformTenant)
export class PlatformResolver {
  @Query(() => PlatformTenantConnection, {
    description: 'Every tenant, oldest first, a page at a time (platform operators only).',
  })
  async tenants(@Args(() => TenantsArgs) args: TenantsArgs, @Ctx() ctx: RequestContext) {
    const size = pageSize(args.first);
    const after = args.after ? tenantsCursor(args.after) : null;
    const filter: PlatformTenantFilter = { ...args.filter };
    const rows = await ctx.platform((db) =>
      listPlatformTenants(db, { limit: size + 1, after, filter }),
    );
    const page = toPage(
      rows,
      size,
      (row) => ({ key: row.created_key, id: row.id }),
      () => ctx.platform((db) => countPlatformTenants(db, filter)),
      after !== null,
    );
    const loaders = usageLoadersOf(ctx);
    return {
      ...page,
      edges: page.edges.map((edge) => ({
        cursor: edge.cursor,
        node: platformTenantFromRow(edge.node, loaders),
      })),
    };
  }

  @Query(() => PlatformTenant, {
    nullable: true,
    description:
      'One tenant by id or by slug (give exactly one), deleted ones included; null when there is none.',
  })
  async tenant(
    @Arg('id', () => ID, { nullable: true }) id: string | null,
    @Arg('slug', () => String, { nullable: true }) slug: string | null,
    @Ctx() ctx: RequestContext,
  ) {
    if ((id == null) === (slug == null)) {
      throw new BadUserInputError('Give exactly one of id and slug.', { field: 'id' });
    }
    if (id != null && !isUuid(id)) return null;
    const row = await ctx.platform((db) =>
      findPlatformTenant(db, id != null ? { id: id.toLowerCase() } : { slug: slug! }),
    );
    return row && platformTenantFromRow(row, usageLoadersOf(ctx));
  }

  @FieldResolver(() => TenantUsage, {
    description: 'What it uses now; counted only when asked for.',
  })
  usage(@Root() tenant: PlatformTenant): TenantUsage {
    return { tenantId: tenant.id, loaders: tenant.usageLoaders };
  }

  @Mutation(() => PlatformTenant, {
    description: 'Creates a tenant: its row, role and schema with every tenant migration.',
  })
  createTenant(
    @Arg('input', () => CreateTenantInput) input: CreateTenantInput,
    @Ctx() ctx: RequestContext,
  ) {
    return this.change(ctx, null, (lifecycle) =>
      createTenant(lifecycle, {
        name: input.name,
        slug: input.slug,
        tier: input.tier ?? TierEnum.STARTER,
      }),
    );
  }

  @Mutation(() => PlatformTenant, {
    description: "Suspends a tenant: its API keys and members' sessions get TENANT_SUSPENDED.",
  })
  suspendTenant(
    @Arg('id', () => ID) id: string,
    @Arg('reason', () => String, {
      nullable: true,
      description: 'Why, for the audit log: 1 to 500 characters.',
    })
    reason: string | null,
    @Ctx() ctx: RequestContext,
  ) {
    return this.change(ctx, id, (lifecycle) => suspendTenant(lifecycle, tenantId(id), { reason }));
  }

  @Mutation(() => PlatformTenant, {
    description: 'Lifts a suspension: back to TRIAL while the trial lasts, else ACTIVE.',
  })
  reactivateTenant(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    return this.change(ctx, id, (lifecycle) => reactivateTenant(lifecycle, tenantId(id)));
  }

  @Mutation(() => PlatformTenant, {
    description:
      'Soft-deletes a tenant: refused at once, its schema kept for the retention period.',
  })
  deleteTenant(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    return this.change(ctx, id, (lifecycle) => deleteTenant(lifecycle, tenantId(id)));
  }

  @Mutation(() => PlatformTenant, { description: 'Restores a soft-deleted tenant.' })
  restoreTenant(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    return this.change(ctx, id, (lifecycle) => restoreTenant(lifecycle, tenantId(id)));
  }

  /**
   * Runs a lifecycle change in the request's transaction as this operator, then makes this
   * server forget what it cached about the tenant, so its keys and sessions see the change on
   * their next request.
   */
  private async change(
    ctx: RequestContext,
    id: string | null,
    act: (lifecycle: LifecycleContext) => Promise<Tenant>,
  ): Promise<PlatformTenant> {
    const loaders = usageLoadersOf(ctx);
    const changed = await ctx.platform(async (db) => {
      let tenant: Tenant;
      try {
        tenant = await act(ctx.lifecycle(db));
      } catch (error) {
        // The lifecycle names a missing tenant by the slug or id it was given; here it is an id.
        if (id !== null && error instanceof NotFoundError) {
          throw new NotFoundError(`No tenant ${id}.`, { field: 'id' });
        }
        throw error;
      }
      return readTenant(db, tenant.id, loaders);
    });
    ctx.afterCommit(() => ctx.authenticator.forgetTenant(changed.id));
    return changed;
  }
}

/** An id argument as the lifecycle takes it: a UUID, never read as a slug. */
function tenantId(id: string): string {
  if (!isUuid(id)) throw new NotFoundError(`No tenant ${id}.`, { field: 'id' });
  return id.toLowerCase();
}
