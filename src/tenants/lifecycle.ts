/**
 * The tenant lifecycle: create (row, role, schema and every tenant migration in one transaction),
 * list, get, suspend, reactivate, soft delete, restore and purge. Schema and role names are
 * derived from the tenant id and reach SQL only through sql.identifier.
 */
import { randomUUID } from 'node:crypto';
import {
  UniqueIntegrityConstraintViolationError,
  type CommonQueryMethods,
  type DatabaseTransactionConnection,
} from 'slonik';
import { z } from 'zod';
import { auditSource, recordAudit, type Actor } from '../audit/audit-log.js';
import { latestVersion, type MigrationSet } from '../db/migrations/files.js';
import {
  AppliedRow,
  applyTenantFiles,
  registerTenantFiles,
  verifyAppliedFiles,
} from '../db/migrations/runner.js';
import { sql } from '../db/sql.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors.js';
import { schemaNameFor, type TenantRef } from './names.js';
import { isUuid } from '../validation.js';
import { assertValidSlug } from './slug.js';
import { PLANS } from '../billing/plans.js';
import { isTier, TIERS, TRIAL_DAYS, type TenantStatus, type Tier } from './tiers.js';

export type Tenant = TenantRef & {
  slug: string;
  name: string;
  tier: Tier;
  status: TenantStatus;
  clerkOrganizationId: string | null;
  trialEndsAt: Date | null;
  createdAt: Date;
  deletedAt: Date | null;
  /** When the first unpaid invoice failed (past_due), else null. */
  pastDueSince: Date | null;
  /** Who suspended it: 'operator' blocks everything, 'payment' leaves reads working. */
  suspendedReason: 'operator' | 'payment' | null;
  /** The plan's limits as the row holds them (null: unlimited). */
  limits: { maxUsers: number | null; maxProducts: number | null; maxStorageMb: number | null };
};

export type LifecycleContext = {
  /** The pool, or a transaction that the lifecycle's own transactions then nest in (savepoints). */
  pool: CommonQueryMethods;
  migrations: MigrationSet;
  /** Who acts, for the audit log: 'cli', 'system', or a request's principal and client. */
  actor: Actor;
  retentionDays: number;
  /** Tenant roles get LOGIN (no password) where Citus must connect as them; NOLOGIN otherwise. */
  roleLogin: boolean;
};

export type CreateTenantInput = {
  /** Normally generated; given when a tenant is re-created from a backup under its old id. */
  id?: string;
  slug: string;
  name: string;
  tier?: string;
  status?: TenantStatus;
  clerkOrganizationId?: string | null;
};

const TenantRow = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  schema_name: z.string(),
  subscription_tier: z.enum(TIERS),
  subscription_status: z.enum(['trial', 'active', 'past_due', 'cancelled', 'suspended']),
  clerk_organization_id: z.string().nullable(),
  trial_ends_at: z.date().nullable(),
  created_at: z.date(),
  deleted_at: z.date().nullable(),
  past_due_since: z.date().nullable(),
  suspended_reason: z.enum(['operator', 'payment']).nullable(),
  max_users: z.number().nullable(),
  max_entities: z.number().nullable(),
  max_storage_mb: z.number().nullable(),
});

const tenantColumns = sql.fragment`
  id, slug, name, schema_name, subscription_tier, subscription_status, clerk_organization_id,
  trial_ends_at, created_at, deleted_at, past_due_since, suspended_reason, max_users, max_entities,
  max_storage_mb`;

const toTenant = (row: z.infer<typeof TenantRow>): Tenant => ({
  id: row.id,
  slug: row.slug,
  name: row.name,
  schemaName: row.schema_name,
  tier: row.subscription_tier,
  status: row.subscription_status,
  clerkOrganizationId: row.clerk_organization_id,
  trialEndsAt: row.trial_ends_at,
  createdAt: row.created_at,
  deletedAt: row.deleted_at,
  pastDueSince: row.past_due_since,
  suspendedReason: row.suspended_reason,
  limits: {
    maxUsers: row.max_users,
    maxProducts: row.max_entities,
    maxStorageMb: row.max_storage_mb,
  },
});

