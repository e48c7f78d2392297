/**
 * Subscription tiers and statuses (the enums of sql/public/0001_platform.sql). What each tier costs and allows is the plan
 * catalogue, src/billing/plans.ts.
 */
export const TIERS = ['starter', 'professional', 'enterprise'] as const;
export type Tier = (typeof TIERS)[number];

export const STATUSES = ['trial', 'active', 'past_due', 'cancelled', 'suspended'] as const;
export type TenantStatus = (typeof STATUSES)[number];

export const TRIAL_DAYS = 14;

export const isTier = (value: string): value is Tier =>
  (TIERS as readonly string[]).includes(value);
