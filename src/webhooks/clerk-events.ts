/**
 * Clerk's webhook events (the JSON Svix delivers, already verified) and what each one does to the
 * platform tables: organisations become tenants, memberships become public.users rows. Every
 * effect runs in the caller's transaction and is audited there; nothing here calls Clerk.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { recordAudit, type AuditSource } from '../audit/audit-log.js';
import { clerkRoleName, type ClerkConfig, type UserRole } from '../config.js';
import {
  deleteOrganisation,
  placeholderName,
  provisionOrganisation,
  renameOrganisation,
  type Organisation,
} from '../identity/organisations.js';
import {
  applyMembership,
  deactivateMember,
  deleteClerkUser,
  lockMember,
  refreshUserEmail,
} from '../identity/users.js';
import { findTenantByOrganisation, type LifecycleContext } from '../tenants/lifecycle.js';

const OrganisationData = z.object({
  id: z.string().min(1),
  name: z.string(),
  slug: z.string().nullish(),
});

const DeletedData = z.object({ id: z.string().min(1) });

const MembershipData = z.object({
  role: z.string(),
  /** Milliseconds since the epoch, as Clerk sends it; orders events about one membership. */
  updated_at: z.number().int().nonnegative().nullish(),
  organization: OrganisationData,
  public_user_data: z.object({
    user_id: z.string().min(1),
    identifier: z.string().nullish(),
  }),
});

const UserData = z.object({
  id: z.string().min(1),
  primary_email_address_id: z.string().nullish(),
  email_addresses: z.array(z.object({ id: z.string(), email_address: z.string() })).nullish(),
});

const Envelope = z.object({
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
});

/** The events with an effect, and the shape of the `data` each one needs. */
const HANDLED = {
  'organization.created': OrganisationData,
  'organization.updated': OrganisationData,
  'organization.deleted': DeletedData,
  'organizationMembership.created': MembershipData,
  'organizationMembership.updated': MembershipData,
  'organizationMembership.deleted': MembershipData.omit({ role: true }),
  'user.updated': UserData,
  'user.deleted': DeletedData,
} as const;

type Handled = typeof HANDLED;
type HandledEvent = {
  [T in keyof Handled]: { handled: true; type: T; data: z.infer<Handled[T]> };
}[keyof Handled];
/** An event with an effect, or any other type (recorded, then ignored). */
export type ClerkEvent = HandledEvent | { handled: false; type: string };

const isHandled = (type: string): type is keyof Handled => Object.hasOwn(HANDLED, type);

/** The first problem of a zod error, as one line. */
const problemOf = (error: z.ZodError) => {
  const issue = error.issues[0];
  return issue ? `${['data', ...issue.path].join('.')}: ${issue.message}` : 'invalid';
};

/** A verified body as an event; a problem (one line) when it is not an event we can read. */
export function parseClerkEvent(body: unknown): ClerkEvent | { problem: string } {
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) {
    return { problem: 'The body is not a Clerk event: it needs a "type" and a "data" object.' };
  }
  const { type } = envelope.data;
  if (!isHandled(type)) return { handled: false, type };
  const data = HANDLED[type].safeParse(envelope.data.data);
  if (!data.success) return { problem: `Invalid ${type} event: ${problemOf(data.error)}.` };
  return { handled: true, type, data: data.data } as HandledEvent;
}

export type EffectContext = {
  lifecycle: Omit<LifecycleContext, 'pool' | 'actor'>;
  roleMap: ClerkConfig['roleMap'];
  /** 'clerk_webhook', with the delivering client's IP and user agent. */
  source: AuditSource;
  svixId: string;
};

export type EffectOutcome = {
  /** stale: older than what was already applied to the same membership; nothing changed. */
  status: 'processed' | 'ignored' | 'stale';
  /** Cached state to drop once the transaction has committed. */
  forgetTenants: string[];
  forgetUsers: string[];
};

const outcome = (
  forget: { tenants?: string[]; users?: string[] } = {},
  status: EffectOutcome['status'] = 'processed',
): EffectOutcome => ({
  status,
  forgetTenants: forget.tenants ?? [],
  forgetUsers: forget.users ?? [],
});

const organisationOf = (data: z.infer<typeof OrganisationData>): Organisation => ({
  id: data.id,
  name: data.name,
  slug: data.slug ?? null,
});

const updatedAtOf = (milliseconds: number | null | undefined) =>
  milliseconds == null ? null : new Date(milliseconds);

/** An identifier is an email only when it looks like one (it may be a phone number or username). */
const emailOf = (identifier: string | null | undefined): string | null =>
  identifier && identifier.includes('@') && identifier.length <= 255 ? identifier : null;

