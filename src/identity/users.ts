/**
 * public.users: one row per Clerk user per tenant (organisation), with the user's role there.
 * Sessions upsert their user (at most once a minute per server, see authenticate.ts); Clerk's
 * membership webhooks add, change and deactivate them.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { UserRole } from '../config.js';
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
  const row = await db.one(sql.type(SessionUserRow)`
    /* recordSessionUser */
    INSERT INTO public.users (tenant_id, clerk_user_id, email, role, last_login_at)
    VALUES (${user.tenantId}, ${user.clerkUserId}, ${user.email}, ${user.role}, now())
    ON CONFLICT (tenant_id, clerk_user_id) DO UPDATE SET
      email = coalesce(EXCLUDED.email, users.email),
      last_login_at = CASE
        WHEN users.is_active AND (users.last_login_at IS NULL OR users.last_login_at < now() - interval '1 minute')
        THEN now() ELSE users.last_login_at END
    RETURNING id, is_active`);
  return { id: row.id, active: row.is_active };
}
