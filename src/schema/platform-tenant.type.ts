import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { PlatformTenantRow } from '../data/platform-tenants.js';
import type { UsageLoaders } from '../graphql/platform-loaders.js';
import { GraphQLDateTime } from '../graphql/scalars.js';
import { TenantStatusEnum, TierEnum } from './enums.js';
import { PageInfo } from './page-info.type.js';

@ObjectType({
  simpleResolvers: true,
  description: "A tenant's limits, from its tier (null: unlimited).",
})
export class TenantLimits {
  @Field(() => Int, { nullable: true })
  maxUsers!: number | null;

  @Field(() => Int, { nullable: true })
  maxProducts!: number | null;

  @Field(() => Int, { nullable: true })
  maxStorageMb!: number | null;
}

@ObjectType({
  description:
    'What a tenant uses now. Each figure is counted only when asked for, for a whole page of tenants at once.',
})
export class TenantUsage {
  /** The tenant whose figures these are (not a GraphQL field). */
  tenantId!: string;
  /** The request's loaders for these figures (not a GraphQL field). */
  loaders!: UsageLoaders;
}

@ObjectType({ simpleResolvers: true, description: 'A tenant as platform operators see it.' })
export class PlatformTenant {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => TierEnum)
  tier!: TierEnum;

  @Field(() => TenantStatusEnum)
  status!: TenantStatusEnum;

  @Field(() => String, { nullable: true, description: 'The Clerk organisation (org_…), if any.' })
  clerkOrganizationId!: string | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  trialEndsAt!: Date | null;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: 'When it was soft-deleted; its schema is kept for the retention period.',
  })
  deletedAt!: Date | null;

  @Field(() => Int, {
    nullable: true,
    description: 'The latest tenant migration applied to its schema.',
  })
  schemaVersion!: number | null;

  @Field(() => TenantLimits)
  limits!: TenantLimits;

  /** The request's usage loaders, for the usage field resolver (not a GraphQL field). */
  usageLoaders!: UsageLoaders;
}

export const platformTenantFromRow = (
  row: PlatformTenantRow,
  usageLoaders: UsageLoaders,
): PlatformTenant => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  tier: row.subscription_tier as TierEnum,
  status: row.subscription_status as TenantStatusEnum,
  clerkOrganizationId: row.clerk_organization_id,
  trialEndsAt: row.trial_ends_at,
  createdAt: row.created_at,
  deletedAt: row.deleted_at,
  schemaVersion: row.schema_version,
  limits: {
    maxUsers: row.max_users,
    maxProducts: row.max_entities,
    maxStorageMb: row.max_storage_mb,
  },
  usageLoaders,
});

@ObjectType({ simpleResolvers: true })
export class PlatformTenantEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => PlatformTenant)
  node!: PlatformTenant;
}

@ObjectType({ simpleResolvers: true, description: 'A page of tenants, oldest first.' })
export class PlatformTenantConnection {
  @Field(() => [PlatformTenantEdge])
  edges!: PlatformTenantEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Counts all matching tenants (not a GraphQL field: see PlatformTenantConnectionResolver). */
  count!: () => Promise<number>;
}
