-- Back to the login role creating tenant roles and joining them to the group itself (0008).
-- The creator roles stay: they are the grantors of the memberships they made, which PostgreSQL
-- keeps only while their grantor exists. Migrating forward again adds a new creator beside them.

ALTER FUNCTION public.tenant_role_as_creator(text, name, boolean) OWNER TO CURRENT_USER;
DROP FUNCTION public.create_tenant_role(name, boolean);
DROP FUNCTION public.add_tenant_role_creator();

CREATE OR REPLACE FUNCTION public.join_tenant_group(tenant_role name) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
BEGIN
  IF tenant_role !~ '^tenant_[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'not a tenant role: %', tenant_role USING ERRCODE = '22023';
  END IF;
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT %I TO %I WITH INHERIT TRUE, SET FALSE', public.tenant_group_role(), tenant_role);
  ELSE
    EXECUTE format('ALTER ROLE %I INHERIT', tenant_role);
    EXECUTE format('GRANT %I TO %I', public.tenant_group_role(), tenant_role);
  END IF;
END
$$;

DROP FUNCTION public.tenant_role_as_creator(text, name, boolean);
DROP FUNCTION public.tenant_role_creator_prefix();
