/**
 * Stripe Checkout (buying a plan) and the customer portal (cards, invoices, cancelling) for a
 * tenant's OWNER. Plans are Stripe prices found by lookup key (`<tier>_<cycle>`); the tenant's
 * state changes only when Stripe's webhook events say so (src/webhooks/stripe-events.ts).
 */
import type { Tier } from '../tenants/tiers.js';
import { BadUserInputError } from '../errors.js';
import { ensureStripeCustomer } from './customers.js';
import { lookupKeyOf, PLANS, type BillingCycle } from './plans.js';
import { callStripe, type BillingRequest, type StripeBilling } from './stripe-calls.js';

export type CheckoutSession = { id: string; url: string; expiresAt: Date };

const utcDay = (date: Date) => date.toISOString().slice(0, 10);

/**
 * One checkout per tenant, plan and cycle per UTC day: asking again the same day gets the same
 * session back from Stripe (a double click never opens two).
 */
export const checkoutIdempotencyKey = (
  tenantId: string,
  tier: Tier,
  cycle: BillingCycle,
  now: Date,
) => `checkout:${tenantId}:${tier}:${cycle}:${utcDay(now)}`;

export async function startCheckout(
  billing: StripeBilling,
  request: BillingRequest,
  plan: { tier: Tier; cycle: BillingCycle },
  now = new Date(),
): Promise<CheckoutSession> {
  const { tenant } = request;
  const lookupKey = lookupKeyOf(plan.tier, plan.cycle);
  const prices = await callStripe(billing, request, 'look up the plan’s price', () =>
    billing.stripe.prices.list({
      lookup_keys: [lookupKey],
      active: true,
      expand: ['data.product'],
      limit: 1,
    }),
  );
  const price = prices.data[0];
  if (!price) {
    const name = PLANS[plan.tier].name;
    throw new BadUserInputError(
      PLANS[plan.tier].prices[plan.cycle] === null
        ? `The ${name} plan is priced by contract: contact sales to subscribe.`
        : `The ${name} plan cannot be bought ${plan.cycle === 'annual' ? 'annually' : 'monthly'} yet: Stripe has no price with lookup key ${lookupKey}.`,
      { field: 'tier' },
    );
  }

  const customer = await ensureStripeCustomer(billing, request);
  const session = await callStripe(billing, request, 'start the checkout', () =>
    billing.stripe.checkout.sessions.create(
      {
        mode: 'subscription',
        customer,
        line_items: [{ price: price.id, quantity: 1 }],
        client_reference_id: tenant.id,
        metadata: { tenant_id: tenant.id, tier: plan.tier, billing_cycle: plan.cycle },
        subscription_data: { metadata: { tenant_id: tenant.id } },
        success_url: `${billing.appUrl}/billing?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${billing.appUrl}/billing?checkout=cancelled`,
      },
      { idempotencyKey: checkoutIdempotencyKey(tenant.id, plan.tier, plan.cycle, now) },
    ),
  );
  if (!session.url) throw new Error(`Stripe checkout session ${session.id} has no URL`);

  await request.platform((db) =>
    request.audit(db, {
      action: 'billing.checkout_started',
      tenantId: tenant.id,
      resourceType: 'checkout_session',
      resourceId: session.id,
      changes: { tier: plan.tier, cycle: plan.cycle },
      metadata: { priceId: price.id, customerId: customer },
    }),
  );
  return { id: session.id, url: session.url, expiresAt: new Date(session.expires_at * 1000) };
}

/** A session of Stripe's customer portal; a tenant without a customer yet gets one. */
export async function openBillingPortal(
  billing: StripeBilling,
  request: BillingRequest,
): Promise<{ url: string }> {
  const customer = await ensureStripeCustomer(billing, request);
  const session = await callStripe(billing, request, 'open the billing portal', () =>
    billing.stripe.billingPortal.sessions.create({
      customer,
      return_url: `${billing.appUrl}/billing`,
    }),
  );
  await request.platform((db) =>
    request.audit(db, {
      action: 'billing.portal_opened',
      tenantId: request.tenant.id,
      resourceType: 'stripe_customer',
      resourceId: customer,
    }),
  );
  return { url: session.url };
}
