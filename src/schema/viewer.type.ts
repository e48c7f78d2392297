import { Field, ID, ObjectType } from 'type-graphql';
import { PrincipalKindEnum, RoleEnum, ScopeEnum, TenantStatusEnum, TierEnum } from './enums.js';

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

  @Field(() => TenantStatusEnum, {
    description: 'As it stands now: a PAST_DUE tenant beyond its grace period is SUSPENDED.',
  })
  status!: TenantStatusEnum;

  @Field(() => Boolean, {
    description: 'Whether the billing state allows reads only (mutations get PAYMENT_REQUIRED).',
  })
  readOnly!: boolean;

  @Field(() => String, {
    nullable: true,
    description:
      'What needs doing about billing (a failed payment, a trial ending or ended, a cancelled plan); null when nothing does.',
  })
  billingWarning!: string | null;
}

@ObjectType('User', { simpleResolvers: true, description: 'A person signed in through Clerk.' })
export class UserType {
  @Field(() => ID, { description: 'The user in this tenant (public.users).' })
  id!: string;

  @Field(() => String, { description: 'The Clerk user id (user_…).' })
  clerkUserId!: string;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field(() => RoleEnum, { description: "The session's role in this tenant." })
  role!: RoleEnum;
}

@ObjectType({ simpleResolvers: true, description: 'Who is calling, and what they may do.' })
export class Viewer {
  @Field(() => PrincipalKindEnum)
  kind!: PrincipalKindEnum;

  @Field(() => TenantType, {
    nullable: true,
    description: "The caller's tenant; null for an operator acting without one.",
  })
  tenant!: TenantType | null;

  @Field(() => RoleEnum, {
    nullable: true,
    description:
      "The caller's role in its tenant (an API key: MEMBER with write, VIEWER with read only).",
  })
  role!: RoleEnum | null;

  @Field(() => UserType, { nullable: true, description: 'The signed-in user (sessions only).' })
  user!: UserType | null;

  @Field(() => [ScopeEnum], {
    description: "What the caller may do to the tenant's data: READ, and WRITE from MEMBER up.",
  })
  scopes!: ScopeEnum[];

  @Field(() => Boolean, { description: 'Whether the caller may use the platform fields.' })
  operator!: boolean;
}
