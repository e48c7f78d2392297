import { ArgsType, Field, Int } from 'type-graphql';
import { DEFAULT_PAGE_SIZE } from '../graphql/pagination.js';
import { TenantFilter } from './platform-tenant.input.js';

@ArgsType()
export class TenantsArgs {
  @Field(() => Int, {
    nullable: true,
    defaultValue: DEFAULT_PAGE_SIZE,
    description: 'Page size, 0 to 100.',
  })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page.' })
  after?: string | null;

  @Field(() => TenantFilter, { nullable: true })
  filter?: TenantFilter | null;
}
