/**
 * Stripe's webhook events (already verified) and what each one does to a tenant's billing state.
 * Every effect runs in the caller's transaction, the one that also recorded the event id, and is
 * audited there (actor 'stripe_webhook'); nothing here calls Stripe.
 *
 * Stripe delivers events at least once and in no particular order. So: the tenant row is locked
 * first (one tenant's events apply one at a time); an event older than the newest one already
 * applied to its subscription (subscriptions.last_event_at) changes nothing; a cancelled
 * subscription stays cancelled (Stripe never revives one); and an operator's suspension is never
 * lifted here.
 *
 * Objects are read from both the pre-2025 and the current API shapes: a subscription's period is
 * on its items now (it was on the subscription), an invoice's subscription is under
 * parent.subscription_details (it was `subscription`).
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { recordAudit, type AuditEntry, type AuditSource } from '../audit/audit-log.js';
import { parseLookupKey, type BillingCycle } from '../billing/plans.js';
import {
  applyTier,
  hasOtherLiveSubscription,
  linkCustomer,
  lockBillingTenant,
  lockSubscription,
  nextStatus,
  recordCheckedOutSubscription,
  sameStatus,
  touchSubscription,
  upsertSubscription,
  writeBillingStatus,
  writeTrialEnd,
  type BillingTenant,
  type StandingChange,
  type SubscriptionRecord,
} from '../billing/subscriptions.js';
import { sql } from '../db/sql.js';
import type { TenantStatus } from '../tenants/tiers.js';
import { findInputProblem, formatPath, isUuid } from '../validation.js';

/** An id, or the object it names when the sender expanded it. */
const Expandable = z
  .union([z.string(), z.looseObject({ id: z.string() })])
  .transform((value) => (typeof value === 'string' ? value : value.id));

const Metadata = z.record(z.string(), z.string()).nullish();

/** The last second of 9999-12-31 (UTC): later times are out of what timestamptz takes as input here. */
export const MAX_UNIX_SECONDS = 253_402_300_799;
const UnixSeconds = z
  .number()
  .int()
  .min(0)
  .max(MAX_UNIX_SECONDS, { error: 'a time after 9999-12-31 is out of range' });
const Seconds = UnixSeconds.nullish();

const Price = z.object({
  id: z.string(),
  lookup_key: z.string().nullish(),
  unit_amount: z.number().int().nullish(),
  currency: z.string().nullish(),
  recurring: z.object({ interval: z.string() }).nullish(),
});

const SubscriptionItem = z.object({
  price: Price,
  quantity: z.number().int().nullish(),
  current_period_start: Seconds,
  current_period_end: Seconds,
});

const SubscriptionObject = z.object({
  id: z.string().min(1),
  customer: Expandable.nullish(),
  status: z.string(),
  metadata: Metadata,
  items: z.object({ data: z.array(SubscriptionItem) }),
  currency: z.string().nullish(),
  cancel_at_period_end: z.boolean().nullish(),
  cancel_at: Seconds,
  canceled_at: Seconds,
  trial_end: Seconds,
  // Before API version 2025-03-31 the period was on the subscription.
  current_period_start: Seconds,
  current_period_end: Seconds,
});

const CheckoutSessionObject = z.object({
  id: z.string().min(1),
  customer: Expandable.nullish(),
  subscription: Expandable.nullish(),
  client_reference_id: z.string().nullish(),
  metadata: Metadata,
});

const InvoiceObject = z.object({
  id: z.string().min(1),
  customer: Expandable.nullish(),
  // Current API versions.
  parent: z
    .object({
      subscription_details: z
        .object({ subscription: Expandable.nullish(), metadata: Metadata })
        .nullish(),
    })
    .nullish(),
  // Before API version 2025-03-31.
  subscription: Expandable.nullish(),
  subscription_details: z.object({ metadata: Metadata }).nullish(),
});