function validName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 255) {
    throw new BadUserInputError('Invalid name: it must be 1 to 255 characters.', { field: 'name' });
  }
  return trimmed;
}

function validTier(tier: string | undefined): Tier {
  if (tier === undefined) return 'starter';
  if (!isTier(tier)) {
    throw new BadUserInputError(`Invalid tier "${tier}": it must be one of ${TIERS.join(', ')}.`, {
      field: 'tier',
    });
  }
  return tier;
}

export type CreateTenantOptions = {
  /**
   * Fills the new schema inside the same transaction (search_path is the tenant's schema), so a
   * failure leaves no tenant behind.
   */
  seed?: (
    tx: DatabaseTransactionConnection,
    created: { tenant: Tenant; companyId: string },
  ) => Promise<void>;
};

export async function createTenant(
  ctx: LifecycleContext,
  input: CreateTenantInput,
  options: CreateTenantOptions = {},
): Promise<Tenant> {
  const slug = assertValidSlug(input.slug);
  const name = validName(input.name);
  const tier = validTier(input.tier);
  const status = input.status ?? 'trial';
  const limits = PLANS[tier].limits;
  if (input.id !== undefined && !isUuid(input.id)) {
    throw new BadUserInputError(`Invalid id "${input.id}": it must be a UUID.`, { field: 'id' });
  }
  const id = input.id?.toLowerCase() ?? randomUUID();
  const schemaName = schemaNameFor(id);
  const files = ctx.migrations.tenant;
  const ident = sql.identifier([schemaName]);

  return ctx.pool.transaction(async (tx) => {
    // An edited tenant migration must not reach new tenants either.
    const registry = await tx.any(sql.type(AppliedRow)`
      /* tenantMigrationRegistry */ SELECT version, name, checksum FROM public.tenant_migrations ORDER BY version`);
    verifyAppliedFiles(files, registry, `${ctx.migrations.dir}/tenant`);

    let row: z.infer<typeof TenantRow>;
    try {
      row = await tx.one(sql.type(TenantRow)`
        /* insertTenant */
        INSERT INTO public.tenants (id, slug, name, schema_name, subscription_tier, subscription_status,
          clerk_organization_id, trial_ends_at, max_users, max_entities, max_storage_mb)
        VALUES (${id}, ${slug}, ${name}, ${schemaName}, ${tier}, ${status}, ${input.clerkOrganizationId ?? null},
          ${status === 'trial' ? sql.fragment`now() + make_interval(days => ${TRIAL_DAYS})` : null},
          ${limits.maxUsers}, ${limits.maxProducts}, ${limits.maxStorageMb})
        RETURNING ${tenantColumns}`);
    } catch (error) {
      if (error instanceof UniqueIntegrityConstraintViolationError) {
        if (error.constraint === 'tenants_pkey') {
          throw new ConflictError(`A tenant with id ${id} already exists.`, { field: 'id' });
        }
        if (error.constraint === 'tenants_slug_key') {
          throw new ConflictError(`A tenant with slug "${slug}" already exists.`, {
            field: 'slug',
          });
        }
        if (error.constraint === 'tenants_clerk_organization_id_key') {
          throw new ConflictError('A tenant already exists for this Clerk organisation.', {
            field: 'clerkOrganizationId',
          });
        }
      }
      throw error;
    }

    // Created by a creator role, which also makes the login role a member that may switch to it
    // (SET ROLE) for each tenant request: sql/public/0009 says why not by the login role itself.
    await tx.query(sql.unsafe`
      /* createTenantRole */ SELECT public.create_tenant_role(${schemaName}, ${ctx.roleLogin})`);
    await tx.query(sql.unsafe`CREATE SCHEMA ${ident}`);
    await tx.query(sql.unsafe`GRANT USAGE ON SCHEMA ${ident} TO ${ident}`);
    // Every table and sequence the owner creates in the schema, now or in a later migration,
    // is granted to the tenant's role: no grant statement has to scan the catalog per tenant.
    await tx.query(sql.unsafe`
      ALTER DEFAULT PRIVILEGES IN SCHEMA ${ident} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${ident}`);
    await tx.query(sql.unsafe`
      ALTER DEFAULT PRIVILEGES IN SCHEMA ${ident} GRANT USAGE, SELECT ON SEQUENCES TO ${ident}`);
    const tenant = { id, schemaName };
    const version = await applyTenantFiles(tx, tenant, files, 0);
    await registerTenantFiles(tx, files);
    await tx.query(sql.unsafe`
      /* insertTenantMigrationState */
      INSERT INTO public.tenant_migration_state (tenant_id, version) VALUES (${id}, ${version})`);
    const companyId = await tx.oneFirst(sql.type(z.object({ id: z.string() }))`
      /* insertDefaultCompany */
      INSERT INTO ${sql.identifier([schemaName, 'companies'])} (name) VALUES (${name}) RETURNING id`);
    const created = toTenant(row);
    await options.seed?.(tx, { tenant: created, companyId });
    // Its own rows of the platform tables, behind row-level security: the tenant group's grants
    // (sql/public/0008), inherited through one membership row, so no shared catalog row grows.
    // Granting a role locks it until commit (PostgreSQL 16+), and concurrent provisionings grant
    // the same group: as late as possible, so they queue only for the commit.
    await tx.query(
      sql.unsafe`/* joinTenantGroup */ SELECT public.join_tenant_group(${schemaName})`,
    );
    await recordAudit(tx, {
      action: 'tenant.created',
      ...auditSource(ctx.actor),
      tenantId: id,
      resourceType: 'tenant',
      resourceId: id,
      changes: { slug, name, tier, status, schemaVersion: latestVersion(files) },
    });
    return created;
  }, 0);
}

