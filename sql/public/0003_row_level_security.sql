-- 0003_row_level_security: tenant roles may read their own tenant's rows of the platform tables,
-- and nothing else. Row-level security is enabled and FORCED (so it binds the table owner too) on
-- tenants, users, subscriptions, usage_metrics, audit_logs and api_keys:
--   * platform_access: the role that runs the migrations (the login role, owner of everything)
--     sees and writes every row, as the platform code needs;
--   * tenant_isolation: anyone else sees only rows of the tenant named by the transaction's LOCAL
--     setting app.tenant_id; with it unset, no rows at all.
-- Each tenant role gets SELECT on these tables (public.grant_platform_reads, below), which
-- verify_tenant_isolation() accepts only because RLS is enabled and forced on them.

DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenants', 'users', 'subscriptions', 'usage_metrics', 'audit_logs', 'api_keys'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE public.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY platform_access ON public.%I TO CURRENT_USER USING (true) WITH CHECK (true)', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON public.%I FOR SELECT USING (%I = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)',
      t, CASE WHEN t = 'tenants' THEN 'id' ELSE 'tenant_id' END);
  END LOOP;
END
$$;

-- The one list of platform tables a tenant role may read, granted at provisioning.
CREATE FUNCTION public.grant_platform_reads(tenant_role name) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  EXECUTE format(
    'GRANT SELECT ON public.tenants, public.users, public.subscriptions, public.usage_metrics, public.audit_logs, public.api_keys TO %I',
    tenant_role);
END
$$;

REVOKE ALL ON FUNCTION public.grant_platform_reads(name) FROM PUBLIC;

COMMENT ON FUNCTION public.grant_platform_reads(name) IS
  'Grants a tenant role SELECT on the row-level-secured platform tables (its own rows only).';

-- Tenants that exist already.
SELECT public.grant_platform_reads(t.schema_name::name)
FROM public.tenants t
JOIN pg_catalog.pg_roles r ON r.rolname = t.schema_name;
