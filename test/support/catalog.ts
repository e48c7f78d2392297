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
