import type { CommonQueryMethods } from 'slonik';
import { Args, Ctx, Query, Resolver } from 'type-graphql';
import {
  auditLogCursor,
  auditLogPosition,
  countAuditLogs,
  listAuditLogs,
  validAuditLogFilter,
  type AuditLogQuery,
} from '../data/audit-logs.js';
import type { RequestContext } from '../graphql/context.js';
import { decodeCursor, pageSize, toPage } from '../graphql/pagination.js';
import { AuditLogsArgs } from '../schema/audit-log.args.js';
import { AuditLog, AuditLogConnection, auditLogFromRow } from '../schema/audit-log.type.js';
import { totalCountResolver } from './total-count.resolver.js';

export const AuditLogConnectionResolver = totalCountResolver(
  AuditLogConnection,
  'All entries matching the filter (counted only when asked for).',
);

@Resolver(() => AuditLog)
export class AuditLogResolver {
  @Query(() => AuditLogConnection, {
    description:
      "The audit trail, newest first. A tenant's ADMIN or OWNER sees its own tenant's entries; " +
      "platform operators see every tenant's (filter.tenantId narrows to one).",
  })
  async auditLogs(@Args(() => AuditLogsArgs) args: AuditLogsArgs, @Ctx() ctx: RequestContext) {
    const size = pageSize(args.first);
    const after = args.after ? auditLogPosition(decodeCursor(args.after)) : null;
    const query: AuditLogQuery = {
      scope: ctx.principal.operator ? null : ctx.tenantId,
      filter: validAuditLogFilter(args.filter),
    };
    // A tenant reads through its own role (row-level security, plus the explicit scope); an
    // operator reads every tenant's rows under the platform role.
    const read = <T>(fn: (db: CommonQueryMethods) => Promise<T>): Promise<T> =>
      query.scope === null ? ctx.platform(fn) : fn(ctx.db);
    const rows = await read((db) => listAuditLogs(db, { ...query, limit: size + 1, after }));
    const page = toPage(
      rows,
      size,
      auditLogCursor,
      () => read((db) => countAuditLogs(db, query)),
      after !== null,
    );
    return {
      ...page,
      edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: auditLogFromRow(edge.node) })),
    };
  }
}
