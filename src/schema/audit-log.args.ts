import { ArgsType, Field } from 'type-graphql';
import { AuditLogFilter } from './audit-log.input.js';
import { PageArgs } from './page.args.js';

@ArgsType()
export class AuditLogsArgs extends PageArgs {
  @Field(() => AuditLogFilter, { nullable: true })
  filter?: AuditLogFilter | null;
}
