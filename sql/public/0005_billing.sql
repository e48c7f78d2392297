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

-- count_api_request(tenant): one more API request in the tenant's current period (UTC month).
-- Metering normally counts in memory and flushes in batches (src/billing/metering.ts); this
-- function is the alternative that folds the count into each request's own first statement,
-- kept so `npm run bench` can measure both. SECURITY DEFINER: it runs as the platform owner,
-- before the statement switches to the tenant's role.
CREATE FUNCTION public.count_api_request(p_tenant uuid) RETURNS bigint
LANGUAGE sql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, public
AS $$
  INSERT INTO public.usage_metrics (tenant_id, period_start, period_end, api_requests_count)
  VALUES (p_tenant,
          date_trunc('month', now(), 'UTC'),
          date_trunc('month', now(), 'UTC') + interval '1 month',
          1)
  ON CONFLICT (tenant_id, period_start)
  DO UPDATE SET api_requests_count = public.usage_metrics.api_requests_count + 1
  RETURNING api_requests_count
$$;

REVOKE ALL ON FUNCTION public.count_api_request(uuid) FROM PUBLIC;
