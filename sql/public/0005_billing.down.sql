DROP FUNCTION public.count_api_request(uuid);
ALTER TABLE public.subscriptions DROP COLUMN price_lookup_key;
ALTER TABLE public.subscriptions DROP COLUMN last_event_at;
ALTER TABLE public.tenants DROP CONSTRAINT tenants_suspended_reason_valid;
ALTER TABLE public.tenants DROP COLUMN suspended_reason;
ALTER TABLE public.tenants DROP COLUMN past_due_since;
ALTER TABLE public.tenants DROP CONSTRAINT tenants_stripe_customer_id_key;
ALTER TABLE public.tenants DROP COLUMN stripe_customer_id;
