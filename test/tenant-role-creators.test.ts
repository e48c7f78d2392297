/**
 * Tenant roles are created by creator roles that each administer a bounded number of them
 * (sql/public/0009), so no role's membership list, which PostgreSQL 16+ walks on every GRANT,
 * grows with the number of tenants. Run here as production runs: a login role with CREATEROLE
 * that owns its database and is not a superuser.
 */
import { randomBytes } from 'node:crypto';
import { sql, type CommonQueryMethods, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { defaultPoolSettings } from '../src/config.js';
import { loadMigrations, type MigrationSet } from '../src/db/migrations/files.js';
import { migrate } from '../src/db/migrations/runner.js';
import { createDatabasePool } from '../src/db/pool.js';
import { withTenant } from '../src/db/tenant-transaction.js';
import {
  createTenant,
  deleteTenant,
  purgeTenant,
  type LifecycleContext,
  type Tenant,
} from '../src/tenants/lifecycle.js';
import { sharedAcls } from './support/catalog.js';
import { databaseUrl, sqlDir, withAdmin } from './support/database.js';

const TENANT_ROLE = /tenant_[0-9a-f]{32}/;
const PER_CREATOR = 3;

const Membership = z.object({
  role: z.string(),
  member: z.string(),
  admin_option: z.boolean(),
  inherit_option: z.boolean(),
  set_option: z.boolean(),
});

/**
 * Every membership in or of the tenant and creator roles. PostgreSQL 15 has no per-membership
 * options: there, any membership allows SET ROLE, and it is inherited when the member inherits.
 */
const memberships = (db: CommonQueryMethods) =>
  db.any(sql.type(Membership)`
    SELECT m.roleid::regrole::text AS role, m.member::regrole::text AS member, m.admin_option,
      coalesce((to_jsonb(m) ->> 'inherit_option')::boolean, r.rolinherit) AS inherit_option,
      coalesce((to_jsonb(m) ->> 'set_option')::boolean, true) AS set_option
    FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
    WHERE m.roleid::regrole::text ~ '^(tenant_|capliquify_)'
       OR m.member::regrole::text ~ '^(tenant_|capliquify_)'
    ORDER BY 1, 2`);

const serverVersion = (db: CommonQueryMethods) =>
  db.oneFirst(
    sql.type(z.object({ v: z.number() }))`SELECT current_setting('server_version_num')::int AS v`,
  );

describe('tenant roles made by creator roles, as a non-superuser login role', () => {
  const name = `cq_test_${randomBytes(6).toString('hex')}`;
  const login = `${name}_app`;
  const password = randomBytes(12).toString('hex');
  let pool: DatabasePool;
  let migrations: MigrationSet;
  let ctx: LifecycleContext;
  let version: number;
  const tenants: Tenant[] = [];

  beforeAll(async () => {
    await withAdmin(async (admin) => {
      await admin.query(
        sql.unsafe`CREATE ROLE ${sql.identifier([login])} LOGIN CREATEROLE PASSWORD ${sql.literalValue(password)}`,
      );
      await admin.query(
        sql.unsafe`CREATE DATABASE ${sql.identifier([name])} OWNER ${sql.identifier([login])}`,
      );
      await admin.query(sql.unsafe`
        ALTER DATABASE ${sql.identifier([name])} SET capliquify.tenant_roles_per_creator = ${sql.literalValue(String(PER_CREATOR))}`);
    });
    const url = new URL(databaseUrl(name));
    url.username = login;
    url.password = password;
    pool = await createDatabasePool({ ...defaultPoolSettings, url: url.toString() });
    migrations = await loadMigrations(sqlDir);
    await migrate(pool, migrations);
    ctx = { pool, migrations, actor: 'test', retentionDays: 30, roleLogin: false };
    version = await serverVersion(pool);
  });

  afterAll(async () => {
    // Roles belong to the cluster: the tenant roles first, then their creators and the group.
    const roles = await pool.anyFirst(sql.type(z.object({ rolname: z.string() }))`
      SELECT r.rolname FROM pg_roles r
      WHERE r.rolname ~ '^tenant_[0-9a-f]{32}$' AND pg_has_role(r.oid, 'MEMBER')
      UNION ALL
      SELECT rolname FROM pg_roles WHERE starts_with(rolname, public.tenant_role_creator_prefix())
      UNION ALL
      SELECT public.tenant_group_role()::text`);
    await pool.end();
    await withAdmin(async (admin) => {
      await admin.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
      for (const role of [...roles, login]) {
        await admin.query(sql.unsafe`DROP ROLE IF EXISTS ${sql.identifier([role])}`);
      }
    });
  });

  test('each creator administers at most its share of tenant roles; the login role only switches to them', async () => {
    const afterNone = await sharedAcls(pool);
    // Concurrently, so that several provisionings find the creator full at once.
    for (let n = 0; n < 4; n += 1) {
      tenants.push(
        ...(await Promise.all(
          [1, 2].map((k) =>
            createTenant(ctx, { slug: `tenant-${2 * n + k}`, name: `Tenant ${2 * n + k}` }),
          ),
        )),
      );
    }
    const rows = await memberships(pool);
    const creators = await pool.anyFirst(sql.type(z.object({ rolname: z.string() }))`
      SELECT rolname FROM pg_roles WHERE starts_with(rolname, public.tenant_role_creator_prefix())
      ORDER BY length(rolname), rolname`);
    // The creator function belongs to the latest creator, which provisioning acts as.
    expect(
      await pool.oneFirst(sql.type(z.object({ owner: z.string() }))`
        SELECT proowner::regrole::text AS owner FROM pg_proc
        WHERE oid = 'public.tenant_role_as_creator(text, name, boolean)'::regprocedure`),
    ).toBe(creators.at(-1));

    for (const tenant of tenants) {
      const admins = rows.filter((r) => r.role === tenant.schemaName && r.admin_option);
      const loginRow = rows.find((r) => r.role === tenant.schemaName && r.member === login);
      // The login role may SET ROLE to the tenant role and inherits nothing from it.
      expect(loginRow).toMatchObject({ admin_option: false, set_option: true });
      if (version >= 160000) {
        expect(loginRow!.inherit_option).toBe(false);
        // Exactly one creator administers it (the membership PostgreSQL gives a role's creator).
        expect(admins.map((r) => r.member)).toEqual([expect.stringMatching(/_creator_/)]);
      }
    }
    if (version >= 160000) {
      // 8 tenants, 3 per creator (concurrent provisionings may overshoot by the ones in flight).
      expect(creators.length).toBeGreaterThanOrEqual(3);
      for (const creator of creators) {
        const administered = rows.filter(
          (r) => r.member === creator && r.admin_option && TENANT_ROLE.test(r.role),
        );
        expect(administered.length).toBeLessThanOrEqual(PER_CREATOR + 1);
      }
    } else {
      expect(creators).toHaveLength(1);
    }

    // No shared ACL grew or names a tenant role.
    const afterEight = await sharedAcls(pool);
    expect(afterEight.length).toBe(afterNone.length);
    expect(afterEight.filter((line) => TENANT_ROLE.test(line))).toEqual([]);
    const schemaAcl = (lines: string[]) =>
      lines.filter((line) => line.startsWith('schema public '));
    expect(schemaAcl(afterEight)).toEqual(schemaAcl(afterNone));
    expect(await pool.any(sql.unsafe`SELECT * FROM public.verify_tenant_isolation()`)).toEqual([]);

    // Every tenant, whichever creator made it, serves its own requests and sees its own row.
    for (const tenant of tenants) {
      const ids = await withTenant(pool, tenant, { readOnly: true }, (tx) =>
        tx.anyFirst(sql.type(z.object({ id: z.string() }))`SELECT id::text FROM public.tenants`),
      );
      expect(ids).toEqual([tenant.id]);
    }
  });

  test('a tenant role cannot act as a creator', async () => {
    const [a, b] = tenants;
    for (const call of [
      sql.unsafe`SELECT public.tenant_role_as_creator('join_group', ${b!.schemaName}, false)`,
      sql.unsafe`SELECT public.create_tenant_role('tenant_00000000000000000000000000000000', false)`,
    ]) {
      await expect(
        withTenant(pool, a!, { readOnly: false }, (tx) => tx.query(call)),
      ).rejects.toMatchObject({ code: '42501' });
    }
    // And the creator function refuses to touch anything but a tenant role, even for the login role.
    await expect(
      pool.query(sql.unsafe`SELECT public.tenant_role_as_creator('create', ${login}, false)`),
    ).rejects.toMatchObject({ code: '22023' });
  });

  test('a tenant made by an earlier creator is purged with its role', async () => {
    const first = tenants[0]!;
    await deleteTenant(ctx, first.slug);
    await purgeTenant(ctx, first.slug, { force: true });
    const left = await pool.exists(
      sql.unsafe`SELECT 1 FROM pg_roles WHERE rolname = ${first.schemaName}`,
    );
    expect(left).toBe(false);
    expect(await pool.any(sql.unsafe`SELECT * FROM public.verify_tenant_isolation()`)).toEqual([]);
  });
});
