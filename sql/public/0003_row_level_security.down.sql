DO $$
DECLARE
  t text;
  r record;
BEGIN
  FOR r IN SELECT t2.schema_name FROM public.tenants t2 JOIN pg_catalog.pg_roles ro ON ro.rolname = t2.schema_name LOOP
    EXECUTE format('REVOKE SELECT ON public.tenants, public.users, public.subscriptions, public.usage_metrics, public.audit_logs, public.api_keys FROM %I', r.schema_name);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['tenants', 'users', 'subscriptions', 'usage_metrics', 'audit_logs', 'api_keys'] LOOP
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON public.%I', t);
    EXECUTE format('DROP POLICY IF EXISTS platform_access ON public.%I', t);
    EXECUTE format('ALTER TABLE public.%I NO FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I DISABLE ROW LEVEL SECURITY', t);
  END LOOP;
END
$$;

DROP FUNCTION IF EXISTS public.grant_platform_reads(name);
