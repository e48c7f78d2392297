/**
 * public.users: one row per Clerk user per tenant (organisation), with the user's role there.
 * Sessions upsert their user (at most once a minute per server, see authenticate.ts); Clerk's
 * membership webhooks add, change and deactivate them.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { USER_ROLES, type UserRole } from '../config.js';
import { lockQuota, quotaExceeded, roomForUser, userQuota } from '../billing/quotas.js';
import { sql } from '../db/sql.js';

const SessionUserRow = z.object({ id: z.string(), is_active: z.boolean() });

/**
 * Records a session's user: inserted on first sight (with the session's role), else its email
 * refreshed and last_login_at moved on when it is over a minute old. The stored role of a known
 * user follows Clerk's membership webhooks, which audit each change; a request always acts with
 * its token's role. A deactivated user (removed from the organisation, or deleted in Clerk) stays
 * deactivated: only a membership webhook reactivates it.
 */
export async function recordSessionUser(
  db: CommonQueryMethods,
  user: { tenantId: string; clerkUserId: string; email: string | null; role: UserRole },
): Promise<{ id: string; active: boolean }> {
  const touch = sql.fragment`
    email = coalesce(${user.email}, users.email),
    last_login_at = CASE
      WHEN users.is_active AND (users.last_login_at IS NULL OR users.last_login_at < now() - interval '1 minute')
      THEN now() ELSE users.last_login_at END`;
  const known = await db.maybeOne(sql.type(SessionUserRow)`
    /* touchSessionUser */
    UPDATE public.users SET ${touch}
    WHERE tenant_id = ${user.tenantId} AND clerk_user_id = ${user.clerkUserId}
    RETURNING id, is_active`);
  if (known) return { id: known.id, active: known.is_active };
  // A new user: one more active user must fit the plan (billing/quotas.ts).
  return db.transaction(async (tx) => {
    await lockQuota(tx, 'USERS', user.tenantId);
    const row = await tx.maybeOne(sql.type(SessionUserRow)`
      /* recordSessionUser */
      INSERT INTO public.users (tenant_id, clerk_user_id, email, role, last_login_at)
      SELECT ${user.tenantId}, ${user.clerkUserId}, ${user.email}, ${user.role}, now()
      WHERE ${roomForUser(user.tenantId)}
      ON CONFLICT (tenant_id, clerk_user_id) DO UPDATE SET ${touch}
      RETURNING id, is_active`);
    if (!row) {
      const { limit, used } = await userQuota(tx, user.tenantId);
      throw quotaExceeded('USERS', limit ?? used, used);
    }
    return { id: row.id, active: row.is_active };
  }, 0);
}

const MemberRow = z.object({
  id: z.string(),
  role: z.enum(USER_ROLES),
  is_active: z.boolean(),
  email: z.string().nullable(),
  clerk_updated_at: z.date().nullable(),
});
export type Member = {
  id: string;
  role: UserRole;
  active: boolean;
  email: string | null;
  /** The membership's updated_at in the newest Clerk event applied to this row. */
  clerkUpdatedAt: Date | null;
};

const toMember = (row: z.infer<typeof MemberRow>): Member => ({
  id: row.id,
  role: row.role,
  active: row.is_active,
  email: row.email,
  clerkUpdatedAt: row.clerk_updated_at,
});

/** True when an event about a membership is older than the newest one applied to its row. */
const isStale = (existing: Member, updatedAt: Date | null) =>
  updatedAt !== null &&
  existing.clerkUpdatedAt !== null &&
  updatedAt.getTime() < existing.clerkUpdatedAt.getTime();

/** A user's row in a tenant, locked until the transaction ends; null when there is none. */
export async function lockMember(
  db: CommonQueryMethods,
  tenantId: string,
  clerkUserId: string,
): Promise<Member | null> {
  const row = await db.maybeOne(sql.type(MemberRow)`
    /* lockMember */
    SELECT id, role, is_active, email, clerk_updated_at FROM public.users
    WHERE tenant_id = ${tenantId} AND clerk_user_id = ${clerkUserId}
    FOR UPDATE`);
  return row && toMember(row);
}

/** What applying a membership changed; every field null/false: nothing changed. */
export type MembershipChange = {
  /** The plan's user limit stopped an insert or a reactivation: nothing changed. */
  quota?: { limit: number; used: number };
  /** The event is older than one already applied to this membership: nothing changed. */
  stale?: boolean;
  id: string;
  /** 'inserted': a new row; 'reactivated': a deactivated row made active again. */
  added: 'inserted' | 'reactivated' | null;
  role: { from: UserRole; to: UserRole } | null;
  email: { from: string | null; to: string | null } | null;
};

/**
 * Makes a Clerk membership true in public.users: the user's row in the tenant exists, is active
 * (deleted_at cleared) and has the membership's role; the email is refreshed when one is given.
 * A row a session inserted concurrently is found and updated, not duplicated.
 */
