/**
 * A schema as the catalog describes it: tables, columns (with types, defaults and generation
 * expressions), constraints, indexes and triggers, with the schema's own name taken out so two
 * schemas can be compared.
 */
import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const Line = z.object({ line: z.string() });

export async function describeSchema(db: CommonQueryMethods, schema: string) {
  const lines = await db.anyFirst(sql.type(Line)`
    SELECT line FROM (
      SELECT 'table ' || c.relname AS line
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      UNION ALL
      SELECT format('column %s.%s %s%s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
        CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
        CASE WHEN a.attgenerated = 's' THEN ' generated as ' || pg_get_expr(d.adbin, d.adrelid)
             WHEN d.adbin IS NOT NULL THEN ' default ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END,
        CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END)
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = ${schema} AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
      SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
      FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema}
      UNION ALL
      SELECT 'index ' || pg_get_indexdef(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema}
      UNION ALL
      SELECT format('trigger %s.%s', c.relname, pg_get_triggerdef(t.oid))
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND NOT t.tgisinternal
    ) described ORDER BY line`);
  return lines.map((line) => line.replaceAll(schema, '<schema>'));
}

export const countKind = (described: readonly string[], prefix: string) =>
  described.filter((line) => line.startsWith(prefix)).length;

/**
 * Every access control list in the database outside the tenant schemas, one line per object:
 * relations, columns, functions, types, schemas, default privileges, the database itself,
 * languages, parameters, tablespaces, foreign data wrappers and servers, large objects. These are
 * the catalog rows shared by all tenants, which must not grow with their number.
 */
export async function sharedAcls(db: CommonQueryMethods): Promise<string[]> {
  const lines = await db.anyFirst(sql.type(Line)`
    WITH shared_ns AS (
      -- pg_toast holds the TOAST tables of every table, tenant tables included: they have no ACL
      -- of their own (their table's applies), so they are left out.
      SELECT oid, nspname, nspacl FROM pg_namespace
      WHERE nspname !~ '^tenant_[0-9a-f]{32}$' AND nspname <> 'pg_toast'
    )
    SELECT kind || ' ' || name || ' ' || coalesce(acl, '-') AS line FROM (
      SELECT 'relation' AS kind, c.oid::regclass::text AS name, c.relacl::text AS acl
      FROM pg_class c JOIN shared_ns n ON n.oid = c.relnamespace
      UNION ALL
      SELECT 'column', c.oid::regclass::text || '.' || a.attname, a.attacl::text
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN shared_ns n ON n.oid = c.relnamespace
      WHERE a.attacl IS NOT NULL
      UNION ALL
      SELECT 'function', p.oid::regprocedure::text, p.proacl::text
      FROM pg_proc p JOIN shared_ns n ON n.oid = p.pronamespace
      UNION ALL
      SELECT 'type', t.oid::regtype::text, t.typacl::text
      FROM pg_type t JOIN shared_ns n ON n.oid = t.typnamespace
      UNION ALL
      SELECT 'schema', nspname, nspacl::text FROM shared_ns
      UNION ALL
      SELECT 'default-acl', coalesce(n.nspname, '(all schemas)') || ' ' || d.defaclrole::regrole::text
        || ' ' || d.defaclobjtype::text, d.defaclacl::text
      FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
      WHERE n.oid IS NULL OR n.nspname !~ '^tenant_[0-9a-f]{32}$'
      UNION ALL
      SELECT 'database', datname, datacl::text FROM pg_database WHERE datname = current_database()
      UNION ALL
      SELECT 'language', lanname, lanacl::text FROM pg_language
      UNION ALL
      SELECT 'parameter', parname, paracl::text FROM pg_parameter_acl
      UNION ALL
      SELECT 'tablespace', spcname, spcacl::text FROM pg_tablespace
      UNION ALL
      SELECT 'foreign-data-wrapper', fdwname, fdwacl::text FROM pg_foreign_data_wrapper
      UNION ALL
      SELECT 'foreign-server', srvname, srvacl::text FROM pg_foreign_server
      UNION ALL
      SELECT 'large-object', oid::text, lomacl::text FROM pg_largeobject_metadata
    ) acls ORDER BY line`);
  return [...lines];
}
