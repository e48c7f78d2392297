/**
 * Clerk organisations and their tenants: one tenant per organisation, linked by
 * tenants.clerk_organization_id. Provisioning is idempotent and safe under concurrency: the
 * organisation's advisory lock serialises every attempt (webhook retries, concurrent deliveries,
 * a session that arrives before the webhook), and each attempt first looks for the tenant.
 */
import { createHash } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { sql } from '../db/sql.js';
import {
  createTenant,
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
