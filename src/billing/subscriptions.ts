/**
 * A tenant's billing state on the platform tables, as Stripe's events change it: the tenant row
 * (tier with its limits, status, past_due_since, suspended_reason, Stripe customer) and its
 * public.subscriptions rows. Every function runs in the caller's transaction; nothing here calls
 * Stripe. The rules of which status follows which live in `nextStatus`.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { TIERS, STATUSES, type TenantStatus, type Tier } from '../tenants/tiers.js';
import { BILLING_CYCLES, PLANS, type BillingCycle } from './plans.js';

/** What billing needs of a tenant row. */
export type BillingTenant = {
  id: string;
  tier: Tier;
  status: TenantStatus;
  pastDueSince: Date | null;
  suspendedReason: 'operator' | 'payment' | null;
  stripeCustomerId: string | null;
};

const BillingTenantRow = z.object({
  id: z.string(),
  subscription_tier: z.enum(TIERS),
  subscription_status: z.enum(STATUSES),
  past_due_since: z.date().nullable(),
  suspended_reason: z.enum(['operator', 'payment']).nullable(),
  stripe_customer_id: z.string().nullable(),
});

const billingTenantColumns = sql.fragment`
  id, subscription_tier, subscription_status, past_due_since, suspended_reason, stripe_customer_id`;

const toBillingTenant = (row: z.infer<typeof BillingTenantRow>): BillingTenant => ({
  id: row.id,
  tier: row.subscription_tier,
  status: row.subscription_status,
  pastDueSince: row.past_due_since,
  suspendedReason: row.suspended_reason,
  stripeCustomerId: row.stripe_customer_id,
});

/** Unix seconds (as Stripe writes times) as a timestamptz, or NULL. */
const timestamp = (seconds: number | null | undefined) =>
  seconds == null ? null : sql.fragment`to_timestamp(${seconds})`;

/**
 * The tenant, locked until the transaction ends (so events of one tenant apply one at a time), by
 * id or else by its Stripe customer; null when neither names one.
 */
export async function lockBillingTenant(
  db: CommonQueryMethods,
  by: { id: string | null; customerId: string | null },
): Promise<BillingTenant | null> {
  if (by.id !== null) {
    const row = await db.maybeOne(sql.type(BillingTenantRow)`
      /* lockBillingTenantById */
      SELECT ${billingTenantColumns} FROM public.tenants WHERE id = ${by.id} FOR UPDATE`);
    if (row) return toBillingTenant(row);
  }
  if (by.customerId !== null) {
    const row = await db.maybeOne(sql.type(BillingTenantRow)`
      /* lockBillingTenantByCustomer */
      SELECT ${billingTenantColumns} FROM public.tenants
      WHERE stripe_customer_id = ${by.customerId} FOR UPDATE`);
    if (row) return toBillingTenant(row);
  }
  return null;
}

/**
 * Moves a tenant to a tier: the tier and, at once, the limits the row keeps a copy of (users,
 * products, storage) from the plan catalogue.
 */
export async function applyTier(db: CommonQueryMethods, tenantId: string, tier: Tier) {
  const { limits } = PLANS[tier];
  await db.query(sql.unsafe`
    /* applyTier */
    UPDATE public.tenants
    SET subscription_tier = ${tier}, max_users = ${limits.maxUsers},
      max_entities = ${limits.maxProducts}, max_storage_mb = ${limits.maxStorageMb}
    WHERE id = ${tenantId}`);
}

/** The billing state of a tenant row that a status change rewrites. */
export type BillingStatus = Pick<BillingTenant, 'status' | 'pastDueSince' | 'suspendedReason'>;

/**
 * What Stripe says a tenant's standing is: `unchanged` leaves the status as it is; `paid` (an
 * invoice was paid) ends an overdue state only; `payment_failed` starts one, unless the tenant
 * is cancelled or suspended already.
 */
export type StandingChange =
  | 'unchanged'
  | 'trial'
  | 'active'
  | 'past_due'
  | 'payment_suspended'
  | 'cancelled'
  | 'paid'
  | 'payment_failed';

/**
 * The tenant's status after a change, `at` being the event's time. An operator's suspension is
 * never lifted (nor replaced) by Stripe: only an operator reactivates. past_due_since keeps the
 * first failure's time while a payment stays overdue, so the grace period is not restarted.
 */
