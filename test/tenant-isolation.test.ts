import { randomUUID } from 'node:crypto';
import { cp, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'slonik';
import { z } from 'zod';
import { loadMigrations } from '../src/db/migrations/files.js';
import { executeScript } from '../src/db/sql.js';
import { withTenant } from '../src/db/tenant-transaction.js';
import { createApiKey } from '../src/auth/api-keys.js';
import { createTenant, type Tenant } from '../src/tenants/lifecycle.js';
import { schemaNameFor } from '../src/tenants/names.js';
import { countKind, describeSchema } from './support/catalog.js';
import { createTestDatabase, sqlDir, type TestDatabase } from './support/database.js';
import { tenantVersions } from './support/sql-dir.js';

let db: TestDatabase;
let a: Tenant;
let b: Tenant;

const Sku = z.object({ sku: z.string() });

async function addProduct(tenant: Tenant, sku: string) {
  await withTenant(db.pool, tenant, { readOnly: false }, async (tx) => {
    await tx.query(sql.unsafe`
      INSERT INTO products (company_id, sku, name, unit_cost, unit_price)
      SELECT id, ${sku}, ${`Product ${sku}`}, 1.50, 4.00 FROM companies LIMIT 1`);
  });
}

const skus = (tenant: Tenant) =>
  withTenant(db.pool, tenant, { readOnly: true }, (tx) =>
    tx.anyFirst(sql.type(Sku)`SELECT sku FROM products ORDER BY sku`),
  );

beforeAll(async () => {
  db = await createTestDatabase();
  a = await createTenant(db.lifecycle, {
    slug: 'tenant-a',
    name: 'Tenant A',
    tier: 'professional',
  });
  b = await createTenant(db.lifecycle, {
    slug: 'tenant-b',
    name: 'Tenant B',
    tier: 'professional',
  });
  for (const sku of ['A-1', 'A-2', 'A-3']) await addProduct(a, sku);
  for (const sku of ['B-1', 'B-2']) await addProduct(b, sku);
});
afterAll(async () => {
  await db?.drop();
});

test('a new tenant has every table, column, constraint, index and trigger of the template', async () => {
  // The template: the tenant migration files applied to an empty schema, read back from the catalog.
  await db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`CREATE SCHEMA template_check`);
    await tx.query(sql.unsafe`SELECT set_config('search_path', 'template_check, public', true)`);
    for (const file of db.migrations.tenant) await executeScript(tx, file.up);
  });
  const template = await describeSchema(db.pool, 'template_check');
  const tenant = await describeSchema(db.pool, a.schemaName);
  expect(tenant).toEqual(template);
  // Not an empty comparison: the template has the whole business model.
  expect(countKind(template, 'table ')).toBe(11);
  expect(countKind(template, 'index ')).toBeGreaterThanOrEqual(20);
  expect(template.filter((line) => line.includes(' generated as ')).length).toBeGreaterThanOrEqual(
    10,
  );
  expect(template).toContain(
    'column inventory.quantity_available integer generated as (quantity_on_hand - quantity_reserved)',
  );
  await db.pool.query(sql.unsafe`DROP SCHEMA template_check CASCADE`);
});

