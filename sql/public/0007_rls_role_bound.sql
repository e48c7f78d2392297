-- 0007_rls_role_bound: a tenant role sees a platform row only when the row is its own tenant's
-- twice over: the transaction's app.tenant_id names the tenant AND the current role is that
-- tenant's role (tenant_<id without dashes>). app.tenant_id alone is a setting any session can
-- change; the role is granted only to the login role. So a tenant role that ran its own SQL and
-- set app.tenant_id to another tenant's id would still see nothing.

DO $$
DECLARE
  t text;
  id_column text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenants', 'users', 'subscriptions', 'usage_metrics', 'audit_logs', 'api_keys'] LOOP
    id_column := CASE WHEN t = 'tenants' THEN 'id' ELSE 'tenant_id' END;
    EXECUTE format('DROP POLICY tenant_isolation ON public.%I', t);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON public.%I FOR SELECT USING ('
      '%I = nullif(current_setting(''app.tenant_id'', true), '''')::uuid '
      'AND current_user = (''tenant_'' || replace(%I::text, ''-'', ''''))::name)',
      t, id_column, id_column);
  END LOOP;
END
$$;
