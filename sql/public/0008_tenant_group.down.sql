-- Back to one grant per tenant role on each platform table (and so to the ceiling of about
-- 2,048 tenants on one database), and to the previous verify_tenant_isolation().

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

DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT t.schema_name FROM public.tenants t
    JOIN pg_catalog.pg_roles ro ON ro.rolname = t.schema_name
    ORDER BY t.schema_name
  LOOP
    PERFORM public.grant_platform_reads(r.schema_name::name);
    EXECUTE format('REVOKE %I FROM %I', public.tenant_group_role(), r.schema_name);
    EXECUTE format('ALTER ROLE %I NOINHERIT', r.schema_name);
  END LOOP;
  EXECUTE format(
    'REVOKE ALL ON public.tenants, public.users, public.subscriptions, public.usage_metrics, public.audit_logs, public.api_keys FROM %I',
    public.tenant_group_role());
END
$$;

CREATE OR REPLACE FUNCTION public.verify_tenant_isolation()
RETURNS TABLE (problem text, schema_name text, role_name text, object_name text, detail text)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, public
AS $$
  WITH tenant_roles AS (
    SELECT oid, rolname FROM pg_catalog.pg_roles WHERE rolname ~ '^tenant_[0-9a-f]{32}$'
  ),
  tenant_schemas AS (
    SELECT oid, nspname, nspowner, nspacl
    FROM pg_catalog.pg_namespace WHERE nspname ~ '^tenant_[0-9a-f]{32}$'
  ),
  -- Rights on a tenant schema for anyone but its owner and its own role (grantee 0 is PUBLIC).
  schema_grants AS (
    SELECT 'schema_grant'::text AS problem, s.nspname::text AS schema_name,
           coalesce(r.rolname::text, 'PUBLIC') AS role_name, s.nspname::text AS object_name,
           a.privilege_type::text AS detail
    FROM tenant_schemas s
    CROSS JOIN LATERAL aclexplode(s.nspacl) a
    LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
    WHERE a.grantee <> s.nspowner AND (a.grantee = 0 OR r.rolname <> s.nspname)
  ),
  -- Rights on a table, view or sequence in a tenant schema for anyone but its owner and own role.
  relation_grants AS (
    SELECT 'table_grant', n.nspname::text, coalesce(r.rolname::text, 'PUBLIC'), c.relname::text,
           a.privilege_type::text
    FROM pg_catalog.pg_class c
    JOIN tenant_schemas n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
    WHERE a.grantee <> c.relowner AND (a.grantee = 0 OR r.rolname <> n.nspname)
  ),
  column_grants AS (
    SELECT 'column_grant', n.nspname::text, coalesce(r.rolname::text, 'PUBLIC'),
           c.relname::text || '.' || att.attname::text, a.privilege_type::text
    FROM pg_catalog.pg_attribute att
    JOIN pg_catalog.pg_class c ON c.oid = att.attrelid
    JOIN tenant_schemas n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(att.attacl) a
    LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
    WHERE att.attacl IS NOT NULL AND a.grantee <> c.relowner
      AND (a.grantee = 0 OR r.rolname <> n.nspname)
  ),
  -- Default privileges that would hand future objects in a tenant schema to someone else.
  default_grants AS (
    SELECT 'default_privilege', n.nspname::text, coalesce(r.rolname::text, 'PUBLIC'),
           d.defaclobjtype::text, a.privilege_type::text
    FROM pg_catalog.pg_default_acl d
    JOIN tenant_schemas n ON n.oid = d.defaclnamespace
    CROSS JOIN LATERAL aclexplode(d.defaclacl) a
    LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
    WHERE a.grantee = 0 OR r.rolname <> n.nspname
  ),
  -- Rights on another schema's tables for a tenant role: only row-level-secured tables in public
  -- (whose policies key on app.tenant_id) may be shared.
  foreign_grants AS (
    SELECT 'foreign_table_grant', n.nspname::text, tr.rolname::text, c.relname::text,
           a.privilege_type::text
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    JOIN tenant_roles tr ON tr.oid = a.grantee
    WHERE n.nspname <> tr.rolname
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT (n.nspname = 'public' AND c.relrowsecurity AND c.relforcerowsecurity)
  ),
  -- Anything owned by a tenant role: an owner bypasses grants (and, unless forced, RLS).
  ownership AS (
    SELECT 'owns_schema', s.nspname::text, tr.rolname::text, s.nspname::text, 'owner'
    FROM pg_catalog.pg_namespace s JOIN tenant_roles tr ON tr.oid = s.nspowner
    UNION ALL
    SELECT 'owns_relation', n.nspname::text, tr.rolname::text, c.relname::text, 'owner'
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN tenant_roles tr ON tr.oid = c.relowner
    UNION ALL
    SELECT 'owns_function', n.nspname::text, tr.rolname::text, p.proname::text, 'owner'
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    JOIN tenant_roles tr ON tr.oid = p.proowner
  ),
  -- A tenant role that is a member of any role inherits or can SET ROLE to that role's rights.
  memberships AS (
    SELECT 'role_membership', NULL::text, tr.rolname::text, g.rolname::text, 'member of'
    FROM pg_catalog.pg_auth_members m
    JOIN tenant_roles tr ON tr.oid = m.member
    JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
  ),
  -- Role attributes that step around grants altogether.
  attributes AS (
    SELECT 'role_attribute', NULL::text, r.rolname::text, r.rolname::text, x.attribute
    FROM pg_catalog.pg_roles r
    CROSS JOIN LATERAL (VALUES
      ('SUPERUSER', r.rolsuper), ('BYPASSRLS', r.rolbypassrls),
      ('CREATEROLE', r.rolcreaterole), ('CREATEDB', r.rolcreatedb)
    ) AS x(attribute, enabled)
    WHERE r.rolname ~ '^tenant_[0-9a-f]{32}$' AND x.enabled
  ),
  -- Nobody but the owner may create objects in public.
  public_create AS (
    SELECT 'public_create', 'public', coalesce(r.rolname::text, 'PUBLIC'), 'public', 'CREATE'
    FROM pg_catalog.pg_namespace n
    CROSS JOIN LATERAL aclexplode(n.nspacl) a
    LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
    WHERE n.nspname = 'public' AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner
      AND NOT coalesce(r.rolsuper, false)
  )
  SELECT * FROM schema_grants
  UNION ALL SELECT * FROM relation_grants
  UNION ALL SELECT * FROM column_grants
  UNION ALL SELECT * FROM default_grants
  UNION ALL SELECT * FROM foreign_grants
  UNION ALL SELECT * FROM ownership
  UNION ALL SELECT * FROM memberships
  UNION ALL SELECT * FROM attributes
  UNION ALL SELECT * FROM public_create
  ORDER BY 1, 2, 3, 4, 5
$$;

COMMENT ON FUNCTION public.verify_tenant_isolation() IS
  'One row per grant, ownership, membership or role attribute that breaks tenant isolation; none when healthy.';

REVOKE ALL ON FUNCTION public.verify_tenant_isolation() FROM PUBLIC;
DROP FUNCTION public.join_tenant_group(name);

-- The group goes last: nothing refers to it any more.
DO $$
DECLARE
  group_role name := public.tenant_group_role();
BEGIN
  DROP FUNCTION public.tenant_group_role();
  EXECUTE format('DROP ROLE %I', group_role);
END
$$;