describe('isolation between tenants', () => {
  test('rows written as tenant A are invisible to tenant B, and each sees its own', async () => {
    expect(await skus(a)).toEqual(['A-1', 'A-2', 'A-3']);
    expect(await skus(b)).toEqual(['B-1', 'B-2']);
  });

  test("inside B's transaction, reading or writing A's schema by name fails with 42501", async () => {
    const read = withTenant(db.pool, b, { readOnly: true }, (tx) =>
      tx.any(sql.unsafe`SELECT sku FROM ${sql.identifier([a.schemaName, 'products'])}`),
    );
    await expect(read).rejects.toMatchObject({ code: '42501' });
    await expect(read).rejects.toThrow(/permission denied for schema/);

    const write = withTenant(db.pool, b, { readOnly: false }, (tx) =>
      tx.query(sql.unsafe`DELETE FROM ${sql.identifier([a.schemaName, 'products'])}`),
    );
    await expect(write).rejects.toMatchObject({ code: '42501' });
    expect(await skus(a)).toEqual(['A-1', 'A-2', 'A-3']);
  });

  test('the tenant transaction sets role, search_path and app.tenant_id; read-only refuses writes', async () => {
    const settings = await withTenant(db.pool, a, { readOnly: true }, (tx) =>
      tx.one(sql.unsafe`SELECT current_user AS role, current_schema() AS schema,
        current_setting('app.tenant_id') AS tenant_id, current_setting('transaction_read_only') AS read_only`),
    );
    expect(settings).toEqual({
      role: a.schemaName,
      schema: a.schemaName,
      tenant_id: a.id,
      read_only: 'on',
    });
    await expect(
      withTenant(db.pool, a, { readOnly: true }, (tx) =>
        tx.query(sql.unsafe`DELETE FROM products`),
      ),
    ).rejects.toMatchObject({ code: '25006' });
    expect(await skus(a)).toHaveLength(3);
  });

  test('a tenant role cannot create objects in public or in its own schema', async () => {
    await expect(
      withTenant(db.pool, a, { readOnly: false }, (tx) =>
        tx.query(sql.unsafe`CREATE TABLE public.leak (x int)`),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      withTenant(db.pool, a, { readOnly: false }, (tx) =>
        tx.query(sql.unsafe`CREATE TABLE mine (x int)`),
      ),
    ).rejects.toMatchObject({ code: '42501' });
  });

  const PLATFORM_TABLES = [
    'tenants',
    'users',
    'subscriptions',
    'usage_metrics',
    'audit_logs',
    'api_keys',
  ];

  test.each(PLATFORM_TABLES)(
    'row-level security on public.%s: a tenant role reads only its own rows, none without app.tenant_id, none naming another tenant',
    async (table) => {
      // Rows for both tenants in every table.
      for (const tenant of [a, b]) {
        await createApiKey(db.pool, { tenantId: tenant.id, name: `${table} check`, actor: 'test' });
        await db.pool.query(sql.unsafe`
          INSERT INTO public.users (clerk_user_id, email, tenant_id)
          VALUES (${`user_${table}_${tenant.slug}`}, NULL, ${tenant.id})`);
        await db.pool.query(sql.unsafe`
          INSERT INTO public.subscriptions (tenant_id) VALUES (${tenant.id})`);
        await db.pool.query(sql.unsafe`
          INSERT INTO public.usage_metrics (tenant_id, period_start, period_end)
          VALUES (${tenant.id}, now() - make_interval(days => ${PLATFORM_TABLES.indexOf(table) + 1}), now())`);
      }
      const column = sql.identifier([table === 'tenants' ? 'id' : 'tenant_id']);
      const ids = (tx: { anyFirst: typeof db.pool.anyFirst }) =>
        tx.anyFirst(
          sql.unsafe`SELECT DISTINCT ${column} FROM ${sql.identifier(['public', table])}`,
        );
      expect(await withTenant(db.pool, a, { readOnly: true }, ids)).toEqual([a.id]);
      expect(await withTenant(db.pool, b, { readOnly: true }, ids)).toEqual([b.id]);
      // The tenant role with app.tenant_id unset: nothing at all.
      const unset = await db.pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`SELECT set_config('role', ${a.schemaName}, true)`);
        return ids(tx);
      });
      expect(unset).toEqual([]);
      // A tenant role that names another tenant in app.tenant_id (as SQL of its own could): nothing.
      const borrowed = await db.pool.transaction(async (tx) => {
        await tx.query(sql.unsafe`
          SELECT set_config('role', ${a.schemaName}, true), set_config('app.tenant_id', ${b.id}, true)`);
        return ids(tx);
      });
      expect(borrowed).toEqual([]);
      // The platform (the login role) still sees every tenant's rows.
      expect((await ids(db.pool)).length).toBeGreaterThanOrEqual(2);
    },
  );

  test('a tenant role cannot write the platform tables', async () => {
    await expect(
      withTenant(db.pool, a, { readOnly: false }, (tx) =>
        tx.query(sql.unsafe`UPDATE public.tenants SET name = 'Hijacked'`),
      ),
    ).rejects.toMatchObject({ code: '42501' });
    await expect(
      withTenant(db.pool, a, { readOnly: false }, (tx) =>
        tx.query(sql.unsafe`DELETE FROM public.api_keys`),
      ),
    ).rejects.toMatchObject({ code: '42501' });
  });
});

