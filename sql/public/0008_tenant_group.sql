-- 0008_tenant_group: what every tenant role may read in public is granted ONCE, to one group role,
-- instead of once per tenant role. A GRANT adds an entry to the ACL of the object it names, and an
-- object's ACL lives in its single catalog row (pg_class for a table), which cannot grow past one
-- page: with a grant per tenant on each platform table, PostgreSQL refused the 2,049th tenant with
-- "row is too big". Now provisioning adds one pg_auth_members row (tenant role -> group) and no
-- catalog row outside the tenant's own schema grows with the number of tenants.
--
-- The group role belongs to this database: roles are cluster-wide, so its name carries a digest
-- of the database's name at the time this migration ran, and public.tenant_group_role() returns
-- it from then on. The group:
--   * is NOLOGIN, NOINHERIT, owns nothing and is a member of nothing;
--   * holds SELECT on the row-level-secured platform tables and nothing else. Their policies bind
--     each row to app.tenant_id AND to current_user being that tenant's own role, so a tenant role
--     reads only its own rows through the group, and the group itself (were a tenant role to SET
--     ROLE to it) reads none;
--   * is what verify_tenant_isolation() allows as a tenant role's one membership.
-- Tenant roles inherit the group's privileges: INHERIT on PostgreSQL 15; from 16 on the grant
-- itself says INHERIT TRUE and SET FALSE (no SET ROLE to the group at all).

DO $$
DECLARE
  group_role name := 'capliquify_tenants_' || left(md5(current_database()), 12);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = group_role) THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', group_role);
  END IF;
  EXECUTE format(
    'CREATE FUNCTION public.tenant_group_role() RETURNS name LANGUAGE sql IMMUTABLE AS %L',
    format('SELECT %L::name', group_role));
  EXECUTE format(
    'GRANT SELECT ON public.tenants, public.users, public.subscriptions, public.usage_metrics, public.audit_logs, public.api_keys TO %I',
    group_role);
END
$$;

COMMENT ON FUNCTION public.tenant_group_role() IS
  'The one group role of this database whose privileges every tenant role inherits.';

-- Makes a tenant role a member of the group: one pg_auth_members row, no ACL touched.
CREATE FUNCTION public.join_tenant_group(tenant_role name) RETURNS void
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

REVOKE ALL ON FUNCTION public.join_tenant_group(name) FROM PUBLIC;

COMMENT ON FUNCTION public.join_tenant_group(name) IS
  'Provisioning: the tenant role inherits the group''s reads of its own platform rows.';

