/**
 * The operators' side of `capliquify`: suspending and reactivating tenants, and platform keys
 * that work on the platform fields. Runs the real executable against a real database.
 */
import { sql } from 'slonik';
import { z } from 'zod';
import { hashApiKey } from '../src/auth/api-key-format.js';
import { findKeyByHash } from '../src/auth/api-keys.js';
import { createTenant } from '../src/tenants/lifecycle.js';
import { PlatformTenantSlugsDocument, ViewerDocument } from './generated/graphql.js';
import { failure, firstError, startApi, tenantWithKeys, type Api } from './support/api.js';
import { runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let api: Api;
let env: Record<string, string>;
const cli = (...args: string[]) => runCli(args, env);

const count = (table: 'api_keys' | 'audit_logs') =>
  db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM ${sql.identifier(['public', table])}`);

const statusOf = (slug: string) =>
  db.pool.oneFirst(sql.type(z.object({ status: z.string() }))`
    SELECT subscription_status::text AS status FROM public.tenants WHERE slug = ${slug}`);

beforeAll(async () => {
  db = await createTestDatabase();
  env = { DATABASE_URL: db.url, API_KEY_CACHE_TTL_MS: '15000' };
  api = await startApi(db);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('capliquify tenants suspend and reactivate', () => {
  test('suspend prints a line, refuses the tenant, and audits the reason', async () => {
    const acme = await tenantWithKeys(db, 'acme');
    expect(await cli('tenants', 'suspend', 'acme', '--reason', '  unpaid since March ')).toEqual({
      code: 0,
      stdout:
        'Suspended tenant acme: running servers refuse its keys and sessions within 15 s; reactivate it with `capliquify tenants reactivate acme`.\n',
      stderr: '',
    });
    expect(await statusOf('acme')).toBe('suspended');
    expect(firstError(await failure(api.client(acme.key), ViewerDocument))).toEqual({
      status: 403,
      code: 'TENANT_SUSPENDED',
      message: 'This tenant is suspended.',
    });
    expect(
      await db.pool.one(sql.unsafe`
        SELECT actor, severity::text, changes, success FROM public.audit_logs
        WHERE action = 'tenant.suspended' AND tenant_id = ${acme.id}`),
    ).toEqual({
      actor: 'cli',
      severity: 'warning',
      changes: { from: 'trial', reason: 'unpaid since March' },
      success: true,
    });

    expect(await cli('tenants', 'reactivate', 'acme')).toEqual({
      code: 0,
      stdout: 'Reactivated tenant acme: its status is trial.\n',
      stderr: '',
    });
    expect(await statusOf('acme')).toBe('trial');
    expect((await api.client(acme.key).request(ViewerDocument)).viewer.tenant).toMatchObject({
      status: 'TRIAL',
    });
  });

  test('without a reason; a tenant whose trial has ended comes back active', async () => {
    const lapsed = await createTenant(db.lifecycle, { slug: 'lapsed', name: 'Lapsed Ltd' });
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET trial_ends_at = now() - interval '1 day' WHERE id = ${lapsed.id}`);
    expect((await cli('tenants', 'suspend', 'lapsed')).code).toBe(0);
    expect(await cli('tenants', 'reactivate', 'lapsed')).toEqual({
      code: 0,
      stdout: 'Reactivated tenant lapsed: its status is active.\n',
      stderr: '',
    });
  });

  test.each([
    ['an unknown tenant', ['tenants', 'suspend', 'nope'], 'capliquify: No tenant "nope".\n'],
    [
      'reactivate of an unknown tenant',
      ['tenants', 'reactivate', 'nope'],
      'capliquify: No tenant "nope".\n',
    ],
    [
      'reactivate of a tenant that is not suspended',
      ['tenants', 'reactivate', 'lapsed'],
      'capliquify: Tenant "lapsed" is not suspended (its status is active).\n',
    ],
    [
      'a blank reason',
      ['tenants', 'suspend', 'lapsed', '--reason', ' '],
      'capliquify: Invalid reason: it must be 1 to 500 characters.\n',
    ],
    [
      'a reason over 500 characters',
      ['tenants', 'suspend', 'lapsed', '--reason', 'x'.repeat(501)],
      'capliquify: Invalid reason: it must be 1 to 500 characters.\n',
    ],
  ])('%s: a user error exits 1 with one line and changes nothing', async (_name, args, stderr) => {
    const audited = await count('audit_logs');
    expect(await cli(...args)).toEqual({ code: 1, stdout: '', stderr });
    expect(await statusOf('lapsed')).toBe('active');
    expect(await count('audit_logs')).toBe(audited);
  });

  test('suspending twice, or a deleted tenant, is a user error', async () => {
    await createTenant(db.lifecycle, { slug: 'twice', name: 'Twice Ltd' });
    expect((await cli('tenants', 'suspend', 'twice')).code).toBe(0);
    expect(await cli('tenants', 'suspend', 'twice')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'capliquify: Tenant "twice" is already suspended.\n',
    });
    expect((await cli('tenants', 'delete', 'twice')).code).toBe(0);
    expect(await cli('tenants', 'reactivate', 'twice')).toEqual({
      code: 1,
      stdout: '',
      stderr: 'capliquify: Tenant "twice" is deleted: restore it first, then reactivate it.\n',
    });
  });
});

