import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import {
  createTenant,
  deleteTenant,
  getTenant,
  listTenants,
  purgeTenant,
  restoreTenant,
} from '../src/tenants/lifecycle.js';
import { schemaNameFor } from '../src/tenants/names.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const count = (query: ReturnType<typeof sql.unsafe>) => db.pool.oneFirst(query) as Promise<number>;

async function footprint(slug: string, schemaName?: string) {
  return {
    rows: await count(sql.unsafe`SELECT count(*) FROM public.tenants WHERE slug = ${slug}`),
    schemas: schemaName
      ? await count(sql.unsafe`SELECT count(*) FROM pg_namespace WHERE nspname = ${schemaName}`)
      : 0,
    roles: schemaName
      ? await count(sql.unsafe`SELECT count(*) FROM pg_roles WHERE rolname = ${schemaName}`)
      : 0,
  };
}

describe('creating a tenant', () => {
  test('creates the row, a NOLOGIN role, the schema with every table, and a default company', async () => {
    const tenant = await createTenant(db.lifecycle, {
      slug: 'acme',
      name: 'Acme Ltd',
      tier: 'professional',
    });
    expect(tenant).toMatchObject({
      slug: 'acme',
      name: 'Acme Ltd',
      tier: 'professional',
      status: 'trial',
    });
    expect(tenant.schemaName).toBe(`tenant_${tenant.id.replaceAll('-', '')}`);
    expect(await footprint('acme', tenant.schemaName)).toEqual({ rows: 1, schemas: 1, roles: 1 });

    const role = await db.pool.one(sql.type(
      z.object({ rolcanlogin: z.boolean(), rolsuper: z.boolean() }),
    )`
      SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = ${tenant.schemaName}`);
    expect(role).toEqual({ rolcanlogin: false, rolsuper: false });

    const tables = await db.pool.anyFirst(sql.type(z.object({ table_name: z.string() }))`
      SELECT table_name FROM information_schema.tables WHERE table_schema = ${tenant.schemaName} ORDER BY 1`);
    expect(tables).toEqual([
      'api_credentials',
      'companies',
      'forecast_runs',
      'forecasts',
      'inventory',
      'inventory_adjustments',
      'products',
      'sales',
      'scenarios',
      'user_preferences',
      'working_capital_metrics',
    ]);
    const companies = await db.pool.anyFirst(sql.type(z.object({ name: z.string() }))`
      SELECT name FROM ${sql.identifier([tenant.schemaName, 'companies'])}`);
    expect(companies).toEqual(['Acme Ltd']);

    const limits = await db.pool.one(sql.unsafe`
      SELECT max_users, max_entities, trial_ends_at > now() + interval '13 days' AS trial_set
      FROM public.tenants WHERE id = ${tenant.id}`);
    expect(limits).toEqual({ max_users: 20, max_entities: 500, trial_set: true });

    const audit = await db.pool.anyFirst(sql.unsafe`
      SELECT action FROM public.audit_logs WHERE tenant_id = ${tenant.id}`);
    expect(audit).toEqual(['tenant.created']);
  });

  test.each([
    ['ab', 'must be 3 to 63 characters long'],
    ['a'.repeat(64), 'must be 3 to 63 characters long'],
    ['Acme', 'may contain only lowercase letters, digits and dashes'],
    ['acme_ltd', 'may contain only lowercase letters, digits and dashes'],
    ['-acme', 'must not start or end with a dash'],
    ['acme-', 'must not start or end with a dash'],
    ['ac--me', 'must not contain two dashes in a row'],
    ['admin', 'it is a reserved word'],
    ['www', 'it is a reserved word'],
    ['public', 'it is a reserved word'],
  ])('refuses the slug %j, naming the rule, and creates nothing', async (slug, rule) => {
    const before = await count(sql.unsafe`SELECT count(*) FROM public.tenants`);
    const schemas = await count(
      sql.unsafe`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'`,
    );
    await expect(createTenant(db.lifecycle, { slug, name: 'X' })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining(rule),
    });
    expect(await count(sql.unsafe`SELECT count(*) FROM public.tenants`)).toBe(before);
    expect(
      await count(sql.unsafe`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'`),
    ).toBe(schemas);
  });

  test('refuses an unknown tier and an empty name', async () => {
    await expect(
      createTenant(db.lifecycle, { slug: 'tiered', name: 'T', tier: 'gold' }),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'Invalid tier "gold": it must be one of starter, professional, enterprise.',
    });
    await expect(
      createTenant(db.lifecycle, { slug: 'nameless', name: '   ' }),
    ).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    expect(await footprint('tiered')).toEqual({ rows: 0, schemas: 0, roles: 0 });
  });

  test('refuses a duplicate slug with CONFLICT and leaves no schema or role behind', async () => {
    await createTenant(db.lifecycle, { slug: 'dupe-co', name: 'First' });
    const schemasBefore = await count(
      sql.unsafe`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'`,
    );
    const id = randomUUID();
    await expect(
      createTenant(db.lifecycle, { id, slug: 'dupe-co', name: 'Second' }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'A tenant with slug "dupe-co" already exists.',
    });
    expect(
      await count(sql.unsafe`SELECT count(*) FROM public.tenants WHERE slug = 'dupe-co'`),
    ).toBe(1);
    expect(
      await count(sql.unsafe`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'`),
    ).toBe(schemasBefore);
    expect(await footprint('dupe-co', schemaNameFor(id))).toEqual({
      rows: 1,
      schemas: 0,
      roles: 0,
    });
  });
});