export function nextStatus(
  current: BillingStatus,
  change: StandingChange,
  at: Date,
): BillingStatus {
  if (current.status === 'suspended' && current.suspendedReason === 'operator') return current;
  const overdue = (status: 'past_due' | 'suspended'): BillingStatus => ({
    status,
    pastDueSince: current.pastDueSince ?? at,
    suspendedReason: status === 'suspended' ? 'payment' : null,
  });
  const settled = (status: 'trial' | 'active' | 'cancelled'): BillingStatus => ({
    status,
    pastDueSince: null,
    suspendedReason: null,
  });
  switch (change) {
    case 'unchanged':
      return current;
    case 'trial':
    case 'active':
    case 'cancelled':
      return settled(change);
    case 'past_due':
      return overdue('past_due');
    case 'payment_suspended':
      return overdue('suspended');
    case 'paid':
      return current.status === 'past_due' || current.status === 'suspended'
        ? settled('active')
        : current;
    case 'payment_failed':
      return current.status === 'cancelled' || current.status === 'suspended'
        ? current
        : overdue('past_due');
  }
}

const sameTime = (a: Date | null, b: Date | null) =>
  (a?.getTime() ?? null) === (b?.getTime() ?? null);

export const sameStatus = (a: BillingStatus, b: BillingStatus) =>
  a.status === b.status &&
  a.suspendedReason === b.suspendedReason &&
  sameTime(a.pastDueSince, b.pastDueSince);

export async function writeBillingStatus(
  db: CommonQueryMethods,
  tenantId: string,
  status: BillingStatus,
) {
  await db.query(sql.unsafe`
    /* writeBillingStatus */
    UPDATE public.tenants
    SET subscription_status = ${status.status},
      past_due_since = ${status.pastDueSince ? sql.timestamp(status.pastDueSince) : null},
      suspended_reason = ${status.suspendedReason}
    WHERE id = ${tenantId}`);
}

/** A trialing subscription's end becomes the tenant's trial end (what billing/access reads). */
export async function writeTrialEnd(db: CommonQueryMethods, tenantId: string, trialEnd: number) {
  await db.query(sql.unsafe`
    /* writeTrialEnd */
    UPDATE public.tenants SET trial_ends_at = ${timestamp(trialEnd)} WHERE id = ${tenantId}`);
}

/**
 * Links a Stripe customer to a tenant that has none. False when the tenant already has one, or
 * another tenant has this one (a customer belongs to one tenant; the UNIQUE constraint would
 * otherwise fail the whole event).
 */
export async function linkCustomer(
  db: CommonQueryMethods,
  tenantId: string,
  customerId: string,
): Promise<boolean> {
  const linked = await db.maybeOneFirst(sql.type(z.object({ id: z.string() }))`
    /* linkStripeCustomer */
    UPDATE public.tenants SET stripe_customer_id = ${customerId}
    WHERE id = ${tenantId} AND stripe_customer_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM public.tenants WHERE stripe_customer_id = ${customerId})
    RETURNING id`);
  return linked !== null;
}

export type SubscriptionRecord = {
  tenantId: string;
  tier: Tier;
  status: TenantStatus;
  lastEventAt: Date | null;
};

const SubscriptionRow = z.object({
  tenant_id: z.string(),
  subscription_tier: z.enum(TIERS),
  status: z.enum(STATUSES),
  last_event_at: z.date().nullable(),
});

/** A subscription's row, locked until the transaction ends; null when there is none yet. */
export async function lockSubscription(
  db: CommonQueryMethods,
  stripeSubscriptionId: string,
): Promise<SubscriptionRecord | null> {
  const row = await db.maybeOne(sql.type(SubscriptionRow)`
    /* lockSubscription */
    SELECT tenant_id, subscription_tier, status, last_event_at FROM public.subscriptions
    WHERE stripe_subscription_id = ${stripeSubscriptionId} FOR UPDATE`);
  return (
    row && {
      tenantId: row.tenant_id,
      tier: row.subscription_tier,
      status: row.status,
      lastEventAt: row.last_event_at,
    }
  );
}

/** Whether the tenant has a subscription other than this one that is still running. */
export async function hasOtherLiveSubscription(
  db: CommonQueryMethods,
  tenantId: string,
  stripeSubscriptionId: string,
): Promise<boolean> {
  return db.exists(sql.unsafe`
    /* otherLiveSubscription */
    SELECT 1 FROM public.subscriptions
    WHERE tenant_id = ${tenantId} AND stripe_subscription_id <> ${stripeSubscriptionId}
      AND status IN ('trial', 'active', 'past_due')`);
}