/** Finds a tenant by slug or id, deleted ones included. */
export async function getTenant(pool: CommonQueryMethods, slugOrId: string): Promise<Tenant> {
  const row = await pool.maybeOne(sql.type(TenantRow)`
    /* getTenant */
    SELECT ${tenantColumns} FROM public.tenants
    WHERE ${isUuid(slugOrId) ? sql.fragment`id = ${slugOrId}` : sql.fragment`slug = ${slugOrId}`}`);
  if (!row) throw new NotFoundError(`No tenant "${slugOrId}".`, { slug: slugOrId });
  return toTenant(row);
}

/** The tenants of these Clerk organisations (deleted ones included), by organisation id. */
export async function findTenantsByOrganisation(
  db: CommonQueryMethods,
  clerkOrganizationIds: readonly string[],
): Promise<Map<string, Tenant>> {
  const rows = await db.any(sql.type(TenantRow)`
    /* findTenantsByOrganisation */
    SELECT ${tenantColumns} FROM public.tenants
    WHERE clerk_organization_id = ANY(${sql.array(clerkOrganizationIds, 'text')})`);
  return new Map(rows.map((row) => [row.clerk_organization_id!, toTenant(row)]));
}

/** The tenant of a Clerk organisation (deleted ones included), or null when it has none. */
export async function findTenantByOrganisation(
  db: CommonQueryMethods,
  clerkOrganizationId: string,
): Promise<Tenant | null> {
  return (
    (await findTenantsByOrganisation(db, [clerkOrganizationId])).get(clerkOrganizationId) ?? null
  );
}

export type TenantListing = Tenant & {
  schemaVersion: number | null;
  migrationError: string | null;
};

export async function listTenants(
  pool: CommonQueryMethods,
  options: { includeDeleted?: boolean } = {},
): Promise<TenantListing[]> {
  const rows = await pool.any(sql.type(
    TenantRow.extend({ schema_version: z.number().nullable(), last_error: z.string().nullable() }),
  )`
    /* listTenants */
    SELECT ${tenantColumns}, s.version AS schema_version, s.last_error
    FROM public.tenants t LEFT JOIN public.tenant_migration_state s ON s.tenant_id = t.id
    ${options.includeDeleted ? sql.fragment`` : sql.fragment`WHERE t.deleted_at IS NULL`}
    ORDER BY t.slug`);
  return rows.map((row) => ({
    ...toTenant(row),
    schemaVersion: row.schema_version,
    migrationError: row.last_error,
  }));
}