test('tenants created concurrently all succeed, each with its grants', async () => {
  const slugs = Array.from({ length: 12 }, (_, i) => `parallel-${i}`);
  const created = await Promise.all(
    slugs.map((slug) => createTenant(db.lifecycle, { slug, name: slug })),
  );
  expect(created.map((tenant) => tenant.slug)).toEqual(slugs);
  const granted = await db.pool.oneFirst(sql.unsafe`
    SELECT count(*) FROM unnest(${sql.array(
      created.map((tenant) => tenant.schemaName),
      'text',
    )}::text[]) AS r(name)
    WHERE has_table_privilege(r.name, 'public.audit_logs', 'SELECT')`);
  expect(granted).toBe(12);
});

test('refuses an id that is already taken, and one that is not a UUID', async () => {
  const first = await createTenant(db.lifecycle, { slug: 'id-first', name: 'First' });
  await expect(
    createTenant(db.lifecycle, { id: first.id, slug: 'id-second', name: 'Second' }),
  ).rejects.toMatchObject({
    code: 'CONFLICT',
    message: `A tenant with id ${first.id} already exists.`,
  });
  await expect(
    createTenant(db.lifecycle, { id: 'not-a-uuid', slug: 'id-third', name: 'Third' }),
  ).rejects.toMatchObject({
    code: 'BAD_USER_INPUT',
    message: 'Invalid id "not-a-uuid": it must be a UUID.',
  });
  expect(await footprint('id-second')).toEqual({ rows: 0, schemas: 0, roles: 0 });
});

describe('finding and listing tenants', () => {
  test('get by slug or id; an unknown slug is NOT_FOUND', async () => {
    const created = await createTenant(db.lifecycle, { slug: 'findable', name: 'Findable' });
    expect((await getTenant(db.pool, 'findable')).id).toBe(created.id);
    expect((await getTenant(db.pool, created.id)).slug).toBe('findable');
    await expect(getTenant(db.pool, 'nobody-here')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'No tenant "nobody-here".',
    });
  });

  test('list shows live tenants with their schema version; deleted ones on request', async () => {
    await createTenant(db.lifecycle, { slug: 'listed', name: 'Listed' });
    const gone = await createTenant(db.lifecycle, { slug: 'listed-gone', name: 'Gone' });
    await deleteTenant(db.lifecycle, gone.slug);
    const live = await listTenants(db.pool);
    expect(live.map((tenant) => tenant.slug)).toContain('listed');
    expect(live.map((tenant) => tenant.slug)).not.toContain('listed-gone');
    const all = await listTenants(db.pool, { includeDeleted: true });
    const entry = all.find((tenant) => tenant.slug === 'listed-gone');
    expect(entry?.deletedAt).toBeInstanceOf(Date);
    expect(entry?.schemaVersion).toBe(db.migrations.tenant.at(-1)!.version);
  });
});

