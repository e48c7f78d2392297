/**
 * The billing clock: what time alone changes. A PAST_DUE tenant whose grace period has run out
 * becomes SUSPENDED for non-payment (read-only), audited as billing.suspended. Requests never wait
 * for this: access.ts already treats such a tenant as suspended; the sweep makes the stored status
 * (what operators filter and report on) agree. Idempotent; run by the server every few minutes and
 * by `capliquify billing sweep`.
 */
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { recordAudit } from '../audit/audit-log.js';
import { sql } from '../db/sql.js';

const Suspended = z.object({ id: z.string(), past_due_since: z.date() });

export async function sweepBilling(
  pool: DatabasePool,
  graceDays: number,
): Promise<{ suspended: string[] }> {
  return pool.transaction(async (tx) => {
    const rows = await tx.any(sql.type(Suspended)`
      /* suspendOverdueTenants */
      UPDATE public.tenants SET subscription_status = 'suspended', suspended_reason = 'payment'
      WHERE subscription_status = 'past_due' AND deleted_at IS NULL
        AND past_due_since <= now() - make_interval(days => ${graceDays})
      RETURNING id, past_due_since`);
    for (const row of rows) {
      await recordAudit(tx, {
        action: 'billing.suspended',
        actor: 'system',
        tenantId: row.id,
        resourceType: 'tenant',
        resourceId: row.id,
        severity: 'warning',
        changes: { from: 'past_due', to: 'suspended', reason: 'payment' },
        metadata: { pastDueSince: row.past_due_since.toISOString(), graceDays },
      });
    }
    return { suspended: rows.map((row) => row.id) };
  }, 0);
}