describe('verify_tenant_isolation()', () => {
  const problems = () =>
    db.pool.any(
      sql.unsafe`SELECT problem, schema_name, role_name, object_name, detail FROM public.verify_tenant_isolation()`,
    );

  let groupRole: string;
  beforeAll(async () => {
    groupRole = await db.pool.oneFirst(
      sql.type(z.object({ name: z.string() }))`SELECT public.tenant_group_role()::text AS name`,
    );
  });

  test('returns no rows on a healthy database', async () => {
    expect(await problems()).toEqual([]);
  });

  test.each([
    {
      name: "a grant on A's schema to B's role",
      grant: () =>
        sql.unsafe`GRANT USAGE ON SCHEMA ${sql.identifier([a.schemaName])} TO ${sql.identifier([b.schemaName])}`,
      revoke: () =>
        sql.unsafe`REVOKE USAGE ON SCHEMA ${sql.identifier([a.schemaName])} FROM ${sql.identifier([b.schemaName])}`,
      expected: () => ({
        problem: 'schema_grant',
        schema_name: a.schemaName,
        role_name: b.schemaName,
        object_name: a.schemaName,
        detail: 'USAGE',
      }),
    },
    {
      name: "a grant on A's products to PUBLIC",
      grant: () =>
        sql.unsafe`GRANT SELECT ON ${sql.identifier([a.schemaName, 'products'])} TO PUBLIC`,
      revoke: () =>
        sql.unsafe`REVOKE SELECT ON ${sql.identifier([a.schemaName, 'products'])} FROM PUBLIC`,
      expected: () => ({
        problem: 'table_grant',
        schema_name: a.schemaName,
        role_name: 'PUBLIC',
        object_name: 'products',
        detail: 'SELECT',
      }),
    },
    {
      name: "B's role made a member of A's role",
      grant: () =>
        sql.unsafe`GRANT ${sql.identifier([a.schemaName])} TO ${sql.identifier([b.schemaName])}`,
      revoke: () =>
        sql.unsafe`REVOKE ${sql.identifier([a.schemaName])} FROM ${sql.identifier([b.schemaName])}`,
      expected: () => ({
        problem: 'role_membership',
        schema_name: null,
        role_name: b.schemaName,
        object_name: a.schemaName,
        detail: 'member of',
      }),
    },
    {
      name: 'a platform table without row-level security granted to a tenant role',
      grant: () =>
        sql.unsafe`GRANT SELECT ON public.stripe_events TO ${sql.identifier([a.schemaName])}`,
      revoke: () =>
        sql.unsafe`REVOKE SELECT ON public.stripe_events FROM ${sql.identifier([a.schemaName])}`,
      expected: () => ({
        problem: 'foreign_table_grant',
        schema_name: 'public',
        role_name: a.schemaName,
        object_name: 'stripe_events',
        detail: 'SELECT',
      }),
    },
    {
      // Every tenant role reads it through the tenant group (sql/public/0008): one finding.
      name: 'row-level security no longer forced on a platform table tenant roles read',
      grant: () => sql.unsafe`ALTER TABLE public.api_keys NO FORCE ROW LEVEL SECURITY`,
      revoke: () => sql.unsafe`ALTER TABLE public.api_keys FORCE ROW LEVEL SECURITY`,
      expected: () => ({
        problem: 'foreign_table_grant',
        schema_name: 'public',
        role_name: groupRole,
        object_name: 'api_keys',
        detail: 'SELECT',
      }),
    },
    {
      name: 'a tenant role allowed to bypass row-level security',
      grant: () => sql.unsafe`ALTER ROLE ${sql.identifier([a.schemaName])} BYPASSRLS`,
      revoke: () => sql.unsafe`ALTER ROLE ${sql.identifier([a.schemaName])} NOBYPASSRLS`,
      expected: () => ({
        problem: 'role_attribute',
        schema_name: null,
        role_name: a.schemaName,
        object_name: a.schemaName,
        detail: 'BYPASSRLS',
      }),
    },
  ])('reports $name, and nothing once it is revoked', async ({ grant, revoke, expected }) => {
    await db.pool.query(grant());
    try {
      expect(await problems()).toEqual([expected()].flat());
    } finally {
      await db.pool.query(revoke());
    }
    expect(await problems()).toEqual([]);
  });
});

