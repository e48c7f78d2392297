/**
 * Reading the audit trail (public.audit_logs), newest first, a page at a time. Writing it is
 * src/audit/audit-log.ts.
 *
 * A tenant's reader passes its own tenant id as `scope`: the query then filters on it explicitly,
 * on top of the row-level security that already limits the tenant role to its own rows. An
 * operator passes null and reads every tenant's rows (and the platform's own, tenant_id NULL).
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { BadUserInputError } from '../errors.js';
import { microsecondKey, timestampPosition, type Cursor } from '../graphql/pagination.js';
import { isUuid } from '../validation.js';

export const AUDIT_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;

export const AuditLogRow = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  user_id: z.string().nullable(),
  actor: z.string().nullable(),
  action: z.string(),
  resource_type: z.string().nullable(),
  resource_id: z.string().nullable(),
  severity: z.enum(AUDIT_SEVERITIES),
  changes: z.record(z.string(), z.unknown()).nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  ip_address: z.string().nullable(),
  user_agent: z.string().nullable(),
  success: z.boolean(),
  error_message: z.string().nullable(),
  created_at: z.date(),
  /** created_at to the microsecond (a Date keeps milliseconds only), for cursors. */
  created_at_key: z.string(),
});
export type AuditLogRow = z.infer<typeof AuditLogRow>;

const auditLogColumns = sql.fragment`
  a.id, a.tenant_id, a.user_id, a.actor, a.action, a.resource_type, a.resource_id, a.severity,
  a.changes, a.metadata, host(a.ip_address) AS ip_address, a.user_agent, a.success,
  a.error_message, a.created_at,
  ${microsecondKey(sql.identifier(['a', 'created_at']))} AS created_at_key`;

/** The filter as clients send it. */
export type AuditLogFilterInput = {
  actions?: readonly string[] | null;
  resourceType?: string | null;
  resourceId?: string | null;
  success?: boolean | null;
  actor?: string | null;
  from?: Date | null;
  to?: Date | null;
  tenantId?: string | null;
};

/** A checked filter: every value bounded, ranges in order, ids well-formed. */
export type AuditLogFilter = {
  actions: string[] | null;
  resourceType: string | null;
  resourceId: string | null;
  success: boolean | null;
  actor: string | null;
  from: Date | null;
  to: Date | null;
  tenantId: string | null;
};

export const MAX_FILTER_ACTIONS = 50;

/** Longest values the filter accepts, one per column (action and resource_type are varchar(100)). */
const MAX_LENGTH = { action: 100, resourceType: 100, resourceId: 255, actor: 255 } as const;

function text(field: string, value: string | null | undefined, max: number): string | null {
  if (value == null) return null;
  if (value.length === 0 || value.length > max) {
    throw new BadUserInputError(`Invalid ${field}: it must be 1 to ${max} characters.`, { field });
  }
  return value;
}

export function validAuditLogFilter(input: AuditLogFilterInput | null | undefined): AuditLogFilter {
  const filter = input ?? {};
  let actions: string[] | null = null;
  if (filter.actions != null) {
    if (filter.actions.length === 0 || filter.actions.length > MAX_FILTER_ACTIONS) {
      throw new BadUserInputError(
        `Invalid actions: name 1 to ${MAX_FILTER_ACTIONS} actions, or leave the filter out.`,
        { field: 'actions' },
      );
    }
    actions = filter.actions.map((action) => {
      if (action.length === 0 || action.length > MAX_LENGTH.action) {
        throw new BadUserInputError(
          `Invalid actions: each action must be 1 to ${MAX_LENGTH.action} characters.`,
          { field: 'actions' },
        );
      }
      return action;
    });
  }
  const from = filter.from ?? null;
  const to = filter.to ?? null;
  if (from && to && from.getTime() > to.getTime()) {
    throw new BadUserInputError(
      `Invalid range: from (${from.toISOString()}) is after to (${to.toISOString()}).`,
      { field: 'from' },
    );
  }
  const tenantId = filter.tenantId ?? null;
  if (tenantId !== null && !isUuid(tenantId)) {
    throw new BadUserInputError('Invalid tenantId: it must be a UUID.', { field: 'tenantId' });
  }
  return {
    actions,
    resourceType: text('resourceType', filter.resourceType, MAX_LENGTH.resourceType),
    resourceId: text('resourceId', filter.resourceId, MAX_LENGTH.resourceId),
    success: filter.success ?? null,
    actor: text('actor', filter.actor, MAX_LENGTH.actor),
    from,
    to,
    tenantId: tenantId?.toLowerCase() ?? null,
  };
}

/** A row's place in the order (created_at DESC, id DESC). */
export const auditLogCursor = (row: AuditLogRow): Cursor => ({
  key: row.created_at_key,
  id: row.id,
});

/** A decoded cursor that names a place in this list (not another list's cursor). */
export function auditLogPosition(cursor: Cursor): { createdAt: string; id: string } {
  const { key, id } = timestampPosition(cursor);
  return { createdAt: key, id };
}

function conditions(scope: string | null, filter: AuditLogFilter) {
  const where = [];
  if (scope !== null) where.push(sql.fragment`a.tenant_id = ${scope}`);
  if (filter.tenantId !== null) where.push(sql.fragment`a.tenant_id = ${filter.tenantId}`);
  if (filter.actions !== null) {
    where.push(sql.fragment`a.action = ANY(${sql.array(filter.actions, 'text')})`);
  }
  if (filter.resourceType !== null) {
    where.push(sql.fragment`a.resource_type = ${filter.resourceType}`);
  }
  if (filter.resourceId !== null) where.push(sql.fragment`a.resource_id = ${filter.resourceId}`);
  if (filter.success !== null) where.push(sql.fragment`a.success = ${filter.success}`);
  if (filter.actor !== null) where.push(sql.fragment`a.actor = ${filter.actor}`);
  if (filter.from !== null) where.push(sql.fragment`a.created_at >= ${sql.timestamp(filter.from)}`);
  if (filter.to !== null) where.push(sql.fragment`a.created_at <= ${sql.timestamp(filter.to)}`);
  return where;
}

const whereClause = (where: ReturnType<typeof conditions>) =>
  where.length > 0 ? sql.fragment`WHERE ${sql.join(where, sql.fragment` AND `)}` : sql.fragment``;

export type AuditLogQuery = {
  /** The reader's tenant; null for an operator (every tenant). */
  scope: string | null;
  filter: AuditLogFilter;
};

export async function listAuditLogs(
  db: CommonQueryMethods,
  options: AuditLogQuery & { limit: number; after: { createdAt: string; id: string } | null },
) {
  const where = conditions(options.scope, options.filter);
  if (options.after) {
    where.push(
      sql.fragment`(a.created_at, a.id) < (${options.after.createdAt}::timestamptz, ${options.after.id}::uuid)`,
    );
  }
  return db.any(sql.type(AuditLogRow)`
    /* listAuditLogs */
    SELECT ${auditLogColumns} FROM public.audit_logs a ${whereClause(where)}
    ORDER BY a.created_at DESC, a.id DESC LIMIT ${options.limit}`);
}

export async function countAuditLogs(
  db: CommonQueryMethods,
  options: AuditLogQuery,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    /* countAuditLogs */
    SELECT count(*)::int AS count FROM public.audit_logs a
    ${whereClause(conditions(options.scope, options.filter))}`);
}
