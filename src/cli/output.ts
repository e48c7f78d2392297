/**
 * Command output: stdout is for results (JSON or aligned text), stderr for messages.
 */
import type { Tenant } from '../tenants/lifecycle.js';

export const printJson = (value: unknown) =>
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

export const printLine = (line = '') => process.stdout.write(`${line}\n`);

export const tenantJson = (tenant: Tenant) => ({
  id: tenant.id,
  slug: tenant.slug,
  name: tenant.name,
  schemaName: tenant.schemaName,
  tier: tenant.tier,
  status: tenant.status,
  createdAt: tenant.createdAt.toISOString(),
  deletedAt: tenant.deletedAt?.toISOString() ?? null,
});

/** Prints rows as left-aligned columns under a header. */
export function printTable(header: string[], rows: string[][]) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  printLine(format(header));
  for (const row of rows) printLine(format(row));
}