-- Existing tenants move to the group, and their per-role grants go: one REVOKE per table for all
-- tenant roles at once (each REVOKE rewrites the table's ACL once, not once per tenant).
DO $$
DECLARE
  r record;
  roles text;
BEGIN
  FOR r IN
    SELECT t.schema_name FROM public.tenants t
    JOIN pg_catalog.pg_roles ro ON ro.rolname = t.schema_name
    ORDER BY t.schema_name
  LOOP
    PERFORM public.join_tenant_group(r.schema_name::name);
  END LOOP;

  SELECT string_agg(quote_ident(ro.rolname), ', ' ORDER BY ro.rolname) INTO roles
  FROM pg_catalog.pg_roles ro
  WHERE ro.rolname ~ '^tenant_[0-9a-f]{32}$'
    AND EXISTS (
      SELECT 1 FROM pg_catalog.pg_class c
      CROSS JOIN LATERAL aclexplode(c.relacl) a
      WHERE c.relnamespace = 'public'::regnamespace AND a.grantee = ro.oid);
  IF roles IS NOT NULL THEN
    EXECUTE format(
      'REVOKE ALL ON public.tenants, public.users, public.subscriptions, public.usage_metrics, public.audit_logs, public.api_keys FROM %s',
      roles);
  END IF;
END
$$;

DROP FUNCTION public.grant_platform_reads(name);

-- verify_tenant_isolation() learns the new shape: a tenant role's one allowed membership is the
-- group (without ADMIN OPTION), and the group is held to what a tenant role is held to, since
-- every tenant role inherits it: it may read only row-level-secured platform tables, owns
-- nothing, is a member of nothing, and has no attribute that steps around grants.
CREATE OR REPLACE FUNCTION public.verify_tenant_isolation()
RETURNS TABLE (problem text, schema_name text, role_name text, object_name text, detail text)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, public
AS $$
  WITH tenant_roles AS (
    SELECT oid, rolname FROM pg_catalog.pg_roles WHERE rolname ~ '^tenant_[0-9a-f]{32}$'
  ),
  tenant_group AS (
    SELECT oid, rolname FROM pg_catalog.pg_roles WHERE rolname = public.tenant_group_role()
  ),
  -- Whoever a tenant request can act as: each tenant role, and the group they all inherit.
  subject_roles AS (
    SELECT oid, rolname FROM tenant_roles UNION ALL SELECT oid, rolname FROM tenant_group
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
  -- Rights on another schema's tables for a tenant role or the group: only row-level-secured
  -- tables in public (whose policies bind each row to its tenant's role) may be shared.
  foreign_grants AS (
    SELECT 'foreign_table_grant', n.nspname::text, sr.rolname::text, c.relname::text,
           a.privilege_type::text
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL aclexplode(c.relacl) a
    JOIN subject_roles sr ON sr.oid = a.grantee
    WHERE n.nspname <> sr.rolname
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT (n.nspname = 'public' AND c.relrowsecurity AND c.relforcerowsecurity)
  ),
  -- Anything owned by a tenant role or the group: an owner bypasses grants (and, unless forced, RLS).
  ownership AS (
    SELECT 'owns_schema', s.nspname::text, sr.rolname::text, s.nspname::text, 'owner'
    FROM pg_catalog.pg_namespace s JOIN subject_roles sr ON sr.oid = s.nspowner
    UNION ALL
    SELECT 'owns_relation', n.nspname::text, sr.rolname::text, c.relname::text, 'owner'
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN subject_roles sr ON sr.oid = c.relowner
    UNION ALL
    SELECT 'owns_function', n.nspname::text, sr.rolname::text, p.proname::text, 'owner'
    FROM pg_catalog.pg_proc p
    JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
    JOIN subject_roles sr ON sr.oid = p.proowner
  ),
  -- A member of a role inherits or can SET ROLE to that role's rights. The one membership allowed
  -- is a tenant role's in the group, and not with ADMIN OPTION (which would let it add others).
  -- Roles are cluster-wide: a tenant role of another database (no schema here) may belong to
  -- that database's own group.
  memberships AS (
    SELECT 'role_membership', NULL::text, sr.rolname::text, g.rolname::text,
           CASE WHEN m.admin_option THEN 'admin of' ELSE 'member of' END
    FROM pg_catalog.pg_auth_members m
    JOIN subject_roles sr ON sr.oid = m.member
    JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
    WHERE NOT (
      sr.oid IN (SELECT oid FROM tenant_roles) AND NOT m.admin_option
      AND (m.roleid = (SELECT oid FROM tenant_group)
           OR (g.rolname ~ '^capliquify_tenants_[0-9a-f]{12}$'
               AND sr.rolname NOT IN (SELECT nspname FROM tenant_schemas))))
  ),
  -- Role attributes that step around grants altogether.
  attributes AS (
    SELECT 'role_attribute', NULL::text, sr.rolname::text, sr.rolname::text, x.attribute
    FROM subject_roles sr
    JOIN pg_catalog.pg_roles r ON r.oid = sr.oid
    CROSS JOIN LATERAL (VALUES
      ('SUPERUSER', r.rolsuper), ('BYPASSRLS', r.rolbypassrls),
      ('CREATEROLE', r.rolcreaterole), ('CREATEDB', r.rolcreatedb)
    ) AS x(attribute, enabled)
    WHERE x.enabled
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