/** Applies an event in `tx`, the transaction that also recorded its svix-id. */
export async function applyClerkEvent(
  tx: CommonQueryMethods,
  event: ClerkEvent,
  ctx: EffectContext,
): Promise<EffectOutcome> {
  const lifecycle: LifecycleContext = { ...ctx.lifecycle, pool: tx, actor: ctx.source };
  const audit = (entry: Omit<Parameters<typeof recordAudit>[1], 'actor'>) =>
    recordAudit(tx, {
      ...ctx.source,
      ...entry,
      metadata: { ...entry.metadata, svixId: ctx.svixId },
    });

  if (!event.handled) return outcome({}, 'ignored');
  switch (event.type) {
    case 'organization.created': {
      // A session, a membership event or a concurrent delivery may have provisioned it already.
      const organisation = organisationOf(event.data);
      const { tenant, created } = await provisionOrganisation(lifecycle, organisation);
      // A session that came first could only name it after the slug: give it the real name.
      if (!created && !tenant.deletedAt && tenant.name === placeholderName(organisation)) {
        await renameOrganisation(lifecycle, organisation);
        return outcome({ tenants: [tenant.id] });
      }
      return outcome();
    }
    case 'organization.updated': {
      const { tenant } = await renameOrganisation(lifecycle, organisationOf(event.data));
      return outcome({ tenants: [tenant.id] });
    }
    case 'organization.deleted': {
      const deleted = await deleteOrganisation(lifecycle, event.data.id);
      return outcome({ tenants: deleted ? [deleted.id] : [] });
    }
    case 'organizationMembership.created':
    case 'organizationMembership.updated': {
      const { organization, public_user_data: user } = event.data;
      const clerkRole = event.data.role;
      const name = clerkRoleName(clerkRole);
      const role: UserRole | undefined = Object.hasOwn(ctx.roleMap, name)
        ? ctx.roleMap[name]
        : undefined;
      if (role === undefined) {
        // Never guess a role: record the refusal and change nothing.
        const tenant = await findTenantByOrganisation(tx, organization.id);
        const member = tenant && (await lockMember(tx, tenant.id, user.user_id));
        await audit({
          action: member ? 'user.role_changed' : 'user.added',
          tenantId: tenant?.id ?? null,
          resourceType: 'user',
          resourceId: member?.id,
          success: false,
          severity: 'warning',
          errorMessage: `Clerk role "${clerkRole}" is not in CLERK_ROLE_MAP: the membership was not applied.`,
          metadata: { organisationId: organization.id, clerkUserId: user.user_id, clerkRole },
        });
        return outcome();
      }
      const { tenant } = await provisionOrganisation(lifecycle, organisationOf(organization));
      const change = await applyMembership(tx, {
        tenantId: tenant.id,
        clerkUserId: user.user_id,
        email: emailOf(user.identifier),
        role,
        updatedAt: updatedAtOf(event.data.updated_at),
      });
      if (change.stale) return outcome({}, 'stale');
      if (change.quota) {
        // The plan is full: the member gets no row (their session is then refused with
        // QUOTA_EXCEEDED); the refusal is on record.
        await audit({
          action: 'user.added',
          tenantId: tenant.id,
          resourceType: 'user',
          resourceId: change.id || undefined,
          success: false,
          severity: 'warning',
          errorMessage: `Plan limit reached: ${change.quota.used} of ${change.quota.limit} active users.`,
          metadata: { clerkUserId: user.user_id, clerkRole },
        });
        return outcome({ users: [user.user_id] });
      }
      const about = {
        tenantId: tenant.id,
        resourceType: 'user',
        resourceId: change.id,
        metadata: { clerkUserId: user.user_id, clerkRole },
      };
      if (change.added) {
        await audit({
          ...about,
          action: 'user.added',
          changes: { role, ...(change.added === 'reactivated' ? { reactivated: true } : {}) },
        });
      }
      if (change.role) await audit({ ...about, action: 'user.role_changed', changes: change.role });
      if (change.email && !change.added) {
        await audit({ ...about, action: 'user.updated', changes: { email: change.email } });
      }
      return outcome({ users: [user.user_id] });
    }
    case 'organizationMembership.deleted': {
      const { organization, public_user_data: user } = event.data;
      const tenant = await findTenantByOrganisation(tx, organization.id);
      const id =
        tenant &&
        (await deactivateMember(tx, tenant.id, user.user_id, updatedAtOf(event.data.updated_at)));
      if (tenant && id) {
        await audit({
          action: 'user.removed',
          tenantId: tenant.id,
          resourceType: 'user',
          resourceId: id,
          metadata: { clerkUserId: user.user_id },
        });
      }
      return outcome({ users: [user.user_id] });
    }
    case 'user.deleted': {
      for (const row of await deleteClerkUser(tx, event.data.id)) {
        await audit({
          action: 'user.deleted',
          tenantId: row.tenantId,
          resourceType: 'user',
          resourceId: row.id,
          severity: 'warning',
          metadata: { clerkUserId: event.data.id },
        });
      }
      return outcome({ users: [event.data.id] });
    }
    case 'user.updated': {
      const { primary_email_address_id: primary, email_addresses: addresses } = event.data;
      const email = emailOf(addresses?.find((address) => address.id === primary)?.email_address);
      if (email === null) return outcome();
      for (const row of await refreshUserEmail(tx, event.data.id, email)) {
        await audit({
          action: 'user.updated',
          tenantId: row.tenantId,
          resourceType: 'user',
          resourceId: row.id,
          changes: { email: { from: row.previous, to: email } },
          metadata: { clerkUserId: event.data.id },
        });
      }
      return outcome({ users: [event.data.id] });
    }
  }
}
