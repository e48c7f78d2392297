/**
 * Billing for a tenant's OWNER (permission 'billing'): buy a plan through Stripe Checkout, manage
 * it in Stripe's customer portal. Both stay available while the tenant is read-only for
 * non-payment. The plan itself changes only when Stripe's webhook events arrive.
 */
import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { openBillingPortal, startCheckout } from '../billing/checkout.js';
import type { BillingRequest, StripeBilling } from '../billing/stripe-calls.js';
import { ForbiddenError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import {
  BillingPortalSession,
  CheckoutSession,
  checkoutSessionFromRecord,
} from '../schema/billing.type.js';
import { BillingCycleEnum, TierEnum } from '../schema/enums.js';

function stripeOf(ctx: RequestContext, field: string): StripeBilling {
  if (!ctx.stripe) {
    throw new ForbiddenError('Billing is not configured on this server.', { field });
  }
  return ctx.stripe;
}

const requestOf = (ctx: RequestContext): BillingRequest => ({
  requestId: ctx.requestId,
  tenant: ctx.tenant,
  platform: (fn) => ctx.platform(fn),
  source: ctx.auditSource(),
  audit: (db, entry) => ctx.audit(db, entry),
});

@Resolver()
export class BillingResolver {
  @Mutation(() => CheckoutSession, {
    description:
      'Starts a Stripe Checkout for a plan (OWNER only). Asking again for the same plan and cycle on the same day (UTC) returns the same session. BAD_USER_INPUT (field tier) when the plan cannot be bought online; BILLING_UNAVAILABLE when Stripe fails.',
  })
  async startCheckout(
    @Arg('tier', () => TierEnum) tier: TierEnum,
    @Arg('billingCycle', () => BillingCycleEnum) billingCycle: BillingCycleEnum,
    @Ctx() ctx: RequestContext,
  ): Promise<CheckoutSession> {
    const session = await startCheckout(stripeOf(ctx, 'startCheckout'), requestOf(ctx), {
      tier,
      cycle: billingCycle,
    });
    return checkoutSessionFromRecord(session);
  }

  @Mutation(() => BillingPortalSession, {
    description:
      "Opens Stripe's customer portal for this tenant (OWNER only); BILLING_UNAVAILABLE when Stripe fails.",
  })
  async billingPortal(@Ctx() ctx: RequestContext): Promise<BillingPortalSession> {
    return openBillingPortal(stripeOf(ctx, 'billingPortal'), requestOf(ctx));
  }
}