describe('delete, restore and purge', () => {
  test('soft delete keeps the schema; restore brings the tenant back', async () => {
    const tenant = await createTenant(db.lifecycle, { slug: 'comeback', name: 'Comeback' });
    const deleted = await deleteTenant(db.lifecycle, 'comeback');
    expect(deleted.deletedAt).toBeInstanceOf(Date);
    expect(await footprint('comeback', tenant.schemaName)).toEqual({
      rows: 1,
      schemas: 1,
      roles: 1,
    });
    await expect(deleteTenant(db.lifecycle, 'comeback')).rejects.toMatchObject({
      code: 'CONFLICT',
    });

    const restored = await restoreTenant(db.lifecycle, 'comeback');
    expect(restored.deletedAt).toBeNull();
    await expect(restoreTenant(db.lifecycle, 'comeback')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: 'Tenant "comeback" is not deleted.',
    });
  });

  test('purge refuses a live tenant and one inside the retention period, unless forced', async () => {
    const tenant = await createTenant(db.lifecycle, { slug: 'purgeable', name: 'Purgeable' });
    await expect(purgeTenant(db.lifecycle, 'purgeable')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('is not deleted'),
    });
    await deleteTenant(db.lifecycle, 'purgeable');
    await expect(purgeTenant(db.lifecycle, 'purgeable')).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('is retained until'),
    });
    expect(await footprint('purgeable', tenant.schemaName)).toEqual({
      rows: 1,
      schemas: 1,
      roles: 1,
    });

    await purgeTenant(db.lifecycle, 'purgeable', { force: true });
    expect(await footprint('purgeable', tenant.schemaName)).toEqual({
      rows: 0,
      schemas: 0,
      roles: 0,
    });
    const audit = await db.pool.anyFirst(sql.unsafe`
      SELECT action FROM public.audit_logs WHERE tenant_id = ${tenant.id} ORDER BY created_at, action`);
    expect(audit).toEqual(['tenant.created', 'tenant.deleted', 'tenant.purged']);
  });

  test('purge after the retention period needs no force', async () => {
    const tenant = await createTenant(db.lifecycle, { slug: 'long-gone', name: 'Long Gone' });
    await deleteTenant(db.lifecycle, 'long-gone');
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET deleted_at = now() - interval '31 days' WHERE id = ${tenant.id}`);
    await purgeTenant(db.lifecycle, 'long-gone');
    expect(await footprint('long-gone', tenant.schemaName)).toEqual({
      rows: 0,
      schemas: 0,
      roles: 0,
    });
  });
});

test('list_tenant_schemas() reports each tenant with its schema, tables and size', async () => {
  const tenant = await createTenant(db.lifecycle, { slug: 'measured', name: 'Measured' });
  const row = await db.pool.one(sql.unsafe`
    SELECT slug, schema_name, schema_exists, table_count, size_bytes > 0 AS has_size, deleted_at
    FROM public.list_tenant_schemas() WHERE tenant_id = ${tenant.id}`);
  expect(row).toEqual({
    slug: 'measured',
    schema_name: tenant.schemaName,
    schema_exists: true,
    table_count: 11,
    has_size: true,
    deleted_at: null,
  });
  // A schema dropped by hand shows up as missing rather than vanishing from the list.
  await db.pool.query(sql.unsafe`DROP SCHEMA ${sql.identifier([tenant.schemaName])} CASCADE`);
  const missing = await db.pool.one(sql.unsafe`
    SELECT schema_exists, table_count, size_bytes FROM public.list_tenant_schemas() WHERE tenant_id = ${tenant.id}`);
  expect(missing).toEqual({ schema_exists: false, table_count: 0, size_bytes: 0 });
});
