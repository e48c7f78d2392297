import { Field, ID, ObjectType } from 'type-graphql';
import { ScopeEnum, TenantStatusEnum, TierEnum } from './enums.js';

@ObjectType('Tenant', { simpleResolvers: true, description: "The caller's organisation." })
export class TenantType {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  slug!: string;

  @Field(() => String)
  name!: string;

  @Field(() => TierEnum)
  tier!: TierEnum;

  @Field(() => TenantStatusEnum)
  status!: TenantStatusEnum;
}

@ObjectType({ simpleResolvers: true, description: 'Who is calling, and what they may do.' })
export class Viewer {
  @Field(() => TenantType)
  tenant!: TenantType;

  @Field(() => [ScopeEnum])
  scopes!: ScopeEnum[];
}