export async function deleteTenant(ctx: LifecycleContext, slugOrId: string): Promise<Tenant> {
  const tenant = await getTenant(ctx.pool, slugOrId);
  if (tenant.deletedAt) {
    throw new ConflictError(
      `Tenant "${tenant.slug}" was already deleted on ${tenant.deletedAt.toISOString()}.`,
    );
  }
  return ctx.pool.transaction(async (tx) => {
    const row = await tx.one(sql.type(TenantRow)`
      /* softDeleteTenant */
      UPDATE public.tenants SET deleted_at = now() WHERE id = ${tenant.id} AND deleted_at IS NULL
      RETURNING ${tenantColumns}`);
    await recordAudit(tx, {
      action: 'tenant.deleted',
      ...auditSource(ctx.actor),
      tenantId: tenant.id,
      resourceType: 'tenant',
      resourceId: tenant.id,
      severity: 'warning',
    });
    return toTenant(row);
  });
}

export async function restoreTenant(ctx: LifecycleContext, slugOrId: string): Promise<Tenant> {
  const tenant = await getTenant(ctx.pool, slugOrId);
  if (!tenant.deletedAt) throw new ConflictError(`Tenant "${tenant.slug}" is not deleted.`);
  return ctx.pool.transaction(async (tx) => {
    const row = await tx.one(sql.type(TenantRow)`
      /* restoreTenant */
      UPDATE public.tenants SET deleted_at = NULL WHERE id = ${tenant.id}
      RETURNING ${tenantColumns}`);
    await recordAudit(tx, {
      action: 'tenant.restored',
      ...auditSource(ctx.actor),
      tenantId: tenant.id,
      resourceType: 'tenant',
      resourceId: tenant.id,
    });
    return toTenant(row);
  });
}

const MAX_REASON = 500;

function validReason(reason: string | null | undefined): string | null {
  if (reason === undefined || reason === null) return null;
  const trimmed = reason.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_REASON) {
    throw new BadUserInputError(`Invalid reason: it must be 1 to ${MAX_REASON} characters.`, {
      field: 'reason',
    });
  }
  return trimmed;
}

/** The tenant's row, locked until the transaction ends, so a status change sees the latest state. */
async function lockTenant(tx: CommonQueryMethods, id: string) {
  return tx.one(sql.type(TenantRow)`
    /* lockTenant */ SELECT ${tenantColumns} FROM public.tenants WHERE id = ${id} FOR UPDATE`);
}

/**
 * Suspends a tenant: its keys and sessions get TENANT_SUSPENDED (at once on the server that
 * suspends it, within the credential cache's lifetime elsewhere); its data stays as it is.
 */
export async function suspendTenant(
  ctx: LifecycleContext,
  slugOrId: string,
  options: { reason?: string | null } = {},
): Promise<Tenant> {
  const reason = validReason(options.reason);
  const tenant = await getTenant(ctx.pool, slugOrId);
  return ctx.pool.transaction(async (tx) => {
    const current = toTenant(await lockTenant(tx, tenant.id));
    if (current.deletedAt) {
      throw new ConflictError(`Tenant "${current.slug}" is deleted: there is nothing to suspend.`);
    }
    if (current.status === 'suspended' && current.suspendedReason === 'operator') {
      throw new ConflictError(`Tenant "${current.slug}" is already suspended.`);
    }
    // An operator's suspension also overrides a payment suspension (which leaves reads working).
    const row = await tx.one(sql.type(TenantRow)`
      /* suspendTenant */
      UPDATE public.tenants SET subscription_status = 'suspended', suspended_reason = 'operator'
      WHERE id = ${tenant.id}
      RETURNING ${tenantColumns}`);
    await recordAudit(tx, {
      action: 'tenant.suspended',
      ...auditSource(ctx.actor),
      tenantId: tenant.id,
      resourceType: 'tenant',
      resourceId: tenant.id,
      severity: 'warning',
      changes: {
        from: current.status,
        reason,
        ...(current.suspendedReason ? { previously: current.suspendedReason } : {}),
      },
    });
    return toTenant(row);
  });
}

