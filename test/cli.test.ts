import { mkdir, mkdtemp, writeFile, chmod, chown } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'slonik';
import { hashApiKey, isWellFormedApiKey } from '../src/auth/api-key-format.js';
import { findKeyByHash } from '../src/auth/api-keys.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { execFile } from 'node:child_process';
import { cliEnv, cliPath, runCli } from './support/cli.js';
import { loadMigrations } from '../src/db/migrations/files.js';
import { createTestDatabase, sqlDir, type TestDatabase } from './support/database.js';
import { copySqlDir, tenantVersions } from './support/sql-dir.js';

// Whatever the project's latest tenant migration is, and the number of one a test adds after it.
const { latest, next } = await tenantVersions();

let db: TestDatabase;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, env);

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  env = { DATABASE_URL: db.url };
});
afterAll(async () => {
  await db?.drop();
});

describe('capliquify, in the order an operator meets it', () => {
  test('a command before the first migration says what to do', async () => {
    const result = await cli('tenants', 'list');
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: 'capliquify: The database has pending migrations: run `capliquify migrate` first.\n',
    });
  });

  test('migrate applies the public migrations and prints a summary', async () => {
    const result = await cli('migrate');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        // The project's own public migrations, in order, whatever their number.
        ...(await loadMigrations(sqlDir)).public.map((file) => `applied ${file.file}`),
        `Tenant schemas at version ${latest}: 0 migrated, 0 already current, 0 failed.`,
        '',
      ].join('\n'),
    );
    expect((await cli('migrate')).stdout).toBe(
      `Tenant schemas at version ${latest}: 0 migrated, 0 already current, 0 failed.\n`,
    );
  });

  test('tenants create prints the tenant as JSON', async () => {
    const result = await cli(
      'tenants',
      'create',
      '--slug',
      'acme',
      '--name',
      'Acme Ltd',
      '--tier',
      'professional',
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const tenant = JSON.parse(result.stdout);
    expect(tenant).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      slug: 'acme',
      name: 'Acme Ltd',
      schemaName: `tenant_${tenant.id.replaceAll('-', '')}`,
      tier: 'professional',
      status: 'trial',
      createdAt: expect.any(String),
      deletedAt: null,
    });
    expect(
      await db.pool.oneFirst(
        sql.unsafe`SELECT count(*) FROM pg_namespace WHERE nspname = ${tenant.schemaName}`,
      ),
    ).toBe(1);
  });

  test.each([
    [
      ['tenants', 'create', '--slug', 'acme', '--name', 'Again'],
      'capliquify: A tenant with slug "acme" already exists.\n',
    ],
    [
      ['tenants', 'create', '--slug', 'Bad Slug', '--name', 'X'],
      'capliquify: Invalid slug "Bad Slug": it may contain only lowercase letters, digits and dashes.\n',
    ],
    [
      ['tenants', 'create', '--slug', 'api', '--name', 'X'],
      'capliquify: Invalid slug "api": it is a reserved word.\n',
    ],
    [['tenants', 'delete', 'nope'], 'capliquify: No tenant "nope".\n'],
    [['tenants', 'restore', 'acme'], 'capliquify: Tenant "acme" is not deleted.\n'],
  ])('a user error exits 1 with one line: %j', async (args, stderr) => {
    expect(await cli(...args)).toEqual({ code: 1, stdout: '', stderr });
  });

  test.each([
    [
      ['tenants', 'create', '--slug', 'x-y-z', '--name', 'X', '--tier', 'gold'],
      /argument 'gold' is invalid/,
    ],
    [['tenants', 'create', '--name', 'X'], /required option '--slug <slug>' not specified/],
    [['tenants', 'frobnicate'], /unknown command 'frobnicate'/],
    [['migrate', '--concurrency', '0'], /must be a whole number from 1 to 64/],
    [['tenants', 'list', '--colour'], /unknown option '--colour'/],
    [[], /Usage: capliquify/],
  ])('a usage error exits 2: %j', async (args, message) => {
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  test('--help exits 0', async () => {
    const result = await cli('tenants', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/create \[options\]/);
  });

  test('tenants list prints a table, or JSON', async () => {
    await cli('tenants', 'create', '--slug', 'beta-co', '--name', 'Beta Co');
    const table = await cli('tenants', 'list');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SLUG\s+NAME\s+TIER\s+STATUS\s+VERSION\s+CREATED\s+DELETED$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/).slice(0, 5))).toEqual([
      ['acme', 'Acme Ltd', 'professional', 'trial', String(latest)],
      ['beta-co', 'Beta Co', 'starter', 'trial', String(latest)],
    ]);
    const json = await cli('tenants', 'list', '--json');
    expect(
      JSON.parse(json.stdout).map((t: { slug: string; schemaVersion: number }) => [
        t.slug,
        t.schemaVersion,
      ]),
    ).toEqual([
      ['acme', latest],
      ['beta-co', latest],
    ]);
  });

  test('keys create prints a working key once; list never shows it; revoke ends it', async () => {
    const created = await cli(
      'keys',
      'create',
      '--tenant',
      'acme',
      '--name',
      'ERP sync',
      '--scopes',
      'read,write',
    );
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^cq_live_[0-9A-Za-z]{28}$/);
    expect(isWellFormedApiKey(key)).toBe(true);
    expect(created.stderr).toMatch(
      /^Created key [0-9a-f-]{36} \(read, write\) for acme\. Store it now: it is not shown again\.\n$/,
    );
    const found = await findKeyByHash(db.pool, hashApiKey(key));
    expect(found).toMatchObject({ slug: 'acme', scopes: ['read', 'write'], revoked_at: null });

    const listed = await cli('keys', 'list', '--tenant', 'acme');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^ID\s+NAME\s+PREFIX\s+SCOPES\s+CREATED\s+LAST USED\s+EXPIRES\s+REVOKED\n/,
    );
    expect(listed.stdout).toContain(key.slice(0, 14));
    expect(listed.stdout).not.toContain(key);
    const json = JSON.parse((await cli('keys', 'list', '--tenant', 'acme', '--json')).stdout);
    expect(json).toEqual([
      expect.objectContaining({ id: found!.id, name: 'ERP sync', prefix: key.slice(0, 14) }),
    ]);
    expect(JSON.stringify(json)).not.toContain(key);

    expect(await cli('keys', 'revoke', found!.id)).toEqual({
      code: 0,
      stdout: `Revoked key ${found!.id} (ERP sync).\n`,
      stderr: '',
    });
    expect((await findKeyByHash(db.pool, hashApiKey(key)))?.revoked_at).toBeInstanceOf(Date);
    expect(await cli('keys', 'revoke', found!.id)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/was already revoked/),
    });
  });

  test.each([
    [['keys', 'create', '--tenant', 'nobody', '--name', 'x'], 'capliquify: No tenant "nobody".\n'],
    [
      ['keys', 'create', '--tenant', 'acme', '--name', 'x', '--scopes', 'read,admin'],
      'capliquify: Invalid scopes (admin): use one or more of read, write.\n',
    ],
    [
      ['keys', 'create', '--tenant', 'acme', '--name', 'x', '--expires', 'someday'],
      'capliquify: Invalid --expires "someday": use a date such as 2027-01-31.\n',
    ],
    [['keys', 'revoke', 'nope'], 'capliquify: No API key nope.\n'],
  ])('keys: a user error exits 1 and creates nothing: %j', async (args, stderr) => {
    const before = await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM public.api_keys`);
    expect(await cli(...args)).toEqual({ code: 1, stdout: '', stderr });
    expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM public.api_keys`)).toBe(before);
  });

  test('delete, restore and purge', async () => {
    const deleted = await cli('tenants', 'delete', 'beta-co');
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(
      /^Deleted tenant beta-co\. Its schema is kept until \d{4}-\d{2}-\d{2}; restore it with `capliquify tenants restore beta-co`\.\n$/,
    );
    expect(JSON.parse((await cli('tenants', 'list', '--json')).stdout)).toHaveLength(1);
    expect(JSON.parse((await cli('tenants', 'list', '--json', '--all')).stdout)).toHaveLength(2);

    expect(await cli('tenants', 'restore', 'beta-co')).toEqual({
      code: 0,
      stdout: 'Restored tenant beta-co.\n',
      stderr: '',
    });
    await cli('tenants', 'delete', 'beta-co');
    const early = await cli('tenants', 'purge', 'beta-co');
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      /^capliquify: Tenant "beta-co" is retained until .* \(30 days after deletion\): purge it then, or force it\.\n$/,
    );

    const schema = JSON.parse((await cli('tenants', 'list', '--json', '--all')).stdout).find(
      (t: { slug: string }) => t.slug === 'beta-co',
    ).schemaName;
    const purged = await cli('tenants', 'purge', 'beta-co', '--force');
    expect(purged).toEqual({
      code: 0,
      stdout: `Purged tenant beta-co: dropped schema and role ${schema}.\n`,
      stderr: '',
    });
    expect(
      await db.pool.oneFirst(
        sql.unsafe`SELECT count(*) FROM pg_namespace WHERE nspname = ${schema}`,
      ),
    ).toBe(0);
    expect(
      await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM pg_roles WHERE rolname = ${schema}`),
    ).toBe(0);
  });

  test('migrate, status and rollback of a new tenant migration', async () => {
    const copy = await copySqlDir();
    await copy.write(
      `tenant/${next}_product_barcode.sql`,
      'ALTER TABLE products ADD COLUMN barcode varchar(32);\n',
    );
    await copy.write(
      `tenant/${next}_product_barcode.down.sql`,
      'ALTER TABLE products DROP COLUMN barcode;\n',
    );
    const withNew = { ...env, SQL_DIR: copy.dir };

    const publicFiles = (await loadMigrations(sqlDir)).public.map((file) =>
      String(file.version).padStart(4, '0'),
    );
    const status = await runCli(['migrate', 'status'], withNew);
    expect(status.stdout).toBe(
      [
        `Public: ${publicFiles.length} applied (${publicFiles.join(', ')}), 0 pending.`,
        `Tenant migrations: latest ${latest + 1}; 1 tenant(s), 1 behind.`,
        `  version ${latest}: 1 tenant(s)`,
        '',
      ].join('\n'),
    );
    const migrated = await runCli(['migrate', '--concurrency', '2'], withNew);
    expect(migrated).toEqual({
      code: 0,
      stdout: `tenants 1/1 (100%)\nTenant schemas at version ${latest + 1}: 1 migrated, 0 already current, 0 failed.\n`,
      stderr: '',
    });
    const json = JSON.parse((await runCli(['migrate', 'status', '--json'], withNew)).stdout);
    expect(json.tenant).toMatchObject({
      latest: latest + 1,
      versions: [{ version: latest + 1, tenants: 1 }],
      behind: 0,
    });

    const rolledBack = await runCli(['migrate', 'rollback'], withNew);
    expect(rolledBack).toEqual({
      code: 0,
      stdout: `tenants 1/1 (100%)\nRolled back sql/tenant/${next}_product_barcode.sql to version ${latest}: 1 schema(s) reverted, 0 failed.\n`,
      stderr: '',
    });
  });

  test('on a terminal, migrate draws a progress bar', async () => {
    const copy = await copySqlDir();
    await copy.write(
      `tenant/${next}_product_barcode.sql`,
      'ALTER TABLE products ADD COLUMN barcode varchar(32);\n',
    );
    await copy.write(
      `tenant/${next}_product_barcode.down.sql`,
      'ALTER TABLE products DROP COLUMN barcode;\n',
    );
    // script(1) runs the command on a pseudo-terminal, as an operator's shell would.
    const command = [process.execPath, cliPath, 'migrate'].map((part) => `'${part}'`).join(' ');
    const output = await new Promise<{ code: number; text: string }>((resolve) => {
      execFile(
        'script',
        ['-qec', command, '/dev/null'],
        { env: cliEnv({ ...env, SQL_DIR: copy.dir }) },
        (error, stdout) => resolve({ code: error ? Number(error.code) : 0, text: stdout }),
      );
    });
    expect(output.code).toBe(0);
    expect(output.text).toMatch(/tenants \[[█░]+\] 1\/1 100%/);
    expect(output.text).toContain(
      `Tenant schemas at version ${latest + 1}: 1 migrated, 0 already current, 0 failed.`,
    );
    expect((await runCli(['migrate', 'rollback'], { ...env, SQL_DIR: copy.dir })).code).toBe(0);
  });

  test('demo creates Sentia Spirits once, with its data', async () => {
    const first = await cli('demo', '--today', '2026-01-31');
    expect(first.code).toBe(0);
    const created = JSON.parse(first.stdout);
    expect(created).toMatchObject({
      slug: 'sentia-spirits',
      name: 'Sentia Spirits',
      created: true,
    });
    expect(created.data.products).toBeGreaterThanOrEqual(45);
    expect(created.data.products).toBeLessThanOrEqual(55);
    expect(created.data.workingCapitalMetrics).toBe(12);
    const channels = await db.pool.anyFirst(sql.unsafe`
      SELECT DISTINCT channel FROM ${sql.identifier([created.schemaName, 'sales'])} ORDER BY 1`);
    expect(channels).toEqual([
      'amazon_uk',
      'amazon_usa',
      'direct',
      'shopify_eu',
      'shopify_uk',
      'shopify_usa',
      'wholesale',
    ]);
    const span = await db.pool.one(sql.unsafe`
      SELECT min(sale_date)::text AS first, max(sale_date)::text AS last, count(DISTINCT sale_date) AS days
      FROM ${sql.identifier([created.schemaName, 'sales'])}`);
    expect(span).toEqual({ first: '2025-02-01', last: '2026-01-31', days: 365 });
    const locations = await db.pool.oneFirst(sql.unsafe`
      SELECT count(DISTINCT location) FROM ${sql.identifier([created.schemaName, 'inventory'])}`);
    expect(locations).toBe(3);

    // Its forecasts come from the engine: one run of every active product, 90 days from the day
    // after the data ends.
    expect(created.forecastRun).toEqual(expect.any(String));
    const forecasts = await db.pool.one(sql.unsafe`
      SELECT count(DISTINCT product_id)::int AS products, count(*)::int AS rows,
        min(forecast_date)::text AS first, array_agg(DISTINCT model_version) AS versions
      FROM ${sql.identifier([created.schemaName, 'forecasts'])} WHERE run_id = ${created.forecastRun}`);
    const active = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM ${sql.identifier([created.schemaName, 'products'])} WHERE is_active`);
    expect(forecasts).toEqual({
      products: active,
      rows: Number(active) * 90,
      first: '2026-02-01',
      versions: ['augurs-0.10'],
    });

    const second = JSON.parse((await cli('demo')).stdout);
    expect(second).toMatchObject({ id: created.id, created: false, data: null });
  });
});

