import { sql } from 'slonik';
import { z } from 'zod';
import { loadMigrations, type MigrationSet } from '../src/db/migrations/files.js';
import { migrate, readStatus, rollback } from '../src/db/migrations/runner.js';
import { withTenant } from '../src/db/tenant-transaction.js';
import { createTenant, getTenant, type Tenant } from '../src/tenants/lifecycle.js';
import { describeSchema } from './support/catalog.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { copySqlDir } from './support/sql-dir.js';
import { statementCounter } from './support/statements.js';

const ADD_COLUMN =
  'ALTER TABLE products ADD COLUMN shelf_life_days integer\n  CONSTRAINT products_shelf_life_positive CHECK (shelf_life_days > 0);\n';
const DROP_COLUMN = 'ALTER TABLE products DROP COLUMN shelf_life_days;\n';

const hasShelfLife = async (db: TestDatabase, tenant: Tenant) =>
  db.pool.exists(sql.unsafe`
    SELECT 1 FROM information_schema.columns
    WHERE table_schema = ${tenant.schemaName} AND table_name = 'products' AND column_name = 'shelf_life_days'`);

const versions = async (db: TestDatabase) =>
  db.pool.any(sql.type(z.object({ version: z.number(), tenants: z.number() }))`
    SELECT version, count(*)::int AS tenants FROM public.tenant_migration_state GROUP BY version ORDER BY version`);

