/**
 * The audit trail (public.audit_logs). An entry is written in the same transaction as the action
 * it records, so a rolled-back action leaves no entry. A refused request is recorded on its own
 * (success false, bounded per actor: refusals.ts), since it writes nothing else.
 */
import type { CommonQueryMethods } from 'slonik';
import { sql } from '../db/sql.js';

export type AuditEntry = {
  action: string;
  /** 'api_key:<id>', 'user:<clerk user id>', 'platform_key:<id>', 'cli', 'clerk_webhook', ... */
  actor: string;
  tenantId?: string | null;
  /** public.users.id of the acting user, when a user acts. */
  userId?: string | null;
  resourceType?: string;
  resourceId?: string;
  changes?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  severity?: 'info' | 'warning' | 'error' | 'critical';
  ipAddress?: string | null;
  userAgent?: string | null;
  /** false for a refused or failed action; errorMessage then says why. */
  success?: boolean;
  errorMessage?: string | null;
};

/** Who acted and from where; a bare string is an actor with no user or client (cli, system). */
export type AuditSource = Pick<AuditEntry, 'actor' | 'userId' | 'ipAddress' | 'userAgent'>;
export type Actor = string | AuditSource;
export const auditSource = (actor: Actor): AuditSource =>
  typeof actor === 'string' ? { actor } : actor;

const json = (value: Record<string, unknown> | undefined) =>
  value ? sql.jsonb(value as never) : null;

export async function recordAudit(db: CommonQueryMethods, entry: AuditEntry): Promise<void> {
  await db.query(sql.unsafe`
    /* recordAudit */
    INSERT INTO public.audit_logs (tenant_id, user_id, actor, action, resource_type, resource_id,
      changes, metadata, severity, ip_address, user_agent, success, error_message)
    VALUES (${entry.tenantId ?? null}, ${entry.userId ?? null}, ${entry.actor}, ${entry.action},
      ${entry.resourceType ?? null}, ${entry.resourceId ?? null}, ${json(entry.changes)},
      ${json(entry.metadata)}, ${entry.severity ?? (entry.success === false ? 'warning' : 'info')},
      ${entry.ipAddress ?? null}::inet, ${entry.userAgent?.slice(0, 1000) ?? null},
      ${entry.success ?? true}, ${entry.errorMessage ?? null})`);
}
