import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { AuditLogRow } from '../data/audit-logs.js';
import { GraphQLDateTime, GraphQLJSON } from '../graphql/scalars.js';
import { PageInfo } from './page-info.type.js';

export enum AuditSeverityEnum {
  INFO = 'info',
  WARNING = 'warning',
  ERROR = 'error',
  CRITICAL = 'critical',
}
registerEnumType(AuditSeverityEnum, {
  name: 'AuditSeverity',
  description: 'How much an audited event matters: refusals are WARNING at least.',
});

@ObjectType({
  simpleResolvers: true,
  description:
    'One entry of the audit trail: who did what to which resource, from where, and whether it ' +
    'succeeded. Entries are written with the action they record, so a rolled-back action has none.',
})
export class AuditLog {
  @Field(() => ID)
  id!: string;

  @Field(() => ID, { nullable: true, description: 'Null for platform events outside any tenant.' })
  tenantId!: string | null;

  @Field(() => ID, {
    nullable: true,
    description: "The acting user's id in the tenant (sessions only).",
  })
  userId!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      "Who acted: 'user:<Clerk user id>', 'api_key:<key id>', 'platform_key:<key id>', 'cli', " +
      "'system', 'clerk_webhook', ...",
  })
  actor!: string | null;

  @Field(() => String, { description: "What happened, e.g. 'api_key.created'." })
  action!: string;

  @Field(() => String, { nullable: true, description: "e.g. 'api_key', 'tenant'." })
  resourceType!: string | null;

  @Field(() => String, { nullable: true })
  resourceId!: string | null;

  @Field(() => AuditSeverityEnum)
  severity!: AuditSeverityEnum;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'What changed (never a secret).',
  })
  changes!: Record<string, unknown> | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Context, such as the request id.' })
  metadata!: Record<string, unknown> | null;

  @Field(() => String, { nullable: true })
  ipAddress!: string | null;

  @Field(() => String, { nullable: true })
  userAgent!: string | null;

  @Field(() => Boolean, { description: 'False for a refused or failed action.' })
  success!: boolean;

  @Field(() => String, { nullable: true, description: 'Why the action was refused or failed.' })
  errorMessage!: string | null;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;
}

export const auditLogFromRow = (row: AuditLogRow): AuditLog => ({
  id: row.id,
  tenantId: row.tenant_id,
  userId: row.user_id,
  actor: row.actor,
  action: row.action,
  resourceType: row.resource_type,
  resourceId: row.resource_id,
  severity: row.severity as AuditSeverityEnum,
  changes: row.changes,
  metadata: row.metadata,
  ipAddress: row.ip_address,
  userAgent: row.user_agent,
  success: row.success,
  errorMessage: row.error_message,
  createdAt: row.created_at,
});

@ObjectType({ simpleResolvers: true })
export class AuditLogEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => AuditLog)
  node!: AuditLog;
}

@ObjectType({ simpleResolvers: true, description: 'A page of audit log entries, newest first.' })
export class AuditLogConnection {
  @Field(() => [AuditLogEdge])
  edges!: AuditLogEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Counts all matching entries (not a GraphQL field: see AuditLogConnectionResolver). */
  count!: () => Promise<number>;
}