/**
 * Lifts a suspension, an operator's or a payment one (a goodwill gesture): the tenant returns to
 * `trial` while its trial has not ended, else to `active`, with no payment overdue. Only a
 * suspended tenant that is not deleted can be reactivated.
 */
export async function reactivateTenant(ctx: LifecycleContext, slugOrId: string): Promise<Tenant> {
  const tenant = await getTenant(ctx.pool, slugOrId);
  return ctx.pool.transaction(async (tx) => {
    const current = toTenant(await lockTenant(tx, tenant.id));
    if (current.deletedAt) {
      throw new ConflictError(
        `Tenant "${current.slug}" is deleted: restore it first, then reactivate it.`,
      );
    }
    if (current.status !== 'suspended') {
      throw new ConflictError(
        `Tenant "${current.slug}" is not suspended (its status is ${current.status}).`,
      );
    }
    const row = await tx.one(sql.type(TenantRow)`
      /* reactivateTenant */
      UPDATE public.tenants
      SET subscription_status = CASE WHEN trial_ends_at > now() THEN 'trial' ELSE 'active' END::public.subscription_status,
        suspended_reason = NULL, past_due_since = NULL
      WHERE id = ${tenant.id}
      RETURNING ${tenantColumns}`);
    const reactivated = toTenant(row);
    await recordAudit(tx, {
      action: 'tenant.reactivated',
      ...auditSource(ctx.actor),
      tenantId: tenant.id,
      resourceType: 'tenant',
      resourceId: tenant.id,
      changes: { from: current.status, to: reactivated.status },
    });
    return reactivated;
  });
}

/** Drops a soft-deleted tenant's schema and role and removes its row, after the retention period. */
export async function purgeTenant(
  ctx: LifecycleContext,
  slugOrId: string,
  options: { force?: boolean } = {},
): Promise<Tenant> {
  const tenant = await getTenant(ctx.pool, slugOrId);
  if (!tenant.deletedAt) {
    throw new ConflictError(
      `Tenant "${tenant.slug}" is not deleted: delete it first, then purge it.`,
    );
  }
  const purgeableFrom = new Date(tenant.deletedAt.getTime() + ctx.retentionDays * 86_400_000);
  if (!options.force && purgeableFrom.getTime() > Date.now()) {
    throw new ConflictError(
      `Tenant "${tenant.slug}" is retained until ${purgeableFrom.toISOString()} (${ctx.retentionDays} days after deletion): purge it then, or force it.`,
    );
  }
  const ident = sql.identifier([tenant.schemaName]);
  await ctx.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`DROP SCHEMA IF EXISTS ${ident} CASCADE`);
    const roleExists = await tx.exists(sql.unsafe`
      /* tenantRoleExists */ SELECT 1 FROM pg_roles WHERE rolname = ${tenant.schemaName}`);
    if (roleExists) {
      // Revokes whatever the role still holds in this database, then removes it. DROP OWNED needs
      // the role's privileges, which the login role switches to but does not inherit.
      await tx.query(sql.unsafe`SELECT set_config('role', ${tenant.schemaName}, true)`);
      await tx.query(sql.unsafe`DROP OWNED BY ${ident}`);
      await tx.query(sql.unsafe`SELECT set_config('role', 'none', true)`);
      await tx.query(sql.unsafe`DROP ROLE ${ident}`);
    }
    await tx.query(
      sql.unsafe`/* purgeTenantRow */ DELETE FROM public.tenants WHERE id = ${tenant.id}`,
    );
    await recordAudit(tx, {
      action: 'tenant.purged',
      ...auditSource(ctx.actor),
      tenantId: tenant.id,
      resourceType: 'tenant',
      resourceId: tenant.id,
      severity: 'warning',
      changes: { slug: tenant.slug, forced: Boolean(options.force) },
    });
  }, 0);
  return tenant;
}