describe('one-line errors when the database cannot be used', () => {
  test('DATABASE_URL refused', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const result = await runCli(['tenants', 'list'], {
      DATABASE_URL: `postgres://app:secret@127.0.0.1:${closed}/app`,
    });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `capliquify: PostgreSQL refused the connection at postgres://app:***@127.0.0.1:${closed}/app: is the server running and listening on that host and port?\n`,
    });
  });

  test('DATABASE_URL with a wrong password', async () => {
    const url = new URL(db.url);
    url.password = 'not-the-password';
    const result = await runCli(['tenants', 'list'], { DATABASE_URL: url.toString() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^capliquify: PostgreSQL rejected the credentials for postgres:\/\/postgres:\*\*\*@.*: check the user and password in DATABASE_URL\.\n$/,
    );
  });

  test('an invalid DATABASE_URL', async () => {
    const result = await runCli(['tenants', 'list'], { DATABASE_URL: 'mysql://localhost/x' });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'capliquify: invalid configuration: DATABASE_URL: must be a postgres:// or postgresql:// URL\n',
    });
  });

  describe('embedded PostgreSQL', () => {
    let base: string;
    beforeAll(async () => {
      base = await mkdtemp(path.join(os.tmpdir(), 'capliquify-cli-'));
      await chmod(base, 0o755);
    });

    test('its port already taken', async () => {
      const taken = net.createServer();
      const port = await new Promise<number>((resolve) =>
        taken.listen(0, '127.0.0.1', () => resolve((taken.address() as net.AddressInfo).port)),
      );
      try {
        const result = await runCli(['migrate', 'status'], {
          EMBEDDED_PG_DIR: path.join(base, 'port-taken'),
          EMBEDDED_PG_PORT: String(port),
        });
        expect(result).toEqual({
          code: 1,
          stdout: '',
          stderr: `capliquify: Port ${port} is already in use: stop the program using it, or set EMBEDDED_PG_PORT to a free port (or DATABASE_URL to an existing server).\n`,
        });
      } finally {
        taken.close();
      }
    }, 60_000);

    test('a data directory that is not a PostgreSQL cluster', async () => {
      const dir = path.join(base, 'not-a-cluster');
      await mkdir(dir);
      await writeFile(path.join(dir, 'notes.txt'), 'hello');
      const result = await runCli(['migrate', 'status'], {
        EMBEDDED_PG_DIR: dir,
        EMBEDDED_PG_PORT: '1',
      });
      expect(result).toEqual({
        code: 1,
        stdout: '',
        stderr: `capliquify: ${dir} is not empty and is not a PostgreSQL data directory: remove it, or set EMBEDDED_PG_DIR to another directory.\n`,
      });
    });

    test('a data directory PostgreSQL cannot read', async () => {
      const dir = path.join(base, 'unreadable');
      const server = await startEmbeddedPostgres({
        dir,
        port: 55_000 + Math.floor(Math.random() * 5000),
      });
      await server.stop();
      if (process.getuid?.() === 0)
        await chown(dir, 0, 0); // PostgreSQL runs as 'postgres' here
      else await chmod(dir, 0o000);
      try {
        const result = await runCli(['migrate', 'status'], {
          EMBEDDED_PG_DIR: dir,
          EMBEDDED_PG_PORT: String(55_000 + Math.floor(Math.random() * 5000)),
        });
        expect(result.code).toBe(1);
        expect(result.stdout).toBe('');
        expect(result.stderr.split('\n')).toHaveLength(2); // one line and its newline
        expect(result.stderr).toMatch(
          /^capliquify: (PostgreSQL cannot use the data directory|Cannot read the embedded PostgreSQL data directory) .*(fix its owner and permissions|fix its permissions)/,
        );
      } finally {
        await chmod(dir, 0o700);
      }
    }, 60_000);
  });
});