export async function applyMembership(
  db: CommonQueryMethods,
  member: {
    tenantId: string;
    clerkUserId: string;
    email: string | null;
    role: UserRole;
    /** The membership's updated_at in the event; an event older than the row's changes nothing. */
    updatedAt: Date | null;
  },
): Promise<MembershipChange> {
  // Adding or reactivating a user must fit the plan's user limit (billing/quotas.ts).
  await lockQuota(db, 'USERS', member.tenantId);
  const full = async (id: string): Promise<MembershipChange | undefined> => {
    const { limit, used } = await userQuota(db, member.tenantId);
    return limit !== null && used >= limit
      ? { quota: { limit, used }, id, added: null, role: null, email: null }
      : undefined;
  };
  for (let attempt = 0; ; attempt += 1) {
    const existing = await lockMember(db, member.tenantId, member.clerkUserId);
    if (existing && isStale(existing, member.updatedAt)) {
      return { stale: true, id: existing.id, added: null, role: null, email: null };
    }
    if (existing) {
      if (!existing.active) {
        const refused = await full(existing.id);
        if (refused) return refused;
      }
      return updateMember(db, existing, member);
    }
    const refused = await full('');
    if (refused) return refused;
    const inserted = await db.maybeOneFirst(sql.type(z.object({ id: z.string() }))`
      /* insertMember */
      INSERT INTO public.users (tenant_id, clerk_user_id, email, role, clerk_updated_at)
      VALUES (${member.tenantId}, ${member.clerkUserId}, ${member.email}, ${member.role},
        ${timestampOrNull(member.updatedAt)})
      ON CONFLICT (tenant_id, clerk_user_id) DO NOTHING
      RETURNING id`);
    if (inserted !== null) return { id: inserted, added: 'inserted', role: null, email: null };
    // A concurrent transaction inserted the row and has committed by now: lock and update it.
    if (attempt > 0) throw new Error('public.users row neither found nor inserted');
  }
}

async function updateMember(
  db: CommonQueryMethods,
  existing: Member,
  member: { email: string | null; role: UserRole; updatedAt: Date | null },
): Promise<MembershipChange> {
  const email = member.email ?? existing.email;
  const change: MembershipChange = {
    id: existing.id,
    added: existing.active ? null : 'reactivated',
    role: existing.role === member.role ? null : { from: existing.role, to: member.role },
    email: existing.email === email ? null : { from: existing.email, to: email },
  };
  const newer =
    member.updatedAt !== null &&
    (existing.clerkUpdatedAt === null ||
      member.updatedAt.getTime() > existing.clerkUpdatedAt.getTime());
  if (change.added || change.role || change.email || newer) {
    await db.query(sql.unsafe`
      /* updateMember */
      UPDATE public.users
      SET role = ${member.role}, email = ${email}, is_active = true, deleted_at = NULL,
        clerk_updated_at = greatest(clerk_updated_at, ${timestampOrNull(member.updatedAt)})
      WHERE id = ${existing.id}`);
  }
  return change;
}

/**
 * Deactivates a user's row in one tenant; its id, or null when it had none, it was inactive, or a
 * newer membership event (updatedAt) has been applied to it since.
 */
export async function deactivateMember(
  db: CommonQueryMethods,
  tenantId: string,
  clerkUserId: string,
  updatedAt: Date | null = null,
): Promise<string | null> {
  const at = timestampOrNull(updatedAt);
  return db.maybeOneFirst(sql.type(z.object({ id: z.string() }))`
    /* deactivateMember */
    UPDATE public.users SET is_active = false, clerk_updated_at = greatest(clerk_updated_at, ${at})
    WHERE tenant_id = ${tenantId} AND clerk_user_id = ${clerkUserId} AND is_active
      AND (clerk_updated_at IS NULL OR ${at}::timestamptz IS NULL OR clerk_updated_at <= ${at})
    RETURNING id`);
}

const timestampOrNull = (date: Date | null) => (date ? sql.timestamp(date) : null);

const TenantUserRow = z.object({ id: z.string(), tenant_id: z.string() });

/**
 * A Clerk user deleted: every row of theirs deactivated and stamped deleted_at (rows already
 * deleted are left as they are). The rows changed, one per tenant.
 */
export async function deleteClerkUser(
  db: CommonQueryMethods,
  clerkUserId: string,
): Promise<{ id: string; tenantId: string }[]> {
  const rows = await db.any(sql.type(TenantUserRow)`
    /* deleteClerkUser */
    UPDATE public.users SET is_active = false, deleted_at = now()
    WHERE clerk_user_id = ${clerkUserId} AND deleted_at IS NULL
    RETURNING id, tenant_id`);
  return rows.map((row) => ({ id: row.id, tenantId: row.tenant_id }));
}

/** A Clerk user's new email on every row of theirs that had another; the rows changed. */
export async function refreshUserEmail(
  db: CommonQueryMethods,
  clerkUserId: string,
  email: string,
): Promise<{ id: string; tenantId: string; previous: string | null }[]> {
  const rows = await db.any(sql.type(TenantUserRow.extend({ previous: z.string().nullable() }))`
    /* refreshUserEmail */
    UPDATE public.users u SET email = ${email}
    FROM (
      SELECT id, email FROM public.users WHERE clerk_user_id = ${clerkUserId} FOR UPDATE
    ) previous
    WHERE u.id = previous.id AND previous.email IS DISTINCT FROM ${email}
    RETURNING u.id, u.tenant_id, previous.email AS previous`);
  return rows.map((row) => ({ id: row.id, tenantId: row.tenant_id, previous: row.previous }));
}
