/**
 * Tenant roles read their platform rows through one group role (sql/public/0008), so provisioning
 * grows no catalog row shared by all tenants: the ACL of every object outside the tenant schemas
 * is the same after the 50th tenant as after the first. And a database whose tenants were
 * provisioned the old way (a grant per tenant role on each platform table) moves to the group.
 */
import { randomUUID } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { loadMigrations, type MigrationSet } from '../src/db/migrations/files.js';
import {
  applyTenantFiles,
  migrate,
  registerTenantFiles,
  rollback,
} from '../src/db/migrations/runner.js';
import { withTenant } from '../src/db/tenant-transaction.js';
import { createTenant, type Tenant } from '../src/tenants/lifecycle.js';
import { schemaNameFor, type TenantRef } from '../src/tenants/names.js';
import { sharedAcls } from './support/catalog.js';
import { createTestDatabase, sqlDir, type TestDatabase } from './support/database.js';
import { copySqlDir } from './support/sql-dir.js';

const TENANT_ROLE = /tenant_[0-9a-f]{32}/;
const Problem = z.object({ problem: z.string(), role_name: z.string(), object_name: z.string() });
const problems = (db: CommonQueryMethods) =>
  db.any(sql.type(Problem)`
    SELECT problem, role_name, object_name FROM public.verify_tenant_isolation()`);
const groupRole = (db: CommonQueryMethods) =>
  db.oneFirst(
    sql.type(z.object({ name: z.string() }))`SELECT public.tenant_group_role()::text AS name`,
  );

/** What a tenant sees of the platform tables through its own transaction: its own row only. */
const visiblePlatformRows = (pool: DatabasePool, tenant: TenantRef) =>
  withTenant(pool, tenant, { readOnly: true }, (tx) =>
    tx.one(sql.type(z.object({ tenants: z.number(), ids: z.array(z.string()) }))`
      SELECT count(*)::int AS tenants, array_agg(id::text) AS ids FROM public.tenants`),
  );

