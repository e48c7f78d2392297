DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenants', 'users', 'subscriptions', 'usage_metrics', 'audit_logs', 'api_keys'] LOOP
    EXECUTE format('DROP POLICY tenant_isolation ON public.%I', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON public.%I FOR SELECT USING (%I = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)',
      t, CASE WHEN t = 'tenants' THEN 'id' ELSE 'tenant_id' END);
  END LOOP;
END
$$;