describe('fan-out over 200 tenants', () => {
  let db: TestDatabase;
  let tenants: Tenant[];
  let upgraded: MigrationSet;

  beforeAll(async () => {
    db = await createTestDatabase();
    tenants = [];
    for (let i = 0; i < 200; i += 1) {
      tenants.push(
        await createTenant(db.lifecycle, {
          slug: `fan-${String(i).padStart(3, '0')}`,
          name: `Fan ${i}`,
        }),
      );
    }
    const copy = await copySqlDir();
    await copy.write('tenant/0004_product_shelf_life.sql', ADD_COLUMN);
    await copy.write('tenant/0004_product_shelf_life.down.sql', DROP_COLUMN);
    upgraded = await loadMigrations(copy.dir);
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  });

  test('nothing pending costs exactly one query', async () => {
    const counter = statementCounter();
    const counted = await db.openPool({ interceptors: [counter.interceptor] });
    const summary = await migrate(counted, db.migrations);
    expect(summary).toMatchObject({
      publicApplied: [],
      migrated: 0,
      alreadyCurrent: 200,
      failed: [],
    });
    expect(counter.statements).toHaveLength(1);
  });

  test('a damaged schema fails alone; a rerun after the repair finishes it; rollback undoes all', async () => {
    const damaged = tenants[137]!;
    await db.pool.query(sql.unsafe`
      ALTER TABLE ${sql.identifier([damaged.schemaName, 'products'])} RENAME TO products_damaged`);

    const progress: number[] = [];
    const first = await migrate(db.pool, upgraded, {
      concurrency: 4,
      onProgress: ({ done }) => progress.push(done),
    });
    expect(first.migrated).toBe(199);
    expect(first.alreadyCurrent).toBe(0);
    expect(first.failed).toEqual([
      {
        slug: damaged.slug,
        error: expect.stringMatching(
          /0004_product_shelf_life\.sql.*relation "products" does not exist/,
        ),
      },
    ]);
    expect(progress).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await versions(db)).toEqual([
      { version: 3, tenants: 1 },
      { version: 4, tenants: 199 },
    ]);
    expect(await hasShelfLife(db, tenants[0]!)).toBe(true);

    const status = await readStatus(db.pool, upgraded);
    expect(status).toMatchObject({ tenantLatest: 4, tenantsBehind: 1, failureCount: 1 });
    expect(status.failures[0]).toMatchObject({ slug: damaged.slug, version: 3 });

    await db.pool.query(sql.unsafe`
      ALTER TABLE ${sql.identifier([damaged.schemaName, 'products_damaged'])} RENAME TO products`);
    const second = await migrate(db.pool, upgraded, { concurrency: 4 });
    expect(second).toMatchObject({ migrated: 1, alreadyCurrent: 199, failed: [] });
    expect(await versions(db)).toEqual([{ version: 4, tenants: 200 }]);
    expect((await readStatus(db.pool, upgraded)).failureCount).toBe(0);

    // A tenant created now, from all files at once, matches one that was upgraded step by step.
    const fresh = await createTenant(
      { ...db.lifecycle, migrations: upgraded },
      { slug: 'fan-fresh', name: 'Fresh' },
    );
    expect(await describeSchema(db.pool, fresh.schemaName)).toEqual(
      await describeSchema(db.pool, damaged.schemaName),
    );

    const back = await rollback(db.pool, upgraded, { concurrency: 4 });
    expect(back).toMatchObject({
      scope: 'tenant',
      rolledBack: expect.stringContaining('0004_product_shelf_life.sql'),
      toVersion: 3,
      migrated: 201,
      failed: [],
    });
    expect(await versions(db)).toEqual([{ version: 3, tenants: 201 }]);
    expect(await hasShelfLife(db, tenants[0]!)).toBe(false);
    const registry = await db.pool.anyFirst(
      sql.unsafe`SELECT version FROM public.tenant_migrations ORDER BY 1`,
    );
    expect(registry).toEqual([1, 2, 3]);
  }, 120_000);

  test('a run that dies part-way resumes where it stopped', async () => {
    let seen = 0;
    await expect(
      migrate(db.pool, upgraded, {
        concurrency: 2,
        onProgress: () => {
          seen += 1;
          if (seen === 50) throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    const partial = await versions(db);
    const done = partial.find((entry) => entry.version === 4)?.tenants ?? 0;
    expect(done).toBeGreaterThanOrEqual(50);
    expect(done).toBeLessThan(201);

    // Tenants in flight when the run died may still have committed; the rest are resumed.
    const resumed = await migrate(db.pool, upgraded, { concurrency: 4 });
    expect(resumed.migrated).toBeGreaterThan(0);
    expect(resumed.migrated).toBeLessThanOrEqual(201 - done);
    expect(resumed.migrated + resumed.alreadyCurrent).toBe(201);
    expect(await versions(db)).toEqual([{ version: 4, tenants: 201 }]);
  }, 120_000);
});

describe('checks on migration files', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await createTenant(db.lifecycle, { slug: 'checked', name: 'Checked' });
  });
  afterAll(async () => {
    await db?.drop();
  });

  test('an edited, already-applied migration is refused with its file name', async () => {
    const copy = await copySqlDir();
    await copy.write('tenant/0004_product_shelf_life.sql', ADD_COLUMN);
    await migrate(db.pool, await loadMigrations(copy.dir));
    await copy.write('tenant/0004_product_shelf_life.sql', `${ADD_COLUMN}-- an afterthought\n`);
    const edited = await loadMigrations(copy.dir);
    const refusal = {
      code: 'MIGRATION_FAILED',
      message: expect.stringMatching(
        /^sql\/tenant\/0004_product_shelf_life\.sql was edited after it was applied/,
      ),
    };
    await expect(migrate(db.pool, edited)).rejects.toMatchObject(refusal);
    await expect(
      createTenant({ ...db.lifecycle, migrations: edited }, { slug: 'after-edit', name: 'X' }),
    ).rejects.toMatchObject(refusal);
    expect(
      await db.pool.exists(sql.unsafe`SELECT 1 FROM public.tenants WHERE slug = 'after-edit'`),
    ).toBe(false);

    await copy.write('public/0001_platform.sql', '-- rewritten\n');
    await expect(migrate(db.pool, await loadMigrations(copy.dir))).rejects.toMatchObject({
      message: expect.stringMatching(
        /^sql\/public\/0001_platform\.sql was edited after it was applied/,
      ),
    });
  });

  test('a syntax error names the file and line, and the tenant stays at its version', async () => {
    const copy = await copySqlDir();
    await copy.write('tenant/0004_product_shelf_life.sql', ADD_COLUMN);
    await copy.write(
      'tenant/0005_broken.sql',
      '-- a comment\nALTER TABLE products\n  ADD COLUM oops integer;\n',
    );
    const summary = await migrate(db.pool, await loadMigrations(copy.dir));
    expect(summary.failed).toEqual([
      {
        slug: 'checked',
        error: 'sql/tenant/0005_broken.sql line 3: syntax error at or near "integer"',
      },
    ]);
    expect(await versions(db)).toEqual([{ version: 4, tenants: 1 }]);
  });

  test('a public migration is applied once and recorded; rollback uses its down file', async () => {
    const copy = await copySqlDir();
    await copy.write('tenant/0004_product_shelf_life.sql', ADD_COLUMN);
    await copy.write(
      'public/0100_feature_flags.sql',
      'CREATE TABLE public.feature_flags (name text PRIMARY KEY);\n',
    );
    await copy.write('public/0100_feature_flags.down.sql', 'DROP TABLE public.feature_flags;\n');
    const set = await loadMigrations(copy.dir);
    const summary = await migrate(db.pool, set);
    expect(summary.publicApplied).toEqual(['sql/public/0100_feature_flags.sql']);
    expect((await migrate(db.pool, set)).publicApplied).toEqual([]);
    const exists = () =>
      db.pool.exists(
        sql.unsafe`SELECT 1 FROM pg_class WHERE oid = to_regclass('public.feature_flags')`,
      );
    expect(await exists()).toBe(true);
    const back = await rollback(db.pool, set, { scope: 'public' });
    expect(back).toMatchObject({
      scope: 'public',
      rolledBack: 'sql/public/0100_feature_flags.sql',
      // Back to the project's own latest public migration.
      toVersion: db.migrations.public.at(-1)!.version,
    });
    expect(await exists()).toBe(false);
  });

  test("a table added by a later migration is usable by the tenant's role, and no one else's", async () => {
    const copy = await copySqlDir();
    await copy.write('tenant/0004_product_shelf_life.sql', ADD_COLUMN);
    await copy.write(
      'tenant/0005_suppliers.sql',
      'CREATE TABLE suppliers (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text NOT NULL);\n',
    );
    const set = await loadMigrations(copy.dir);
    expect((await migrate(db.pool, set)).failed).toEqual([]);
    const tenant = await getTenant(db.pool, 'checked');
    const names = await withTenant(db.pool, tenant, { readOnly: false }, async (tx) => {
      await tx.query(sql.unsafe`INSERT INTO suppliers (name) VALUES ('Juniper Co')`);
      return tx.anyFirst(sql.unsafe`SELECT name FROM suppliers`);
    });
    expect(names).toEqual(['Juniper Co']);
    expect(
      await db.pool.any(sql.unsafe`SELECT problem FROM public.verify_tenant_isolation()`),
    ).toEqual([]);
    // Put the schema back at version 4 for the tests that follow.
    await withTenant(db.pool, tenant, { readOnly: false }, (tx) =>
      tx.query(sql.unsafe`DELETE FROM suppliers`),
    );
    await db.pool.query(sql.unsafe`DROP TABLE ${sql.identifier([tenant.schemaName, 'suppliers'])}`);
    await db.pool.query(sql.unsafe`UPDATE public.tenant_migration_state SET version = 4`);
    await db.pool.query(sql.unsafe`DELETE FROM public.tenant_migrations WHERE version = 5`);
  });

  test('a migration without a down file cannot be rolled back', async () => {
    const copy = await copySqlDir();
    await copy.write('tenant/0004_product_shelf_life.sql', ADD_COLUMN);
    await expect(rollback(db.pool, await loadMigrations(copy.dir))).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      message: expect.stringContaining('0004_product_shelf_life.sql has no down file'),
    });
    expect(await versions(db)).toEqual([{ version: 4, tenants: 1 }]);
  });

  test('a second run waits for the first one, and gives up after its wait with a clear error', async () => {
    const copy = await copySqlDir();
    await copy.write('tenant/0004_product_shelf_life.sql', ADD_COLUMN);
    await copy.write(
      'public/0100_flags.sql',
      'CREATE TABLE public.flags (name text PRIMARY KEY);\n',
    );
    await copy.write('public/0100_flags.down.sql', 'DROP TABLE public.flags;\n');
    const set = await loadMigrations(copy.dir);
    const holder = await db.openPool({ maxSize: 1 });
    await holder.connect(async (connection) => {
      await connection.query(sql.unsafe`SELECT pg_advisory_lock(hashtext('capliquify.migrate'))`);
      await expect(migrate(db.pool, set, { lockWaitMs: 300 })).rejects.toMatchObject({
        code: 'MIGRATION_FAILED',
        message:
          'Another migration run is in progress: wait for it to finish, then run this again.',
      });
      const waiting = migrate(db.pool, set, { lockWaitMs: 10_000 });
      await new Promise((resolve) => setTimeout(resolve, 400));
      await connection.query(sql.unsafe`SELECT pg_advisory_unlock(hashtext('capliquify.migrate'))`);
      expect((await waiting).publicApplied).toEqual(['sql/public/0100_flags.sql']);
    });
    await rollback(db.pool, set, { scope: 'public' });
  });

  test('tenant migrations refuse to run as a role that does not own the tenant schemas', async () => {
    const tenant = await getTenant(db.pool, 'checked');
    const stranger = `stranger_${Date.now()}`;
    const copy = await copySqlDir();
    await copy.write('tenant/0004_product_shelf_life.sql', ADD_COLUMN);
    await copy.write('tenant/0005_more.sql', 'ALTER TABLE products ADD COLUMN more integer;\n');
    await db.pool.query(sql.unsafe`CREATE ROLE ${sql.identifier([stranger])}`);
    await db.pool.query(
      sql.unsafe`ALTER SCHEMA ${sql.identifier([tenant.schemaName])} OWNER TO ${sql.identifier([stranger])}`,
    );
    try {
      await expect(migrate(db.pool, await loadMigrations(copy.dir))).rejects.toMatchObject({
        code: 'MIGRATION_FAILED',
        message: expect.stringMatching(
          new RegExp(
            `^Tenant schemas are owned by ${stranger}, but this run connects as \\w+: run migrations as ${stranger}\\.$`,
          ),
        ),
      });
      expect(await versions(db)).toEqual([{ version: 4, tenants: 1 }]);
    } finally {
      await db.pool.query(
        sql.unsafe`ALTER SCHEMA ${sql.identifier([tenant.schemaName])} OWNER TO CURRENT_USER`,
      );
      await db.pool.query(sql.unsafe`DROP ROLE ${sql.identifier([stranger])}`);
    }
  });

  test('badly named files are refused when loading', async () => {
    const copy = await copySqlDir();
    await copy.write('tenant/2_oops.sql', 'SELECT 1;\n');
    await expect(loadMigrations(copy.dir)).rejects.toMatchObject({
      message: expect.stringContaining(
        'tenant/2_oops.sql: a migration file is named NNNN_lowercase_name.sql',
      ),
    });
  });
});
