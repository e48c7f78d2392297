-- 0009_tenant_role_creators: provisioning as fast for the 10,000th tenant as for the first.
--
-- From PostgreSQL 16 on, granting a role requires ADMIN OPTION on it, and PostgreSQL finds out
-- whether the granting role holds it by walking every membership that role has, uncached. When
-- the login role creates every tenant role, it holds a membership in each (the one PostgreSQL
-- adds for the creator, and the one SET ROLE needs), so each GRANT of provisioning walked all of
-- them: provisioning fell from about 170 tenants/s in the first thousand to 13/s in the fourth.
--
-- Now tenant roles are created, and their memberships granted, by a creator role: NOLOGIN,
-- CREATEROLE, a member of nothing but the group (with ADMIN OPTION, to grant it), holding ADMIN
-- OPTION on at most a fixed number of tenant roles (capliquify.tenant_roles_per_creator, 250 by
-- default). When the current creator is full, provisioning makes the next one. The login role
-- acts as the creator only through public.tenant_role_as_creator(), a SECURITY DEFINER function
-- owned by the current creator and executable by the login role alone, so no SET ROLE (whose
-- check walks the login role's memberships too) happens during provisioning. The login role's own
-- membership in each tenant role is SET TRUE, INHERIT FALSE (PostgreSQL 16+): it needs to switch
-- to the tenant role, never to inherit its privileges, and so the privilege checks that do walk
-- its inherited memberships stay short. On PostgreSQL 15, CREATEROLE alone lets a role grant any
-- role and nothing walks the memberships: one creator serves every tenant.
--
-- Creator roles belong to this database, like the group: their names carry the same digest.

DO $$
DECLARE
  group_role name := public.tenant_group_role();
  prefix text := 'capliquify_creator_' || substr(group_role, length('capliquify_tenants_') + 1) || '_';
  modern boolean := current_setting('server_version_num')::int >= 160000;
BEGIN
  EXECUTE format(
    'CREATE FUNCTION public.tenant_role_creator_prefix() RETURNS text LANGUAGE sql IMMUTABLE AS %L',
    format('SELECT %L::text', prefix));

  -- What the creator runs. Names are literals fixed here: as the creator, the function needs no
  -- privilege on any schema, and none is granted to it.
  EXECUTE format($f$
    CREATE FUNCTION public.tenant_role_as_creator(action text, tenant_role name, can_login boolean)
    RETURNS void
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog
    AS %L$f$, format($body$
    BEGIN
      IF tenant_role !~ '^tenant_[0-9a-f]{32}$' THEN
        RAISE EXCEPTION 'not a tenant role: %%', tenant_role USING ERRCODE = '22023';
      END IF;
      IF action = 'create' THEN
        EXECUTE format('CREATE ROLE %%I %%s NOINHERIT', tenant_role,
          CASE WHEN can_login THEN 'LOGIN' ELSE 'NOLOGIN' END);
        -- The session's login role switches to the tenant role for each tenant request.
        IF %2$L THEN
          EXECUTE format('GRANT %%I TO %%I WITH INHERIT FALSE, SET TRUE', tenant_role, session_user);
        ELSE
          EXECUTE format('GRANT %%I TO %%I', tenant_role, session_user);
        END IF;
      ELSIF action = 'join_group' THEN
        -- The tenant role inherits the group's reads of its own platform rows (0008).
        IF %2$L THEN
          EXECUTE format('GRANT %1$I TO %%I WITH INHERIT TRUE, SET FALSE', tenant_role);
        ELSE
          EXECUTE format('ALTER ROLE %%I INHERIT', tenant_role);
          EXECUTE format('GRANT %1$I TO %%I', tenant_role);
        END IF;
      ELSE
        RAISE EXCEPTION 'unknown action: %%', action USING ERRCODE = '22023';
      END IF;
    END
    $body$, group_role, modern));
END
$$;

REVOKE ALL ON FUNCTION public.tenant_role_as_creator(text, name, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.tenant_role_as_creator(text, name, boolean) TO CURRENT_USER;

COMMENT ON FUNCTION public.tenant_role_as_creator(text, name, boolean) IS
  'Provisioning: creates a tenant role, or joins it to the group, as the current creator role (its owner).';

-- Makes the next creator and hands it the function. Run by the login role, which holds ADMIN
-- OPTION on the group (it created it) and becomes a member of the creator, inheriting its rights
-- (it must, to hand the function on at the next rotation, and to drop tenant roles at purge).
CREATE FUNCTION public.add_tenant_role_creator() RETURNS name
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  creator name;
  n int;
BEGIN
  SELECT count(*) + 1 INTO n FROM pg_catalog.pg_roles
  WHERE starts_with(rolname, public.tenant_role_creator_prefix());
  creator := public.tenant_role_creator_prefix() || n;
  EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT CREATEROLE', creator);
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT %I TO CURRENT_USER WITH INHERIT TRUE, SET TRUE', creator);
    EXECUTE format('GRANT %I TO %I WITH ADMIN TRUE, INHERIT FALSE, SET FALSE',
      public.tenant_group_role(), creator);
  ELSE
    EXECUTE format('GRANT %I TO CURRENT_USER', creator);
  END IF;
  -- A new owner must be able to create in the function's schema: for this statement only, so the
  -- schema's ACL does not grow with the number of creators.
  EXECUTE format('GRANT CREATE ON SCHEMA public TO %I', creator);
  EXECUTE format('ALTER FUNCTION public.tenant_role_as_creator(text, name, boolean) OWNER TO %I',
    creator);
  EXECUTE format('REVOKE CREATE ON SCHEMA public FROM %I', creator);
  RETURN creator;
END
$$;

REVOKE ALL ON FUNCTION public.add_tenant_role_creator() FROM PUBLIC;

-- Provisioning's entry point: the tenant role, created by a creator with room for it.
CREATE FUNCTION public.create_tenant_role(tenant_role name, can_login boolean) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, public
AS $$
DECLARE
  capacity int := coalesce(nullif(current_setting('capliquify.tenant_roles_per_creator', true), '')::int, 250);
  full_creator constant text := $q$
    SELECT count(*) >= $1 FROM pg_catalog.pg_auth_members m
    JOIN pg_catalog.pg_proc p ON p.proowner = m.member
    WHERE p.oid = 'public.tenant_role_as_creator(text, name, boolean)'::regprocedure
      AND m.admin_option$q$;
  is_full boolean;
BEGIN
  -- Only PostgreSQL 16+ gives the creator a membership per role it creates.
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE full_creator INTO is_full USING capacity;
    IF is_full THEN
      -- One rotation at a time: whoever waited sees the new creator (a new snapshot per statement).
      PERFORM pg_advisory_xact_lock(hashtext('capliquify.tenant_role_creator'));
      EXECUTE full_creator INTO is_full USING capacity;
      IF is_full THEN
        PERFORM public.add_tenant_role_creator();
      END IF;
    END IF;
  END IF;
  PERFORM public.tenant_role_as_creator('create', tenant_role, can_login);
END
$$;

REVOKE ALL ON FUNCTION public.create_tenant_role(name, boolean) FROM PUBLIC;

-- Joining the group goes through the creator too (it holds ADMIN OPTION on the group).
CREATE OR REPLACE FUNCTION public.join_tenant_group(tenant_role name) RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, public
AS $$
  SELECT public.tenant_role_as_creator('join_group', tenant_role, false)
$$;

SELECT public.add_tenant_role_creator();

-- Existing tenants: the login role keeps switching to their roles but stops inheriting them
-- (its own grants; the one PostgreSQL made when it created them never inherited).
DO $$
DECLARE
  r record;
BEGIN
  IF current_setting('server_version_num')::int >= 160000 THEN
    FOR r IN
      SELECT ro.rolname FROM pg_catalog.pg_auth_members m
      JOIN pg_catalog.pg_roles ro ON ro.oid = m.roleid
      WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
        AND m.grantor = m.member AND m.inherit_option
        AND ro.rolname ~ '^tenant_[0-9a-f]{32}$'
    LOOP
      EXECUTE format('GRANT %I TO CURRENT_USER WITH INHERIT FALSE', r.rolname);
    END LOOP;
  END IF;
END
$$;