/** Records that a subscription exists (checkout completed) before its own events say more. */
export async function recordCheckedOutSubscription(
  db: CommonQueryMethods,
  row: {
    tenantId: string;
    stripeSubscriptionId: string;
    stripeCustomerId: string | null;
    tier: Tier;
    cycle: BillingCycle;
  },
) {
  await db.query(sql.unsafe`
    /* recordCheckedOutSubscription */
    INSERT INTO public.subscriptions (tenant_id, stripe_subscription_id, stripe_customer_id,
      subscription_tier, billing_cycle)
    VALUES (${row.tenantId}, ${row.stripeSubscriptionId}, ${row.stripeCustomerId}, ${row.tier},
      ${row.cycle})
    ON CONFLICT (stripe_subscription_id) DO NOTHING`);
}

/** A subscription as Stripe last described it (times in Unix seconds). */
export type SubscriptionState = {
  tenantId: string;
  stripeSubscriptionId: string;
  stripeCustomerId: string | null;
  tier: Tier;
  status: TenantStatus;
  cycle: BillingCycle | null;
  stripePriceId: string | null;
  priceLookupKey: string | null;
  amountCents: number | null;
  currency: string | null;
  currentPeriodStart: number | null;
  currentPeriodEnd: number | null;
  cancelAtPeriodEnd: boolean;
  trialEnd: number | null;
  cancelAt: number | null;
  canceledAt: number | null;
  /** The event's `created`: later events of this subscription that are older change nothing. */
  eventCreated: number;
};

/** Inserts or rewrites the subscription's row (by its Stripe id) from what Stripe sent. */
export async function upsertSubscription(db: CommonQueryMethods, state: SubscriptionState) {
  const cycle = state.cycle ?? BILLING_CYCLES[0];
  await db.query(sql.unsafe`
    /* upsertSubscription */
    INSERT INTO public.subscriptions AS s (tenant_id, stripe_subscription_id, stripe_customer_id,
      subscription_tier, status, billing_cycle, stripe_price_id, price_lookup_key, amount_cents,
      currency, current_period_start, current_period_end, cancel_at_period_end, trial_end,
      cancel_at, canceled_at, last_event_at)
    VALUES (${state.tenantId}, ${state.stripeSubscriptionId}, ${state.stripeCustomerId},
      ${state.tier}, ${state.status}, ${cycle}, ${state.stripePriceId}, ${state.priceLookupKey},
      ${state.amountCents}, ${state.currency}, ${timestamp(state.currentPeriodStart)},
      ${timestamp(state.currentPeriodEnd)}, ${state.cancelAtPeriodEnd}, ${timestamp(state.trialEnd)},
      ${timestamp(state.cancelAt)}, ${timestamp(state.canceledAt)},
      ${timestamp(state.eventCreated)})
    ON CONFLICT (stripe_subscription_id) DO UPDATE SET
      stripe_customer_id = coalesce(EXCLUDED.stripe_customer_id, s.stripe_customer_id),
      subscription_tier = EXCLUDED.subscription_tier,
      status = EXCLUDED.status,
      billing_cycle = ${state.cycle ?? sql.fragment`s.billing_cycle`},
      stripe_price_id = EXCLUDED.stripe_price_id,
      price_lookup_key = EXCLUDED.price_lookup_key,
      amount_cents = EXCLUDED.amount_cents,
      currency = EXCLUDED.currency,
      current_period_start = EXCLUDED.current_period_start,
      current_period_end = EXCLUDED.current_period_end,
      cancel_at_period_end = EXCLUDED.cancel_at_period_end,
      trial_end = EXCLUDED.trial_end,
      cancel_at = EXCLUDED.cancel_at,
      canceled_at = EXCLUDED.canceled_at,
      last_event_at = EXCLUDED.last_event_at
    WHERE s.tenant_id = EXCLUDED.tenant_id`);
}

/** Moves a subscription's newest-event mark forward (invoice events order against it too). */
export async function touchSubscription(
  db: CommonQueryMethods,
  stripeSubscriptionId: string,
  eventCreated: number,
) {
  await db.query(sql.unsafe`
    /* touchSubscription */
    UPDATE public.subscriptions
    SET last_event_at = greatest(last_event_at, ${timestamp(eventCreated)})
    WHERE stripe_subscription_id = ${stripeSubscriptionId}`);
}