describe('capliquify keys --platform', () => {
  test('keys create --platform prints a key that works on the platform fields', async () => {
    const created = await cli('keys', 'create', '--platform', '--name', 'ops console');
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^cq_live_[0-9A-Za-z]{28}$/);
    const found = await findKeyByHash(db.pool, hashApiKey(key));
    expect(found).toMatchObject({ tenant_id: null, scopes: ['platform'], revoked_at: null });
    expect(created.stderr).toBe(
      `Created platform key ${found!.id}: it may use every platform field. Store it now: it is not shown again.\n`,
    );

    const { tenants } = await api
      .client(key)
      .request(PlatformTenantSlugsDocument, { filter: { includeDeleted: true } });
    expect(tenants.edges.map((edge) => edge.node.slug)).toEqual(
      expect.arrayContaining(['acme', 'lapsed', 'twice']),
    );
    // A platform key has no tenant: tenant fields are not for it.
    expect(firstError(await failure(api.client(key), ViewerDocument))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    });

    const listed = await cli('keys', 'list', '--platform');
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^ID\s+NAME\s+PREFIX\s+SCOPES\s+CREATED\s+LAST USED\s+EXPIRES\s+REVOKED$/,
    );
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/).slice(0, 4))).toEqual([
      [found!.id, 'ops console', key.slice(0, 14), 'platform'],
    ]);
    expect(listed.stdout).not.toContain(key);
    const json = JSON.parse((await cli('keys', 'list', '--platform', '--json')).stdout);
    expect(json).toEqual([expect.objectContaining({ id: found!.id, tenantId: null })]);
    // A tenant's list holds its own keys only.
    const tenantKeys = JSON.parse((await cli('keys', 'list', '--tenant', 'acme', '--json')).stdout);
    expect(tenantKeys.map((record: { tenantId: string }) => record.tenantId)).not.toContain(null);
  });

  test('a tenant key is still created with --tenant', async () => {
    const created = await cli(
      'keys',
      'create',
      '--tenant',
      'acme',
      '--name',
      'ERP',
      '--scopes',
      'write',
    );
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/^Created key [0-9a-f-]{36} \(write\) for acme\./);
  });

  test.each([
    [
      ['keys', 'create', '--platform', '--tenant', 'acme', '--name', 'x'],
      /option '--platform' cannot be used with option '--tenant <slug>'/,
    ],
    [
      ['keys', 'create', '--platform', '--scopes', 'write', '--name', 'x'],
      /option '--platform' cannot be used with option '--scopes <scopes>'/,
    ],
    [['keys', 'create', '--name', 'x'], /one of '--tenant <slug>' or '--platform' is required/],
    [['keys', 'create', '--platform'], /required option '--name <name>' not specified/],
    [
      ['keys', 'list', '--platform', '--tenant', 'acme'],
      /option '--platform' cannot be used with option '--tenant <slug>'/,
    ],
    [['keys', 'list'], /one of '--tenant <slug>' or '--platform' is required/],
    [['tenants', 'suspend'], /missing required argument 'slug'/],
    [['tenants', 'reactivate', 'acme', 'extra'], /too many arguments/],
    [['tenants', 'suspend', 'acme', '--why', 'x'], /unknown option '--why'/],
  ])('a usage error exits 2 and creates nothing: %j', async (args, message) => {
    const keys = await count('api_keys');
    const result = await cli(...args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(await count('api_keys')).toBe(keys);
  });
});
