/**
 * Database names of a tenant, always derived from its id, never taken from input. The schema and
 * the role share one name: `tenant_<uuid without dashes>`.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SCHEMA = /^tenant_[0-9a-f]{32}$/;

export type TenantRef = { id: string; schemaName: string };

export function schemaNameFor(tenantId: string): string {
  const id = tenantId.toLowerCase();
  if (!UUID.test(id)) throw new TypeError(`not a tenant id: ${tenantId}`);
  return `tenant_${id.replaceAll('-', '')}`;
}

/** The tenant's NOLOGIN role: the same name as its schema. */
export const roleNameFor = (tenant: TenantRef): string => assertSchemaName(tenant.schemaName);

export function assertSchemaName(schemaName: string): string {
  if (!SCHEMA.test(schemaName)) throw new TypeError(`not a tenant schema name: ${schemaName}`);
  return schemaName;
}

/** The value of search_path for a tenant's transaction: its schema, then public. */
export const searchPathFor = (tenant: TenantRef): string =>
  `"${assertSchemaName(tenant.schemaName)}", public`;