test('200 alternating transactions on a pool of one connection never leak settings', async () => {
  const single = await db.openPool({ maxSize: 1, maxUses: 10_000 });
  const Bare = z.object({
    search_path: z.string(),
    role: z.string(),
    tenant: z.string().nullable(),
    pid: z.number(),
  });
  const baseline = await single.one(sql.type(Bare)`
    SELECT current_setting('search_path') AS search_path, current_user AS role,
      current_setting('app.tenant_id', true) AS tenant, pg_backend_pid() AS pid`);
  const pids = new Set<number>();
  for (let i = 0; i < 200; i += 1) {
    const tenant = i % 2 === 0 ? a : b;
    const seen = await withTenant(single, tenant, { readOnly: i % 4 < 2 }, async (tx) =>
      tx.one(sql.type(z.object({ skus: z.array(z.string()), tenant: z.string(), pid: z.number() }))`
        SELECT array_agg(sku ORDER BY sku) AS skus, current_setting('app.tenant_id') AS tenant,
          pg_backend_pid() AS pid FROM products`),
    );
    expect(seen.skus).toEqual(tenant === a ? ['A-1', 'A-2', 'A-3'] : ['B-1', 'B-2']);
    expect(seen.tenant).toBe(tenant.id);
    pids.add(seen.pid);
    const after = await single.one(sql.type(Bare)`
      SELECT current_setting('search_path') AS search_path, current_user AS role,
        current_setting('app.tenant_id', true) AS tenant, pg_backend_pid() AS pid`);
    expect(after).toEqual({ ...baseline, tenant: after.tenant === '' ? '' : baseline.tenant });
    expect(after.tenant ?? '').toBe('');
    expect(after.search_path).toBe('"$user", public');
  }
  // It really was one connection throughout.
  expect([...pids]).toEqual([baseline.pid]);
});

test('a pooled connection is replaced after its maximum number of uses', async () => {
  const recycled = await db.openPool({ maxSize: 1, maxUses: 5 });
  const pids: number[] = [];
  for (let i = 0; i < 12; i += 1) {
    pids.push(
      await recycled.oneFirst(
        sql.type(z.object({ pid: z.number() }))`SELECT pg_backend_pid() AS pid`,
      ),
    );
  }
  expect(new Set(pids.slice(0, 5)).size).toBe(1);
  expect(new Set(pids).size).toBe(3);
  expect(pids[5]).not.toBe(pids[4]);
});

test('a pooled connection is replaced once it has served its maximum number of distinct tenants', async () => {
  const tenants = [a, b];
  for (let n = 3; n <= 5; n += 1) {
    tenants.push(await createTenant(db.lifecycle, { slug: `recycle-${n}`, name: `Recycle ${n}` }));
  }
  const recycled = await db.openPool({ maxSize: 1, maxUses: 1_000, maxTenants: 3 });
  const pid = (tenant: Tenant) =>
    withTenant(recycled, tenant, { readOnly: true }, (tx) =>
      tx.oneFirst(sql.type(z.object({ pid: z.number() }))`SELECT pg_backend_pid() AS pid`),
    );
  // The same two tenants over and over: one backend, however many uses.
  const twoTenants: number[] = [];
  for (let i = 0; i < 10; i += 1) twoTenants.push(await pid(tenants[i % 2]!));
  expect(new Set(twoTenants).size).toBe(1);
  // A third distinct tenant reaches the limit: the backend is closed after that transaction.
  const third = await pid(tenants[2]!);
  expect(third).toBe(twoTenants[0]);
  const fourth = await pid(tenants[3]!);
  expect(fourth).not.toBe(third);
  // The new backend counts afresh: tenants 4, 5 and 1 fill it, the next request gets another.
  expect(await pid(tenants[4]!)).toBe(fourth);
  expect(await pid(tenants[0]!)).toBe(fourth);
  expect(await pid(tenants[1]!)).not.toBe(fourth);
});

test('a provisioning that fails halfway leaves no row, schema or role', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'capliquify-sql-'));
  await cp(sqlDir, dir, { recursive: true });
  const { next } = await tenantVersions();
  await writeFile(
    path.join(dir, 'tenant', `${next}_broken.sql`),
    'ALTER TABLE products ADD COLUMN shelf_life_days integer;\nSELECT 1 / 0;\n',
  );
  const migrations = await loadMigrations(dir);
  const id = randomUUID();
  const before = await db.pool.one(sql.unsafe`
    SELECT (SELECT count(*) FROM public.tenants) AS tenants,
      (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%') AS schemas,
      (SELECT count(*) FROM pg_roles WHERE rolname = ${schemaNameFor(id)}) AS roles,
      (SELECT count(*) FROM public.audit_logs) AS audit`);
  await expect(
    createTenant({ ...db.lifecycle, migrations }, { id, slug: 'half-made', name: 'Half Made' }),
  ).rejects.toMatchObject({
    code: 'MIGRATION_FAILED',
    message: expect.stringMatching(new RegExp(`${next}_broken\\.sql: division by zero`)),
  });
  const after = await db.pool.one(sql.unsafe`
    SELECT (SELECT count(*) FROM public.tenants) AS tenants,
      (SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%') AS schemas,
      (SELECT count(*) FROM pg_roles WHERE rolname = ${schemaNameFor(id)}) AS roles,
      (SELECT count(*) FROM public.audit_logs) AS audit`);
  expect(after).toEqual(before);
  expect((before as { roles: number }).roles).toBe(0);
});