describe('provisioning grows no shared catalog row', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('the ACL of every object outside the tenant schemas is identical after tenant 1 and tenant 50', async () => {
    const first = await createTenant(db.lifecycle, { slug: 'tenant-1', name: 'Tenant 1' });
    const afterFirst = await sharedAcls(db.pool);
    const tenants: Tenant[] = [first];
    for (let n = 2; n <= 50; n += 1) {
      tenants.push(await createTenant(db.lifecycle, { slug: `tenant-${n}`, name: `Tenant ${n}` }));
    }
    const afterFiftieth = await sharedAcls(db.pool);

    expect(afterFirst.length).toBeGreaterThan(1000);
    expect(afterFiftieth).toEqual(afterFirst);
    // Not one shared ACL names a tenant role: they name the group.
    expect(afterFiftieth.filter((line) => TENANT_ROLE.test(line))).toEqual([]);
    const group = await groupRole(db.pool);
    expect(afterFiftieth.filter((line) => line.includes(group)).sort()).toEqual(
      ['api_keys', 'audit_logs', 'subscriptions', 'tenants', 'usage_metrics', 'users'].map(
        (table) => expect.stringMatching(new RegExp(`^relation ${table} .*${group}=r/`)),
      ),
    );

    // Each tenant role's one membership is the group, and the isolation check accepts it.
    // (From PostgreSQL 16 on, its other member is the creator role that grants it, with ADMIN
    // OPTION: sql/public/0009.)
    const members = await db.pool.any(
      sql.type(z.object({ member: z.string(), admin_option: z.boolean() }))`
        SELECT m.member::regrole::text AS member, m.admin_option FROM pg_auth_members m
        WHERE m.roleid = public.tenant_group_role()::regrole ORDER BY 1`,
    );
    expect(members.filter((m) => TENANT_ROLE.test(m.member))).toEqual(
      tenants
        .map((tenant) => ({ member: tenant.schemaName, admin_option: false }))
        .sort((a, b) => a.member.localeCompare(b.member)),
    );
    const modern = await db.pool.oneFirst(
      sql.type(z.object({ modern: z.boolean() }))`
        SELECT current_setting('server_version_num')::int >= 160000 AS modern`,
    );
    expect(members.filter((m) => !TENANT_ROLE.test(m.member))).toEqual(
      modern
        ? [
            {
              member: expect.stringMatching(/^capliquify_creator_[0-9a-f]{12}_1$/),
              admin_option: true,
            },
          ]
        : [],
    );
    expect(await problems(db.pool)).toEqual([]);

    // Row-level security still gives each tenant its own platform row, through the group.
    for (const tenant of [first, tenants[49]!]) {
      expect(await visiblePlatformRows(db.pool, tenant)).toEqual({ tenants: 1, ids: [tenant.id] });
    }
    // The group on its own reads nothing: the policies want the tenant's own role.
    await db.pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`SELECT set_config('app.tenant_id', ${first.id}, true)`);
      await tx.query(sql.unsafe`SELECT set_config('role', ${group}, true)`);
      expect(await tx.oneFirst(sql.unsafe`SELECT count(*)::int FROM public.tenants`)).toBe(0);
    });
  });

  test.each([
    {
      name: 'the group granted a table without row-level security',
      change: (group: string) =>
        sql.unsafe`GRANT SELECT ON public.stripe_events TO ${sql.identifier([group])}`,
      undo: (group: string) =>
        sql.unsafe`REVOKE SELECT ON public.stripe_events FROM ${sql.identifier([group])}`,
      expected: (group: string) => [
        { problem: 'foreign_table_grant', role_name: group, object_name: 'stripe_events' },
      ],
    },
    {
      name: 'the group made a member of another role',
      change: (group: string) => sql.unsafe`GRANT pg_read_all_data TO ${sql.identifier([group])}`,
      undo: (group: string) => sql.unsafe`REVOKE pg_read_all_data FROM ${sql.identifier([group])}`,
      expected: (group: string) => [
        { problem: 'role_membership', role_name: group, object_name: 'pg_read_all_data' },
      ],
    },
    {
      name: 'the group allowed to bypass row-level security',
      change: (group: string) => sql.unsafe`ALTER ROLE ${sql.identifier([group])} BYPASSRLS`,
      undo: (group: string) => sql.unsafe`ALTER ROLE ${sql.identifier([group])} NOBYPASSRLS`,
      expected: (group: string) => [
        { problem: 'role_attribute', role_name: group, object_name: group },
      ],
    },
  ])('verify_tenant_isolation() reports $name', async ({ change, undo, expected }) => {
    const group = await groupRole(db.pool);
    await db.pool.query(change(group));
    try {
      expect(await problems(db.pool)).toEqual(expected(group));
    } finally {
      await db.pool.query(undo(group));
    }
    expect(await problems(db.pool)).toEqual([]);
  });

  test('verify_tenant_isolation() reports a tenant role that may administer the group', async () => {
    const tenant = await createTenant(db.lifecycle, { slug: 'tenant-admin', name: 'Admin' });
    const role = sql.identifier([tenant.schemaName]);
    const group = sql.identifier([await groupRole(db.pool)]);
    await db.pool.query(sql.unsafe`GRANT ${group} TO ${role} WITH ADMIN OPTION`);
    try {
      expect(await problems(db.pool)).toEqual([
        {
          problem: 'role_membership',
          role_name: tenant.schemaName,
          object_name: await groupRole(db.pool),
        },
      ]);
    } finally {
      await db.pool.query(sql.unsafe`REVOKE ADMIN OPTION FOR ${group} FROM ${role}`);
    }
    expect(await problems(db.pool)).toEqual([]);
  });
});

