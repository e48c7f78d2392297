import { Field, InputType } from 'type-graphql';
import { TenantStatusEnum, TierEnum } from './enums.js';

@InputType({ description: 'Narrows a list of tenants.' })
export class TenantFilter {
  @Field(() => TenantStatusEnum, { nullable: true })
  status?: TenantStatusEnum | null;

  @Field(() => TierEnum, { nullable: true })
  tier?: TierEnum | null;

  @Field(() => String, {
    nullable: true,
    description: 'Matches slug or name, case-insensitive; % and _ match themselves.',
  })
  search?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'Include soft-deleted tenants.',
  })
  includeDeleted?: boolean | null;
}

@InputType()
export class CreateTenantInput {
  @Field(() => String, { description: 'Display name, 1 to 255 characters.' })
  name!: string;

  @Field(() => String, {
    description: '3 to 63 lowercase letters, digits and single dashes; not a reserved word.',
  })
  slug!: string;

  @Field(() => TierEnum, { nullable: true, defaultValue: TierEnum.STARTER })
  tier?: TierEnum | null;
}