const Envelope = z.object({
  id: z.string().min(1).max(255),
  type: z.string().min(1),
  created: z.unknown(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** The events with an effect, and the object each one carries. */
const HANDLED = {
  'checkout.session.completed': CheckoutSessionObject,
  'customer.subscription.created': SubscriptionObject,
  'customer.subscription.updated': SubscriptionObject,
  'customer.subscription.deleted': SubscriptionObject,
  'customer.subscription.trial_will_end': SubscriptionObject,
  'invoice.paid': InvoiceObject,
  'invoice.payment_failed': InvoiceObject,
} as const;

type Handled = typeof HANDLED;
type HandledEvent = {
  [T in keyof Handled]: {
    handled: true;
    id: string;
    type: T;
    created: number;
    object: z.infer<Handled[T]>;
  };
}[keyof Handled];
/** An event with an effect, or any other type (recorded, then ignored). */
export type StripeEvent =
  HandledEvent | { handled: false; id: string; type: string; created: number };

const isHandled = (type: string): type is keyof Handled => Object.hasOwn(HANDLED, type);

const problemOf = (error: z.ZodError) => {
  const issue = error.issues[0];
  return issue ? `${['data', 'object', ...issue.path].join('.')}: ${issue.message}` : 'invalid';
};

/** A verified body as an event; a problem (one line) when it is not an event we can read. */
export function parseStripeEvent(body: unknown): StripeEvent | { problem: string } {
  const envelope = Envelope.safeParse(body);
  if (!envelope.success) {
    return {
      problem:
        'The body is not a Stripe event: it needs an "id", a "type", "created" and "data.object".',
    };
  }
  const stamp = UnixSeconds.safeParse(envelope.data.created);
  if (!stamp.success) {
    return {
      problem: `Invalid "created": it must be whole Unix seconds from 0 to ${MAX_UNIX_SECONDS} (9999-12-31).`,
    };
  }
  const created = stamp.data;
  const { id, type } = envelope.data;
  const unstorable = findInputProblem(body, { maxDepth: 32, maxNodes: 100_000 });
  if (unstorable) {
    return {
      problem: `Invalid event: ${formatPath(unstorable.path) || 'the body'} is ${unstorable.kind === 'text' ? 'text with U+0000 or an unpaired surrogate' : 'nested or sized beyond what an event holds'}.`,
    };
  }
  if (!isHandled(type)) return { handled: false, id, type, created };
  const object = HANDLED[type].safeParse(envelope.data.data.object);
  if (!object.success) return { problem: `Invalid ${type} event: ${problemOf(object.error)}.` };
  return { handled: true, id, type, created, object: object.data } as HandledEvent;
}

export type StripeEffectContext = {
  /** 'stripe_webhook', with the delivering client's IP and user agent. */
  source: AuditSource;
};

export type StripeEffectOutcome = {
  /**
   * processed: applied (possibly with no change); ignored: a type without an effect; stale: older
   * than what its subscription already reflects; unknown_tenant: no tenant to apply it to.
   */
  status: 'processed' | 'ignored' | 'stale' | 'unknown_tenant';
  /** The tenant whose cached state to drop once the transaction has committed. */
  tenantId: string | null;
};

/** Stripe's subscription status → what it means for the tenant. */
const STANDING: Readonly<Record<string, StandingChange>> = {
  trialing: 'trial',
  active: 'active',
  past_due: 'past_due',
  unpaid: 'payment_suspended',
  paused: 'payment_suspended',
  canceled: 'cancelled',
  incomplete_expired: 'cancelled',
  incomplete: 'unchanged',
};

/** Stripe's subscription status → the subscriptions row's status. */
const ROW_STATUS: Readonly<Record<string, TenantStatus>> = {
  trialing: 'trial',
  active: 'active',
  past_due: 'past_due',
  // The first payment is still outstanding.
  incomplete: 'past_due',
  unpaid: 'suspended',
  paused: 'suspended',
  canceled: 'cancelled',
  incomplete_expired: 'cancelled',
};

const INTERVAL_CYCLE: Readonly<Record<string, BillingCycle>> = {
  month: 'monthly',
  year: 'annual',
};

const tenantReference = (value: string | null | undefined): string | null =>
  value && isUuid(value) ? value.toLowerCase() : null;

type References = {
  tenantId: string | null;
  customerId: string | null;
  subscriptionId: string | null;
};

function referencesOf(event: HandledEvent): References {
  switch (event.type) {
    case 'checkout.session.completed':
      return {
        tenantId: tenantReference(
          event.object.metadata?.tenant_id ?? event.object.client_reference_id,
        ),
        customerId: event.object.customer ?? null,
        subscriptionId: event.object.subscription ?? null,
      };
    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const details = event.object.parent?.subscription_details;
      return {
        tenantId: tenantReference(
          details?.metadata?.tenant_id ?? event.object.subscription_details?.metadata?.tenant_id,
        ),
        customerId: event.object.customer ?? null,
        subscriptionId: details?.subscription ?? event.object.subscription ?? null,
      };
    }
    default:
      return {
        tenantId: tenantReference(event.object.metadata?.tenant_id),
        customerId: event.object.customer ?? null,
        subscriptionId: event.object.id,
      };
  }
}

type Changes = Record<string, { from: unknown; to: unknown }>;

/** Applies a status change to the tenant and says what changed. */
async function changeStanding(
  tx: CommonQueryMethods,
  tenant: BillingTenant,
  change: StandingChange,
  at: Date,
): Promise<Changes> {
  const next = nextStatus(tenant, change, at);
  if (sameStatus(next, tenant)) return {};
  await writeBillingStatus(tx, tenant.id, next);
  const changes: Changes = {};
  if (next.status !== tenant.status) changes.status = { from: tenant.status, to: next.status };
  if (next.pastDueSince?.getTime() !== tenant.pastDueSince?.getTime()) {
    changes.pastDueSince = {
      from: tenant.pastDueSince?.toISOString() ?? null,
      to: next.pastDueSince?.toISOString() ?? null,
    };
  }
  if (next.suspendedReason !== tenant.suspendedReason) {
    changes.suspendedReason = { from: tenant.suspendedReason, to: next.suspendedReason };
  }
  return changes;
}

/** Whether an event is older than the newest one already applied to its subscription. */
const isStale = (subscription: SubscriptionRecord | null, at: Date) =>
  subscription?.lastEventAt != null && subscription.lastEventAt.getTime() > at.getTime();

/** Applies an event in `tx`, the transaction that also recorded its id. */
export async function applyStripeEvent(
  tx: CommonQueryMethods,
  event: StripeEvent,
  ctx: StripeEffectContext,
): Promise<StripeEffectOutcome> {
  if (!event.handled) return { status: 'ignored', tenantId: null };
  const refs = referencesOf(event);
  const about = {
    eventId: event.id,
    eventCreated: new Date(event.created * 1000).toISOString(),
    customerId: refs.customerId,
    subscriptionId: refs.subscriptionId,
  };
  const audit = (entry: Omit<AuditEntry, 'actor'>) =>
    recordAudit(tx, {
      ...ctx.source,
      resourceType: 'subscription',
      resourceId: refs.subscriptionId ?? undefined,
      ...entry,
      metadata: { ...about, ...entry.metadata },
    });

  const tenant = await lockBillingTenant(tx, { id: refs.tenantId, customerId: refs.customerId });
  if (!tenant) {
    await audit({
      action: 'billing.unknown_tenant',
      tenantId: null,
      success: false,
      severity: 'warning',
      errorMessage: `No tenant for this ${event.type} event: neither metadata.tenant_id nor customer ${refs.customerId ?? '(none)'} names one.`,
      metadata: { type: event.type, tenantReference: refs.tenantId },
    });
    return { status: 'unknown_tenant', tenantId: null };
  }
  await tx.query(sql.unsafe`
    /* stripeEventTenant */ UPDATE public.stripe_events SET tenant_id = ${tenant.id} WHERE id = ${event.id}`);
  const processed = (changes: Changes, metadata: Record<string, unknown> = {}) =>
    audit({ action: `billing.${event.type}`, tenantId: tenant.id, changes, metadata });
  const done: StripeEffectOutcome = { status: 'processed', tenantId: tenant.id };
  const at = new Date(event.created * 1000);

  switch (event.type) {
    case 'checkout.session.completed': {
      const changes: Changes = {};
      if (refs.customerId !== null && tenant.stripeCustomerId === null) {
        if (await linkCustomer(tx, tenant.id, refs.customerId)) {
          changes.stripeCustomerId = { from: null, to: refs.customerId };
        }
      }
      if (refs.subscriptionId !== null) {
        const metadata = event.object.metadata ?? {};
        const plan = parseLookupKey(`${metadata.tier}_${metadata.billing_cycle}`);
        await recordCheckedOutSubscription(tx, {
          tenantId: tenant.id,
          stripeSubscriptionId: refs.subscriptionId,
          stripeCustomerId: refs.customerId,
          tier: plan?.tier ?? tenant.tier,
          cycle: plan?.cycle ?? 'monthly',
        });
      }
      await processed(changes, { checkoutSessionId: event.object.id });
      return done;
    }

    case 'customer.subscription.trial_will_end': {
      const trialEnd = event.object.trial_end;
      await processed(
        {},
        { trialEnd: trialEnd == null ? null : new Date(trialEnd * 1000).toISOString() },
      );
      return done;
    }

    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const subscription = event.object;
      const existing = await lockSubscription(tx, subscription.id);
      if (existing && existing.tenantId !== tenant.id) {
        await audit({
          action: `billing.${event.type}`,
          tenantId: tenant.id,
          success: false,
          severity: 'warning',
          errorMessage: `Subscription ${subscription.id} belongs to another tenant: nothing was changed.`,
        });
        return done;
      }
      if (isStale(existing, at)) {
        await processed({}, { skipped: 'older than the last event applied to its subscription' });
        return { status: 'stale', tenantId: tenant.id };
      }
      const stripeStatus =
        event.type === 'customer.subscription.deleted' ? 'canceled' : subscription.status;
      let change = STANDING[stripeStatus] ?? 'unchanged';
      let rowStatus = ROW_STATUS[stripeStatus] ?? existing?.status ?? 'past_due';
      if (existing?.status === 'cancelled' && rowStatus !== 'cancelled') {
        // A cancelled subscription is final: a late event cannot revive it.
        rowStatus = 'cancelled';
        change = 'unchanged';
      }
      if (
        change === 'cancelled' &&
        (await hasOtherLiveSubscription(tx, tenant.id, subscription.id))
      ) {
        change = 'unchanged';
      }

      const items = subscription.items.data;
      const item = items.find((entry) => parseLookupKey(entry.price.lookup_key)) ?? items[0];
      const plan = parseLookupKey(item?.price.lookup_key);
      const changes: Changes = {};
      // A cancelled subscription keeps the tenant's tier (read-only on its last plan), and an
      // incomplete one (its first payment outstanding) does not grant its plan yet.
      const grantsPlan = rowStatus !== 'cancelled' && stripeStatus !== 'incomplete';
      const tier = plan && grantsPlan ? plan.tier : (existing?.tier ?? tenant.tier);
      if (!plan && item) {
        await audit({
          action: 'billing.unknown_price',
          tenantId: tenant.id,
          success: false,
          severity: 'warning',
          errorMessage: `Price ${item.price.id} has lookup key ${JSON.stringify(item.price.lookup_key ?? null)}, which names no plan (<tier>_<monthly|annual>): the tier was left as it is.`,
          metadata: { priceId: item.price.id },
        });
      }
      await upsertSubscription(tx, {
        tenantId: tenant.id,
        stripeSubscriptionId: subscription.id,
        stripeCustomerId: refs.customerId,
        tier,
        status: rowStatus,
        cycle: plan?.cycle ?? INTERVAL_CYCLE[item?.price.recurring?.interval ?? ''] ?? null,
        stripePriceId: item?.price.id ?? null,
        priceLookupKey: item?.price.lookup_key ?? null,
        amountCents:
          item?.price.unit_amount == null ? null : item.price.unit_amount * (item.quantity ?? 1),
        currency: item?.price.currency ?? subscription.currency ?? null,
        currentPeriodStart: item?.current_period_start ?? subscription.current_period_start ?? null,
        currentPeriodEnd: item?.current_period_end ?? subscription.current_period_end ?? null,
        cancelAtPeriodEnd: subscription.cancel_at_period_end ?? false,
        trialEnd: subscription.trial_end ?? null,
        cancelAt: subscription.cancel_at ?? null,
        canceledAt: subscription.canceled_at ?? null,
        eventCreated: event.created,
      });
      if (tier !== tenant.tier) {
        await applyTier(tx, tenant.id, tier);
        changes.tier = { from: tenant.tier, to: tier };
      }
      Object.assign(changes, await changeStanding(tx, tenant, change, at));
      if (change === 'trial' && subscription.trial_end != null) {
        await writeTrialEnd(tx, tenant.id, subscription.trial_end);
      }
      await processed(changes, { stripeStatus });
      return done;
    }

    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const existing = refs.subscriptionId ? await lockSubscription(tx, refs.subscriptionId) : null;
      if (isStale(existing, at)) {
        await processed({}, { skipped: 'older than the last event applied to its subscription' });
        return { status: 'stale', tenantId: tenant.id };
      }
      // An invoice of a cancelled subscription no longer decides the tenant's standing.
      const change: StandingChange =
        existing?.status === 'cancelled'
          ? 'unchanged'
          : event.type === 'invoice.paid'
            ? 'paid'
            : 'payment_failed';
      const changes = await changeStanding(tx, tenant, change, at);
      if (refs.subscriptionId) await touchSubscription(tx, refs.subscriptionId, event.created);
      await processed(changes, { invoiceId: event.object.id });
      return done;
    }
  }
}
