-- 0005_billing: what plans, quotas and Stripe billing need on the platform tables.
--   * tenants.stripe_customer_id: one Stripe customer per tenant, created once.
--   * tenants.past_due_since: when the first unpaid invoice failed; the grace period runs from it.
--   * tenants.suspended_reason: who suspended a tenant. An operator's suspension blocks every
--     request (TENANT_SUSPENDED); a payment suspension leaves reads working (PAYMENT_REQUIRED on
--     writes).
--   * subscriptions.last_event_at: the creation time of the newest Stripe event applied to the
--     subscription, so an older event that arrives late changes nothing.
--   * subscriptions.price_lookup_key: the price's lookup key (<tier>_<cycle>), the tier's source.

ALTER TABLE public.tenants ADD COLUMN stripe_customer_id varchar(255);
ALTER TABLE public.tenants ADD CONSTRAINT tenants_stripe_customer_id_key UNIQUE (stripe_customer_id);
ALTER TABLE public.tenants ADD COLUMN past_due_since timestamptz;
ALTER TABLE public.tenants ADD COLUMN suspended_reason varchar(20);
ALTER TABLE public.tenants ADD CONSTRAINT tenants_suspended_reason_valid
  CHECK (suspended_reason IS NULL OR suspended_reason IN ('operator', 'payment'));
-- Tenants suspended so far were suspended by operators.
UPDATE public.tenants SET suspended_reason = 'operator' WHERE subscription_status = 'suspended';

ALTER TABLE public.subscriptions ADD COLUMN last_event_at timestamptz;
ALTER TABLE public.subscriptions ADD COLUMN price_lookup_key varchar(100);
