/**
 * Subscription tiers and the limits each one grants (seeds/001). NULL means unlimited.
 */
export const TIERS = ['starter', 'professional', 'enterprise'] as const;
export type Tier = (typeof TIERS)[number];

export const STATUSES = ['trial', 'active', 'past_due', 'cancelled', 'suspended'] as const;
export type TenantStatus = (typeof STATUSES)[number];

export type TierLimits = {
  maxUsers: number | null;
  maxEntities: number | null;
  maxStorageMb: number | null;
};

export const TIER_LIMITS: Readonly<Record<Tier, TierLimits>> = {
  starter: { maxUsers: 5, maxEntities: 100, maxStorageMb: 1_024 },
  professional: { maxUsers: 20, maxEntities: 500, maxStorageMb: 10_240 },
  enterprise: { maxUsers: null, maxEntities: null, maxStorageMb: 102_400 },
};

export const TRIAL_DAYS = 14;

export const isTier = (value: string): value is Tier =>
  (TIERS as readonly string[]).includes(value);
