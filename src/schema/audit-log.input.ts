import { Field, ID, InputType } from 'type-graphql';
import { GraphQLDateTime } from '../graphql/scalars.js';

@InputType({ description: 'Narrows the audit log; every condition given must hold.' })
export class AuditLogFilter {
  @Field(() => [String], {
    nullable: true,
    description: "Exact action names, such as 'api_key.created' (1 to 50 of them).",
  })
  actions?: string[] | null;

  @Field(() => String, { nullable: true, description: "Exact resource type, e.g. 'api_key'." })
  resourceType?: string | null;

  @Field(() => String, { nullable: true })
  resourceId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Only successful, or only refused/failed.' })
  success?: boolean | null;

  @Field(() => String, {
    nullable: true,
    description: "Exact actor, e.g. 'user:user_2abc' or 'api_key:<key id>'.",
  })
  actor?: string | null;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'Entries at or after this time.' })
  from?: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'Entries at or before this time.' })
  to?: Date | null;

  @Field(() => ID, {
    nullable: true,
    description:
      "Operators: one tenant's entries. A tenant's reader only ever sees its own tenant's entries.",
  })
  tenantId?: string | null;
}
