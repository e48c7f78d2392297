/**
 * GraphQL enums. Names are the contract; values are what the database stores.
 */
import { registerEnumType } from 'type-graphql';

export enum TierEnum {
  STARTER = 'starter',
  PROFESSIONAL = 'professional',
  ENTERPRISE = 'enterprise',
}
registerEnumType(TierEnum, { name: 'Tier', description: 'Subscription tier.' });

export enum TenantStatusEnum {
  TRIAL = 'trial',
  ACTIVE = 'active',
  PAST_DUE = 'past_due',
  CANCELLED = 'cancelled',
  SUSPENDED = 'suspended',
}
registerEnumType(TenantStatusEnum, { name: 'TenantStatus', description: 'Subscription status.' });

export enum ScopeEnum {
  READ = 'read',
  WRITE = 'write',
}
registerEnumType(ScopeEnum, { name: 'Scope', description: 'What an API key may do.' });

export enum RoleEnum {
  OWNER = 'owner',
  ADMIN = 'admin',
  MEMBER = 'member',
  VIEWER = 'viewer',
}
registerEnumType(RoleEnum, {
  name: 'Role',
  description:
    "A role in a tenant: VIEWER reads; MEMBER also writes business data; ADMIN also manages API keys, credentials, users and payment terms; OWNER also billing and the tenant's settings.",
});

export enum PrincipalKindEnum {
  API_KEY = 'api_key',
  USER = 'user',
  PLATFORM_KEY = 'platform_key',
}
registerEnumType(PrincipalKindEnum, {
  name: 'PrincipalKind',
  description: 'How the caller authenticated: a tenant API key, a Clerk session, a platform key.',
});

export enum ProductOrderEnum {
  NAME_ASC = 'NAME_ASC',
  SKU_ASC = 'SKU_ASC',
  CREATED_AT_DESC = 'CREATED_AT_DESC',
  UNIT_PRICE_DESC = 'UNIT_PRICE_DESC',
}
registerEnumType(ProductOrderEnum, { name: 'ProductOrder' });

export enum ForecastTypeEnum {
  DEMAND = 'DEMAND',
  REVENUE = 'REVENUE',
  CASH_FLOW = 'CASH_FLOW',
}
registerEnumType(ForecastTypeEnum, { name: 'ForecastType' });

export enum PeriodTypeEnum {
  DAILY = 'DAILY',
  WEEKLY = 'WEEKLY',
  MONTHLY = 'MONTHLY',
  QUARTERLY = 'QUARTERLY',
}
registerEnumType(PeriodTypeEnum, { name: 'PeriodType' });

export enum BillingCycleEnum {
  MONTHLY = 'monthly',
  ANNUAL = 'annual',
}
registerEnumType(BillingCycleEnum, {
  name: 'BillingCycle',
  description: 'How often a plan is billed: every month, or once a year.',
});

export enum FigureSourceEnum {
  DERIVED = 'DERIVED',
  ENTERED = 'ENTERED',
}
registerEnumType(FigureSourceEnum, {
  name: 'FigureSource',
  description:
    "Where a working-capital figure came from: DERIVED from the tenant's sales, stock and receipts, or ENTERED in a working-capital metrics row.",
});