describe('a database provisioned the old way moves to the group', () => {
  let db: TestDatabase;
  let sqlCopy: string;
  let before: MigrationSet;
  let after: MigrationSet;
  const old: TenantRef[] = [];

  /** Provisioning as it was before 0008: a SELECT grant per tenant role on each platform table. */
  async function provisionTheOldWay(slug: string): Promise<TenantRef> {
    const id = randomUUID();
    const tenant = { id, schemaName: schemaNameFor(id) };
    const ident = sql.identifier([tenant.schemaName]);
    await db.pool.transaction(async (tx) => {
      await tx.query(sql.unsafe`
        INSERT INTO public.tenants (id, slug, name, schema_name) VALUES (${id}, ${slug}, ${slug}, ${tenant.schemaName})`);
      await tx.query(sql.unsafe`CREATE ROLE ${ident} NOLOGIN NOINHERIT`);
      await tx.query(sql.unsafe`GRANT ${ident} TO CURRENT_USER`);
      await tx.query(sql.unsafe`CREATE SCHEMA ${ident}`);
      await tx.query(sql.unsafe`GRANT USAGE ON SCHEMA ${ident} TO ${ident}`);
      await tx.query(sql.unsafe`
        ALTER DEFAULT PRIVILEGES IN SCHEMA ${ident} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${ident}`);
      await tx.query(sql.unsafe`
        ALTER DEFAULT PRIVILEGES IN SCHEMA ${ident} GRANT USAGE, SELECT ON SEQUENCES TO ${ident}`);
      const version = await applyTenantFiles(tx, tenant, before.tenant, 0);
      await registerTenantFiles(tx, before.tenant);
      await tx.query(sql.unsafe`
        INSERT INTO public.tenant_migration_state (tenant_id, version) VALUES (${id}, ${version})`);
      await tx.query(sql.unsafe`
        INSERT INTO ${sql.identifier([tenant.schemaName, 'companies'])} (name) VALUES (${slug})`);
      await tx.query(sql.unsafe`SELECT public.grant_platform_reads(${tenant.schemaName})`);
    });
    return tenant;
  }

  // Before 0008 the check knows no group, so it also reports the memberships of tenant roles that
  // other test databases of this cluster put in their own groups: look at this database's only.
  const problemsOfOurRoles = async () => {
    const ours = await db.pool.anyFirst(sql.type(z.object({ schema_name: z.string() }))`
      SELECT schema_name FROM public.tenants`);
    return (await problems(db.pool)).filter((row) => ours.includes(row.role_name));
  };

  const platformGrantees = () =>
    db.pool.anyFirst(sql.type(z.object({ grantee: z.string() }))`
      SELECT DISTINCT a.grantee::regrole::text AS grantee
      FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
      WHERE c.oid = ANY(ARRAY['public.tenants', 'public.users', 'public.subscriptions',
        'public.usage_metrics', 'public.audit_logs', 'public.api_keys']::regclass[])
        AND a.grantee <> c.relowner
      ORDER BY 1`);

  beforeAll(async () => {
    const copy = await copySqlDir();
    sqlCopy = copy.dir;
    // The database as it was before 0008: without it and every public migration after it.
    for (const file of await readdir(path.join(copy.dir, 'public'))) {
      if (Number(file.slice(0, 4)) >= 8) await rm(path.join(copy.dir, 'public', file));
    }
    before = await loadMigrations(copy.dir);
    after = await loadMigrations(sqlDir);
    db = await createTestDatabase({ sqlDir: copy.dir });
    for (const slug of ['old-one', 'old-two', 'old-three'])
      old.push(await provisionTheOldWay(slug));
  });
  afterAll(async () => {
    await db?.drop();
    if (sqlCopy) await rm(path.dirname(sqlCopy), { recursive: true, force: true });
  });

  test('the migration revokes the per-role grants, joins every tenant role to the group, and isolation holds', async () => {
    expect(await platformGrantees()).toEqual(old.map((tenant) => tenant.schemaName).sort());
    expect(await problemsOfOurRoles()).toEqual([]);

    const summary = await migrate(db.pool, after);
    expect(summary.publicApplied[0]).toBe('sql/public/0008_tenant_group.sql');

    const group = await groupRole(db.pool);
    expect(await platformGrantees()).toEqual([group]);
    expect((await sharedAcls(db.pool)).filter((line) => TENANT_ROLE.test(line))).toEqual([]);
    expect(await problems(db.pool)).toEqual([]);
    for (const tenant of old) {
      expect(await visiblePlatformRows(db.pool, tenant)).toEqual({ tenants: 1, ids: [tenant.id] });
    }
    // Still no reading across schemas.
    await expect(
      withTenant(db.pool, old[0]!, { readOnly: true }, (tx) =>
        tx.query(
          sql.unsafe`SELECT count(*) FROM ${sql.identifier([old[1]!.schemaName, 'products'])}`,
        ),
      ),
    ).rejects.toMatchObject({ code: '42501' });

    // A tenant provisioned now joins the same group and sees only its own row too.
    const fresh = await createTenant(
      { ...db.lifecycle, migrations: after },
      { slug: 'new-one', name: 'New' },
    );
    expect(await visiblePlatformRows(db.pool, fresh)).toEqual({ tenants: 1, ids: [fresh.id] });
    expect(await platformGrantees()).toEqual([group]);
  });

  test('rolling 0008 back restores the per-role grants, and migrating again removes them', async () => {
    // The public migrations after 0008 first, then 0008.
    let rolledBack: string | undefined;
    while (rolledBack !== 'sql/public/0008_tenant_group.sql') {
      ({ rolledBack } = await rollback(db.pool, after, { scope: 'public' }));
      expect(rolledBack).toMatch(/^sql\/public\/\d{4}_/);
    }
    const tenants = await db.pool.anyFirst(sql.type(z.object({ schema_name: z.string() }))`
      SELECT schema_name FROM public.tenants ORDER BY schema_name`);
    expect(await platformGrantees()).toEqual([...tenants]);
    expect(await problemsOfOurRoles()).toEqual([]);
    for (const tenant of old) {
      expect(await visiblePlatformRows(db.pool, tenant)).toEqual({ tenants: 1, ids: [tenant.id] });
    }

    await migrate(db.pool, after);
    expect(await platformGrantees()).toEqual([await groupRole(db.pool)]);
    expect(await problems(db.pool)).toEqual([]);
  });
});
