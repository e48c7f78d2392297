/**
 * One Stripe customer per tenant, created once and kept in tenants.stripe_customer_id.
 *
 * - Concurrent requests of one tenant take turns (a transaction-scoped advisory lock in the
 *   request's transaction, on any server), so the second finds the first one's customer.
 * - The create call carries the idempotency key `customer:<tenant id>`: a retry, or a call from a
 *   request whose lock was lost, gets the same customer back from Stripe.
 * - The id is stored on the pool in its own short transaction, not in the request's, so a later
 *   failure of the request (the checkout call, say) does not lose it; the UPDATE only fills an
 *   empty column and the id is read back, so every caller ends with the one stored id.
 */
import { z } from 'zod';
import { recordAudit } from '../audit/audit-log.js';
import { sql } from '../db/sql.js';
import { callStripe, type BillingRequest, type StripeBilling } from './stripe-calls.js';

const CustomerId = z.object({ stripe_customer_id: z.string().nullable() });

export const customerIdempotencyKey = (tenantId: string) => `customer:${tenantId}`;

/** The tenant's Stripe customer id, created (once) when it has none. */
export async function ensureStripeCustomer(
  billing: StripeBilling,
  request: BillingRequest,
): Promise<string> {
  const { tenant } = request;
  const existing = await request.platform(async (db) => {
    await db.query(sql.unsafe`
      /* lockStripeCustomer */
      SELECT pg_advisory_xact_lock(hashtextextended(${`capliquify:stripe-customer:${tenant.id}`}, 0))`);
    return db.oneFirst(sql.type(CustomerId)`
      /* tenantStripeCustomer */
      SELECT stripe_customer_id FROM public.tenants WHERE id = ${tenant.id}`);
  });
  if (existing !== null) return existing;

  const customer = await callStripe(billing, request, 'create the customer', () =>
    billing.stripe.customers.create(
      { name: tenant.name, metadata: { tenant_id: tenant.id, tenant_slug: tenant.slug } },
      { idempotencyKey: customerIdempotencyKey(tenant.id) },
    ),
  );
  const stored = await billing.pool.transaction(async (tx) => {
    const linked = await tx.maybeOneFirst(sql.type(CustomerId)`
      /* storeStripeCustomer */
      UPDATE public.tenants SET stripe_customer_id = ${customer.id}
      WHERE id = ${tenant.id} AND stripe_customer_id IS NULL
      RETURNING stripe_customer_id`);
    if (linked !== null) {
      await recordAudit(tx, {
        ...request.source,
        action: 'billing.customer_created',
        tenantId: tenant.id,
        resourceType: 'stripe_customer',
        resourceId: customer.id,
      });
      return linked;
    }
    return tx.oneFirst(sql.type(CustomerId)`
      /* tenantStripeCustomer */
      SELECT stripe_customer_id FROM public.tenants WHERE id = ${tenant.id}`);
  }, 0);
  if (stored === null) {
    throw new Error(`tenant ${tenant.id} has no Stripe customer after storing one`);
  }
  if (stored !== customer.id) {
    billing.logger.warn(
      { requestId: request.requestId, tenantId: tenant.id, created: customer.id, stored },
      'the tenant already had another Stripe customer: the one just created is unused',
    );
  }
  return stored;
}
