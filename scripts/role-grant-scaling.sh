#!/usr/bin/env bash
# How fast PostgreSQL creates and grants tenant roles as they accumulate, with nothing else of
# provisioning (no schema, tables or bookkeeping), the two ways this project has done it:
#
#   login    the login role creates each tenant role and grants it to itself and to the group
#            (before sql/public/0009): on PostgreSQL 16+ every GRANT walks all of the login
#            role's memberships, one per tenant;
#   creator  a SECURITY DEFINER function owned by a creator role does it, with a new creator
#            every 250 tenant roles (sql/public/0009): no role's memberships grow past that.
#
# Usage: PGHOST=... PGPORT=... PGUSER=<superuser> scripts/role-grant-scaling.sh [roles] [block]
# Needs psql and a throwaway server: it creates a database and roles named rgs_* and drops them.
set -euo pipefail
export PGOPTIONS='-c client_min_messages=warning'
total=${1:-4000}
block=${2:-1000}
su_psql() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
modern=$(psql -X -At -d postgres -c "SELECT current_setting('server_version_num')::int >= 160000")

run() {
  local way=$1 db="rgs_$1" app="rgs_$1_app"
  su_psql -c "DROP DATABASE IF EXISTS $db" >/dev/null
  su_psql -c "CREATE ROLE $app LOGIN CREATEROLE" -c "CREATE DATABASE $db OWNER $app" >/dev/null
  local as_app=(psql -X -q -v ON_ERROR_STOP=1 -U "$app" -d "$db")
  local set_true='' inherit_true=''
  if [ "$modern" = t ]; then set_true=' WITH INHERIT FALSE, SET TRUE'; inherit_true=' WITH INHERIT TRUE, SET FALSE'; fi
  "${as_app[@]}" <<SQL >/dev/null
CREATE ROLE ${db}_group NOLOGIN NOINHERIT;
CREATE FUNCTION public.as_creator(action text, r name) RETURNS void LANGUAGE plpgsql
SECURITY DEFINER SET search_path = pg_catalog AS \$\$
BEGIN
  IF action = 'create' THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
    EXECUTE format('GRANT %I TO %I$set_true', r, session_user);
  ELSE
    EXECUTE format('GRANT ${db}_group TO %I$inherit_true', r);
  END IF;
END \$\$;
SQL
  local file rate start end
  file=$(mktemp)
  for ((from = 0; from < total; from += block)); do
    : >"$file"
    for ((i = from; i < from + block; i++)); do
      local role="${db}_t$i" creator="${db}_k$((i / 250))"
      if [ "$way" = creator ]; then
        if ((i % 250 == 0)); then
          echo "CREATE ROLE $creator NOLOGIN NOINHERIT CREATEROLE; GRANT $creator TO CURRENT_USER$([ "$modern" = t ] && echo ' WITH INHERIT TRUE, SET TRUE');" >>"$file"
          [ "$modern" = t ] && echo "GRANT ${db}_group TO $creator WITH ADMIN TRUE, INHERIT FALSE, SET FALSE;" >>"$file"
          echo "GRANT CREATE ON SCHEMA public TO $creator; ALTER FUNCTION public.as_creator(text, name) OWNER TO $creator; REVOKE CREATE ON SCHEMA public FROM $creator;" >>"$file"
        fi
        echo "BEGIN; SELECT public.as_creator('create', '$role'); SELECT public.as_creator('join', '$role'); COMMIT;" >>"$file"
      else
        echo "BEGIN; CREATE ROLE $role NOLOGIN NOINHERIT; GRANT $role TO CURRENT_USER; GRANT ${db}_group TO $role$inherit_true; COMMIT;" >>"$file"
      fi
    done
    start=$(date +%s.%N)
    "${as_app[@]}" -f "$file" >/dev/null
    end=$(date +%s.%N)
    rate=$(awk -v n="$block" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }')
    echo "  $way: roles $from..$((from + block)): $rate/s"
  done
  rm -f "$file"
  su_psql -c "DROP DATABASE $db" >/dev/null
  # Tenant roles (_t<n>) first, then the creators (_k<n> ; grantors of their memberships), the group, the login.
  su_psql -At -c "SELECT rolname FROM pg_roles WHERE rolname LIKE '${db}\\_%' ORDER BY CASE WHEN rolname ~ '_t[0-9]+$' THEN 0 WHEN rolname ~ '_k[0-9]+$' THEN 1 WHEN rolname ~ '_group$' THEN 2 ELSE 3 END" |
    while read -r role; do su_psql -c "DROP ROLE \"$role\"" >/dev/null; done
}

echo "role statements per second, $total tenant roles in blocks of $block ($(psql -X -At -d postgres -c 'SHOW server_version'))"
run login
run creator
