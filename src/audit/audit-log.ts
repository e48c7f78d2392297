/**
 * The audit trail (public.audit_logs). An entry is written in the same transaction as the action
 * it records, so a rolled-back action leaves no entry.
 */
import type { CommonQueryMethods } from 'slonik';
import { sql } from '../db/sql.js';

export type AuditEntry = {
  action: string;
  actor: string;
  tenantId?: string | null;
  resourceType?: string;
  resourceId?: string;
  changes?: Record<string, unknown>;
  severity?: 'info' | 'warning' | 'error' | 'critical';
};

export async function recordAudit(db: CommonQueryMethods, entry: AuditEntry): Promise<void> {
  await db.query(sql.unsafe`
    /* recordAudit */
    INSERT INTO public.audit_logs (tenant_id, actor, action, resource_type, resource_id, changes, severity)
    VALUES (${entry.tenantId ?? null}, ${entry.actor}, ${entry.action}, ${entry.resourceType ?? null},
      ${entry.resourceId ?? null}, ${entry.changes ? sql.jsonb(entry.changes as never) : null},
      ${entry.severity ?? 'info'})`);
}
