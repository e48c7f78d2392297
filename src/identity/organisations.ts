/**
 * Clerk organisations and their tenants: one tenant per organisation, linked by
 * tenants.clerk_organization_id. Provisioning is idempotent and safe under concurrency: the
 * organisation's advisory lock serialises every attempt (webhook retries, concurrent deliveries,
 * a session that arrives before the webhook), and each attempt first looks for the tenant.
 */
import { createHash } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { auditSource, recordAudit } from '../audit/audit-log.js';
import { sql } from '../db/sql.js';
import {
  createTenant,
  deleteTenant,
  findTenantByOrganisation,
  type LifecycleContext,
  type Tenant,
} from '../tenants/lifecycle.js';
import { slugProblem } from '../tenants/slug.js';

export type Organisation = {
  /** org_… */
  id: string;
  name: string;
  slug: string | null;
};

/** A slug-shaped version of any text: lowercase letters, digits and single dashes. */
function slugBase(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 50)
    .replace(/-+$/, '');
}

/**
 * A free tenant slug for the organisation: its Clerk slug (or name) when that is valid and free,
 * else that base plus a suffix derived from the organisation id (stable across retries).
 */
async function freeSlug(db: CommonQueryMethods, organisation: Organisation): Promise<string> {
  const suffix = createHash('sha256').update(organisation.id).digest('hex').slice(0, 8);
  const base = slugBase(organisation.slug ?? organisation.name) || 'org';
  for (const candidate of [base, `${base}-${suffix}`, `org-${suffix}`]) {
    if (slugProblem(candidate) !== undefined) continue;
    const taken = await db.exists(sql.unsafe`
      /* tenantSlugTaken */ SELECT 1 FROM public.tenants WHERE slug = ${candidate}`);
    if (!taken) return candidate;
  }
  return `org-${createHash('sha256').update(organisation.id).digest('hex').slice(0, 24)}`;
}

/**
 * What a tenant is called when a session provisions it: a token carries the organisation's slug
 * but not its name. organization.created replaces it with the real name.
 */
export const placeholderName = (organisation: { id: string; slug: string | null }) =>
  organisation.slug ?? organisation.id;

/** Serialises work on one organisation until the transaction ends. */
export async function lockOrganisation(db: CommonQueryMethods, organisationId: string) {
  await db.query(sql.unsafe`
    /* lockOrganisation */ SELECT pg_advisory_xact_lock(hashtextextended(${`clerk-org:${organisationId}`}, 0))`);
}

/**
 * The organisation's tenant, created (TRIAL on the starter tier) when it has none. A deleted
 * tenant is returned as it is: an organisation whose tenant was deleted does not get a new one.
 */
export async function provisionOrganisation(
  ctx: LifecycleContext,
  organisation: Organisation,
): Promise<{ tenant: Tenant; created: boolean }> {
  return ctx.pool.transaction(async (tx) => {
    await lockOrganisation(tx, organisation.id);
    const existing = await findTenantByOrganisation(tx, organisation.id);
    if (existing) return { tenant: existing, created: false };
    const tenant = await createTenant(
      { ...ctx, pool: tx },
      {
        slug: await freeSlug(tx, organisation),
        name: (organisation.name.trim() || organisation.slug || organisation.id).slice(0, 255),
        tier: 'starter',
        status: 'trial',
        clerkOrganizationId: organisation.id,
      },
    );
    return { tenant, created: true };
  }, 0);
}

/** The tenant name an organisation's name gives (as provisionOrganisation names a new tenant). */
export const tenantNameOf = (organisation: Organisation): string =>
  (organisation.name.trim() || organisation.slug || organisation.id).slice(0, 255);

export type OrganisationRename = {
  tenant: Tenant;
  /** The organisation had no tenant: one was provisioned, already with the new name. */
  created: boolean;
  /** The tenant's name before and after; null when it already had this name. */
  renamed: { from: string; to: string } | null;
};

/**
 * Gives the organisation's tenant the organisation's (new) name; its slug never changes. An
 * organisation without a tenant gets one. Audited as tenant.renamed.
 */
export async function renameOrganisation(
  ctx: LifecycleContext,
  organisation: Organisation,
): Promise<OrganisationRename> {
  return ctx.pool.transaction(async (tx) => {
    await lockOrganisation(tx, organisation.id);
    const existing = await findTenantByOrganisation(tx, organisation.id);
    if (!existing) {
      const { tenant } = await provisionOrganisation({ ...ctx, pool: tx }, organisation);
      return { tenant, created: true, renamed: null };
    }
    const name = tenantNameOf(organisation);
    if (existing.name === name) return { tenant: existing, created: false, renamed: null };
    await tx.query(sql.unsafe`
      /* renameTenant */ UPDATE public.tenants SET name = ${name} WHERE id = ${existing.id}`);
    await recordAudit(tx, {
      action: 'tenant.renamed',
      ...auditSource(ctx.actor),
      tenantId: existing.id,
      resourceType: 'tenant',
      resourceId: existing.id,
      changes: { from: existing.name, to: name },
      metadata: { organisationId: organisation.id },
    });
    return {
      tenant: { ...existing, name },
      created: false,
      renamed: { from: existing.name, to: name },
    };
  }, 0);
}

/**
 * Soft-deletes the organisation's tenant (as the lifecycle's deleteTenant does, audited
 * tenant.deleted). Null when the organisation has no tenant or it is already deleted.
 */
export async function deleteOrganisation(
  ctx: LifecycleContext,
  organisationId: string,
): Promise<Tenant | null> {
  return ctx.pool.transaction(async (tx) => {
    await lockOrganisation(tx, organisationId);
    const existing = await findTenantByOrganisation(tx, organisationId);
    if (!existing || existing.deletedAt) return null;
    return deleteTenant({ ...ctx, pool: tx }, existing.id);
  }, 0);
}
