/**
 * The plan catalogue: one place for what each tier costs and allows. The users, SKUs and storage
 * limits are the seeds' tiers table; the tenant row keeps a copy of the first three (max_users,
 * max_entities, max_storage_mb), rewritten whenever the tier changes (applyTier). Prices are in
 * US cents; Stripe prices are found by lookup key `<tier>_<cycle>` (e.g. professional_monthly).
 */
import type { Tier } from '../tenants/tiers.js';

export const BILLING_CYCLES = ['monthly', 'annual'] as const;
export type BillingCycle = (typeof BILLING_CYCLES)[number];

export const FEATURES = [
  'basic_forecasting',
  'shopify_integration',
  'ai_forecasting',
  'multi_channel',
  'api_keys',
  'custom_integrations',
  'sso',
] as const;
export type Feature = (typeof FEATURES)[number];

export type PlanLimits = {
  /** Active users in the tenant; null: unlimited. */
  maxUsers: number | null;
  /** Active products (SKUs); null: unlimited. */
  maxProducts: number | null;
  /** Size of the tenant's schema. */
  maxStorageMb: number;
  /** GraphQL requests per calendar month (UTC). */
  monthlyApiRequests: number;
  /** Requests per minute for one API key (or one signed-in user). */
  requestsPerMinute: number;
  /** Forecast runs (generateForecasts) per calendar month (UTC). */
  monthlyForecastRuns: number;
};

export type Plan = {
  tier: Tier;
  name: string;
  /** Per cycle, in US cents; null: priced by contract ("contact sales"). */
  prices: Readonly<Record<BillingCycle, number | null>>;
  limits: PlanLimits;
  features: readonly Feature[];
};

const STARTER_FEATURES: readonly Feature[] = ['basic_forecasting', 'shopify_integration'];
const PROFESSIONAL_FEATURES: readonly Feature[] = [
  ...STARTER_FEATURES,
  'ai_forecasting',
  'multi_channel',
  'api_keys',
];

export const PLANS: Readonly<Record<Tier, Plan>> = {
  starter: {
    tier: 'starter',
    name: 'Starter',
    prices: { monthly: 4_900, annual: 49_000 },
    limits: {
      maxUsers: 5,
      maxProducts: 100,
      maxStorageMb: 1_024,
      monthlyApiRequests: 50_000,
      requestsPerMinute: 300,
      monthlyForecastRuns: 100,
    },
    features: STARTER_FEATURES,
  },
  professional: {
    tier: 'professional',
    name: 'Professional',
    prices: { monthly: 19_900, annual: 199_000 },
    limits: {
      maxUsers: 20,
      maxProducts: 500,
      maxStorageMb: 10_240,
      monthlyApiRequests: 500_000,
      requestsPerMinute: 1_200,
      monthlyForecastRuns: 1_000,
    },
    features: PROFESSIONAL_FEATURES,
  },
  enterprise: {
    tier: 'enterprise',
    name: 'Enterprise',
    prices: { monthly: null, annual: null },
    limits: {
      maxUsers: null,
      maxProducts: null,
      maxStorageMb: 102_400,
      monthlyApiRequests: 5_000_000,
      requestsPerMinute: 6_000,
      monthlyForecastRuns: 10_000,
    },
    features: [...PROFESSIONAL_FEATURES, 'custom_integrations', 'sso'],
  },
};

export const planOf = (tier: Tier): Plan => PLANS[tier];

export const hasFeature = (tier: Tier, feature: Feature): boolean =>
  PLANS[tier].features.includes(feature);

/** The Stripe price lookup key of a tier and cycle. */
export const lookupKeyOf = (tier: Tier, cycle: BillingCycle) => `${tier}_${cycle}`;

/** The tier and cycle a Stripe price's lookup key names, or undefined for a foreign key. */
export function parseLookupKey(
  lookupKey: string | null | undefined,
): { tier: Tier; cycle: BillingCycle } | undefined {
  const match = /^(starter|professional|enterprise)_(monthly|annual)$/.exec(lookupKey ?? '');
  return match ? { tier: match[1] as Tier, cycle: match[2] as BillingCycle } : undefined;
}
