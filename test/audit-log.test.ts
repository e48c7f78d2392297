/**
 * The audit trail end to end: every sensitive action that succeeds writes exactly one entry (who,
 * which tenant, what, from where, never a secret), a refused request exactly one failure entry, a
 * rolled-back one none; and auditLogs shows a tenant's ADMIN and OWNER their tenant's entries
 * only, operators every tenant's, a page at a time.
 *
 * (Row-level security on public.audit_logs and the other platform tables a tenant role reads,
 * with app.tenant_id unset and set, is tenant-isolation.test.ts's; it is not repeated here.)
 */
import { randomUUID } from 'node:crypto';
import type { GraphQLClient } from 'graphql-request';
import { sql } from 'slonik';
import { z } from 'zod';
import { createApiKey } from '../src/auth/api-keys.js';
import { encodeCursor } from '../src/graphql/pagination.js';
import {
  createTenant,
  deleteTenant,
  purgeTenant,
  restoreTenant,
  type LifecycleContext,
  type Tenant,
} from '../src/tenants/lifecycle.js';
import {
  AuditLogsDocument,
  CreateApiKeyDocument,
  CreateThenRevokeApiKeyDocument,
  RevokeApiKeyDocument,
  RevokeTwoApiKeysDocument,
  SaveApiCredentialDocument,
  type AuditLogFilter,
  type AuditLogsQuery,
  type AuditLogsQueryVariables,
} from './generated/graphql.js';
import { failure, firstError, startApi, type Api } from './support/api.js';
import { sessionToken } from './support/clerk.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const USER_AGENT = 'audit-test/1.0 (+https://example.com)';
const LOCALHOST = '127.0.0.1';

let db: TestDatabase;
let api: Api;
/** Tenants linked to Clerk organisations org_a and org_b. */
let a: Tenant;
let b: Tenant;
/** A's read-write and read-only API keys. */
let aKey: { id: string; key: string };
let aReadKey: { id: string; key: string };
let platformKey: string;

/** Every secret this file creates: none may ever appear in the audit log. */
const secrets: string[] = [];

type Role = 'owner' | 'admin' | 'member' | 'viewer';

/** A fresh session token for a Clerk user of an organisation (null: none), with a User-Agent. */
const session = (userId: string, orgId: string | null, role: Role = 'admin'): GraphQLClient =>
  api.client(sessionToken({ userId, orgId, role }), { 'user-agent': USER_AGENT });

const withKey = (key: string): GraphQLClient => api.client(key, { 'user-agent': USER_AGENT });

const AuditRow = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  user_id: z.string().nullable(),
  actor: z.string().nullable(),
  action: z.string(),
  resource_type: z.string().nullable(),
  resource_id: z.string().nullable(),
  severity: z.string(),
  changes: z.record(z.string(), z.unknown()).nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  ip_address: z.string().nullable(),
  user_agent: z.string().nullable(),
  success: z.boolean(),
  error_message: z.string().nullable(),
  created_at: z.date(),
});
type AuditRow = z.infer<typeof AuditRow>;

/** Every audit entry, newest first, read as the platform (no row-level security). */
const allAuditRows = () =>
  db.pool.any(sql.type(AuditRow)`
    SELECT id, tenant_id, user_id, actor, action, resource_type, resource_id, severity::text,
      changes, metadata, host(ip_address) AS ip_address, user_agent, success, error_message, created_at
    FROM public.audit_logs ORDER BY created_at DESC, id DESC`);

/** Runs `action` and returns what it returned and the audit entries written meanwhile. */
async function audited<T>(action: () => Promise<T>): Promise<{ result: T; rows: AuditRow[] }> {
  const before = new Set((await allAuditRows()).map((row) => row.id));
  const result = await action();
  const rows = (await allAuditRows()).filter((row) => !before.has(row.id));
  return { result, rows };
}

/** public.users.id of a Clerk user in a tenant (recorded by its first session request). */
const userIdOf = (tenant: Tenant, clerkUserId: string) =>
  db.pool.oneFirst(sql.type(z.object({ id: z.string() }))`
    SELECT id FROM public.users WHERE tenant_id = ${tenant.id} AND clerk_user_id = ${clerkUserId}`);

const keyCount = () =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM public.api_keys`);

const credentialCount = (tenant: Tenant) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM ${sql.identifier([tenant.schemaName, 'api_credentials'])}`);

const isRevoked = (id: string) =>
  db.pool.oneFirst(sql.type(z.object({ revoked: z.boolean() }))`
    SELECT revoked_at IS NOT NULL AS revoked FROM public.api_keys WHERE id = ${id}`);

async function tenantKey(tenant: Tenant, scopes: string[]) {
  const { key, record } = await createApiKey(db.pool, {
    tenantId: tenant.id,
    name: `key ${scopes.join('+')}`,
    scopes,
    actor: 'test',
  });
  secrets.push(key);
  return { id: record.id, key };
}

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db, { platformAdmins: ['user_op'] });
  // Professional: API keys are a Professional feature.
  a = await createTenant(db.lifecycle, {
    slug: 'audit-a',
    name: 'A',
    clerkOrganizationId: 'org_a',
    tier: 'professional',
  });
  b = await createTenant(db.lifecycle, {
    slug: 'audit-b',
    name: 'B',
    clerkOrganizationId: 'org_b',
    tier: 'professional',
  });
  aKey = await tenantKey(a, ['read', 'write']);
  aReadKey = await tenantKey(a, ['read']);
  const platform = await createApiKey(db.pool, { tenantId: null, name: 'ops', actor: 'test' });
  platformKey = platform.key;
  secrets.push(platformKey);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('a sensitive action that succeeds writes exactly one entry', () => {
  test('createApiKey and revokeApiKey by an ADMIN session: the user, tenant, key, IP and user agent', async () => {
    const admin = session('user_admin_a', 'org_a', 'admin');
    const created = await audited(() =>
      admin.request(CreateApiKeyDocument, {
        input: { name: 'ERP sync', scopes: ['READ', 'WRITE'] },
      }),
    );
    const { secret, apiKey } = created.result.createApiKey;
    secrets.push(secret);
    const userId = await userIdOf(a, 'user_admin_a');
    expect(created.rows).toEqual([
      {
        id: expect.any(String),
        tenant_id: a.id,
        user_id: userId,
        actor: 'user:user_admin_a',
        action: 'api_key.created',
        resource_type: 'api_key',
        resource_id: apiKey.id,
        severity: 'info',
        changes: { name: 'ERP sync', scopes: ['read', 'write'], expiresAt: null },
        metadata: null,
        ip_address: LOCALHOST,
        user_agent: USER_AGENT,
        success: true,
        error_message: null,
        created_at: expect.any(Date),
      },
    ]);

    const revoked = await audited(() => admin.request(RevokeApiKeyDocument, { id: apiKey.id }));
    expect(revoked.result.revokeApiKey.revokedAt).not.toBeNull();
    expect(revoked.rows).toEqual([
      expect.objectContaining({
        tenant_id: a.id,
        user_id: userId,
        actor: 'user:user_admin_a',
        action: 'api_key.revoked',
        resource_type: 'api_key',
        resource_id: apiKey.id,
        severity: 'warning',
        ip_address: LOCALHOST,
        user_agent: USER_AGENT,
        success: true,
        error_message: null,
      }),
    ]);
  });

  test('saveApiCredential by an OWNER session: the service, never the credentials', async () => {
    const credentialSecret = 'xero-client-secret-9f8e7d6c5b4a3210';
    secrets.push(credentialSecret, 'A1B2C3D4E5F60718');
    const owner = session('user_owner_a', 'org_a', 'owner');
    const saved = await audited(() =>
      owner.request(SaveApiCredentialDocument, {
        service: 'xero',
        credentials: { client_id: 'A1B2C3D4E5F60718', client_secret: credentialSecret },
      }),
    );
    expect(saved.rows).toEqual([
      expect.objectContaining({
        tenant_id: a.id,
        user_id: await userIdOf(a, 'user_owner_a'),
        actor: 'user:user_owner_a',
        action: 'credential.saved',
        resource_type: 'api_credential',
        resource_id: saved.result.saveApiCredential.id,
        changes: { service: 'xero' },
        ip_address: LOCALHOST,
        user_agent: USER_AGENT,
        success: true,
      }),
    ]);
  });

  test('the tenant lifecycle: created, deleted, restored, purged, each with its actor', async () => {
    const cli: LifecycleContext = { ...db.lifecycle, actor: 'cli' };
    const lifecycleRow = (action: string, tenant: Tenant, actor: string, severity: string) =>
      expect.objectContaining({
        tenant_id: tenant.id,
        user_id: null,
        actor,
        action,
        resource_type: 'tenant',
        resource_id: tenant.id,
        severity,
        ip_address: null,
        user_agent: null,
        success: true,
        error_message: null,
      });

    const created = await audited(() =>
      createTenant(cli, { slug: 'audit-lifecycle', name: 'Lifecycle Ltd', tier: 'professional' }),
    );
    const tenant = created.result;
    expect(created.rows).toEqual([lifecycleRow('tenant.created', tenant, 'cli', 'info')]);
    expect(created.rows[0]!.changes).toEqual({
      slug: 'audit-lifecycle',
      name: 'Lifecycle Ltd',
      tier: 'professional',
      status: 'trial',
      schemaVersion: expect.any(Number),
    });

    const deleted = await audited(() => deleteTenant(db.lifecycle, tenant.id));
    expect(deleted.rows).toEqual([lifecycleRow('tenant.deleted', tenant, 'test', 'warning')]);

    const restored = await audited(() => restoreTenant(cli, tenant.slug));
    expect(restored.rows).toEqual([lifecycleRow('tenant.restored', tenant, 'cli', 'info')]);

    await deleteTenant(cli, tenant.id);
    const purged = await audited(() => purgeTenant(cli, tenant.id, { force: true }));
    expect(purged.rows).toEqual([lifecycleRow('tenant.purged', tenant, 'cli', 'warning')]);
    expect(purged.rows[0]!.changes).toEqual({ slug: 'audit-lifecycle', forced: true });
    // The trail outlives the tenant: its entries are still there after the purge.
    const trail = (await allAuditRows()).filter((row) => row.tenant_id === tenant.id);
    expect(trail.map((row) => row.action).sort()).toEqual([
      'tenant.created',
      'tenant.deleted',
      'tenant.deleted',
      'tenant.purged',
      'tenant.restored',
    ]);
  });
});

describe('a refused sensitive action writes exactly one failure entry and changes nothing', () => {
  type Refusal = {
    name: string;
    caller: () => GraphQLClient;
    actor: () => string;
    clerkUserId: string | null;
    run: (client: GraphQLClient) => ReturnType<typeof failure>;
    action: string;
    resourceType: string;
    resourceId: () => string | null;
    operation: string;
  };
  const createKey = (client: GraphQLClient) =>
    failure(client, CreateApiKeyDocument, { input: { name: 'sneaky', scopes: ['WRITE'] } });
  const revokeKey = (client: GraphQLClient) =>
    failure(client, RevokeApiKeyDocument, { id: aKey.id });
  const saveCredential = (client: GraphQLClient) =>
    failure(client, SaveApiCredentialDocument, {
      service: 'shopify',
      credentials: { token: 'shpat_refused_0123456789' },
    });

  const REFUSALS: Refusal[] = [
    ['MEMBER session', 'createApiKey', createKey, 'api_key.created', 'api_key'] as const,
    ['VIEWER session', 'revokeApiKey', revokeKey, 'api_key.revoked', 'api_key'] as const,
    [
      'MEMBER session',
      'saveApiCredential',
      saveCredential,
      'credential.saved',
      'api_credential',
    ] as const,
    ['read-only key', 'createApiKey', createKey, 'api_key.created', 'api_key'] as const,
    ['read-only key', 'revokeApiKey', revokeKey, 'api_key.revoked', 'api_key'] as const,
    [
      'read-write key',
      'saveApiCredential',
      saveCredential,
      'credential.saved',
      'api_credential',
    ] as const,
  ].map(([who, field, run, action, resourceType]) => {
    const clerkUserId =
      who === 'MEMBER session'
        ? 'user_member_a'
        : who === 'VIEWER session'
          ? 'user_viewer_a'
          : null;
    const role = who === 'MEMBER session' ? 'member' : 'viewer';
    const key = () => (who === 'read-only key' ? aReadKey : aKey);
    return {
      name: `${who} calling ${field}`,
      caller: () => (clerkUserId ? session(clerkUserId, 'org_a', role) : withKey(key().key)),
      actor: () => (clerkUserId ? `user:${clerkUserId}` : `api_key:${key().id}`),
      clerkUserId,
      run,
      action,
      resourceType,
      // The key a refused revoke named; a refused create or save names no resource yet.
      resourceId: () => (field === 'revokeApiKey' ? aKey.id : null),
      operation: `Mutation.${field}`,
    };
  });

  test.each(REFUSALS)('$name', async (refusal) => {
    secrets.push('shpat_refused_0123456789');
    const keysBefore = await keyCount();
    const credentialsBefore = await credentialCount(a);
    const { result, rows } = await audited(() => refusal.run(refusal.caller()));
    const error = firstError(result);
    expect(error).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(error.message).toMatch(/ADMIN/);
    expect(rows).toEqual([
      {
        id: expect.any(String),
        tenant_id: a.id,
        user_id: refusal.clerkUserId ? await userIdOf(a, refusal.clerkUserId) : null,
        actor: refusal.actor(),
        action: refusal.action,
        resource_type: refusal.resourceType,
        resource_id: refusal.resourceId(),
        severity: 'warning',
        changes: null,
        metadata: {
          requestId: result.errors[0]?.extensions.requestId,
          operation: refusal.operation,
        },
        ip_address: LOCALHOST,
        user_agent: USER_AGENT,
        success: false,
        error_message: error.message,
        created_at: expect.any(Date),
      },
    ]);
    expect(await keyCount()).toBe(keysBefore);
    expect(await credentialCount(a)).toBe(credentialsBefore);
    expect(await isRevoked(aKey.id)).toBe(false);
  });

  test('a refused request naming two keys is one entry listing both, and revokes neither', async () => {
    const { result, rows } = await audited(() =>
      failure(session('user_viewer_a', 'org_a', 'viewer'), RevokeTwoApiKeysDocument, {
        first: aKey.id,
        second: aReadKey.id,
      }),
    );
    expect(firstError(result)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(rows.map((row) => [row.action, row.resource_id, row.success])).toEqual([
      ['api_key.revoked', null, false],
    ]);
    expect(rows[0]!.metadata).toEqual({
      requestId: result.errors[0]?.extensions.requestId,
      operation: 'Mutation.revokeApiKey',
      refused: [
        { operation: 'Mutation.revokeApiKey', resourceId: aKey.id },
        { operation: 'Mutation.revokeApiKey', resourceId: aReadKey.id },
      ],
    });
    expect(await isRevoked(aKey.id)).toBe(false);
    expect(await isRevoked(aReadKey.id)).toBe(false);
  });
});

describe('a rolled-back action writes no entry', () => {
  test('createApiKey with a failing revokeApiKey in the same request: no key, no entry', async () => {
    const keysBefore = await keyCount();
    const { result, rows } = await audited(() =>
      failure(session('user_admin_a', 'org_a', 'admin'), CreateThenRevokeApiKeyDocument, {
        input: { name: 'rolled back', scopes: ['READ'] },
        id: randomUUID(),
      }),
    );
    expect(firstError(result)).toMatchObject({ code: 'NOT_FOUND' });
    expect(rows).toEqual([]);
    expect(await keyCount()).toBe(keysBefore);
    const named = await db.pool.exists(sql.unsafe`
      SELECT 1 FROM public.api_keys WHERE name = 'rolled back'`);
    expect(named).toBe(false);
  });

  test.each([
    ['an empty name', { name: ' ' }, 'name'],
    ['a name over 100 characters', { name: 'k'.repeat(101) }, 'name'],
    ['an expiry in the past', { name: 'old', expiresAt: '2020-01-01T00:00:00Z' }, 'expiresAt'],
  ])('createApiKey with %s: BAD_USER_INPUT, no key, no entry', async (_name, input, field) => {
    const keysBefore = await keyCount();
    const { result, rows } = await audited(() =>
      failure(session('user_admin_a', 'org_a', 'admin'), CreateApiKeyDocument, { input }),
    );
    expect(firstError(result).code).toBe('BAD_USER_INPUT');
    expect(result.errors[0]?.extensions.field).toBe(field);
    expect(rows).toEqual([]);
    expect(await keyCount()).toBe(keysBefore);
  });

  test('saveApiCredential with an invalid service: no credential, no entry', async () => {
    const before = await credentialCount(a);
    const { result, rows } = await audited(() =>
      failure(session('user_admin_a', 'org_a', 'admin'), SaveApiCredentialDocument, {
        service: 'Not A Service',
        credentials: { token: 'whatever-0123456789' },
      }),
    );
    expect(firstError(result).code).toBe('BAD_USER_INPUT');
    expect(rows).toEqual([]);
    expect(await credentialCount(a)).toBe(before);
  });
});

describe('auditLogs', () => {
  /** Tenants with a controlled trail of their own: C (org_c) and D (org_d). */
  let c: Tenant;
  let d: Tenant;

  /** Inserts an entry at an exact time (to the microsecond), as the platform. */
  async function seed(
    tenant: Tenant,
    at: string,
    entry: { action: string; actor: string; resourceType?: string; success?: boolean },
  ) {
    const resourceId = randomUUID();
    await db.pool.query(sql.unsafe`
      INSERT INTO public.audit_logs (tenant_id, actor, action, resource_type, resource_id,
        success, error_message, severity, changes, ip_address, user_agent, created_at)
      VALUES (${tenant.id}, ${entry.actor}, ${entry.action}, ${entry.resourceType ?? null},
        ${resourceId}, ${entry.success ?? true}, ${entry.success === false ? 'refused' : null},
        ${entry.success === false ? 'warning' : 'info'}, ${sql.jsonb({ n: at })},
        '203.0.113.7', 'seed', ${at}::timestamptz)`);
  }

  /** What the platform sees: the expected result of any read, newest first. */
  const expected = async (keep: (row: AuditRow) => boolean = () => true) =>
    (await allAuditRows()).filter(keep).map((row) => row.id);

  const read = async (client: GraphQLClient, variables: AuditLogsQueryVariables = {}) =>
    (await client.request(AuditLogsDocument, variables)).auditLogs;

  const ids = (page: AuditLogsQuery['auditLogs']) => page.edges.map((edge) => edge.node.id);

  /** Every page of a read, following endCursor; returns the ids in order and the pages. */
  async function readAll(client: GraphQLClient, first: number, filter?: AuditLogFilter) {
    const pages: AuditLogsQuery['auditLogs'][] = [];
    let after: string | null = null;
    do {
      const page: AuditLogsQuery['auditLogs'] = await read(client, { first, after, filter });
      pages.push(page);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after !== null && pages.length < 200);
    return { ids: pages.flatMap(ids), pages };
  }

  const adminC = () => session('user_admin_c', 'org_c', 'admin');
  const ownerC = () => session('user_owner_c', 'org_c', 'owner');
  const adminD = () => session('user_admin_d', 'org_d', 'admin');
  const operatorSession = () => session('user_op', null);
  const ofTenant = (tenant: Tenant) => (row: AuditRow) => row.tenant_id === tenant.id;

  beforeAll(async () => {
    c = await createTenant(db.lifecycle, {
      slug: 'audit-c',
      name: 'C',
      clerkOrganizationId: 'org_c',
    });
    d = await createTenant(db.lifecycle, {
      slug: 'audit-d',
      name: 'D',
      clerkOrganizationId: 'org_d',
    });
    // One entry a day for 20 days, in a pattern of actions, actors, resource types and outcomes.
    for (let day = 1; day <= 20; day++) {
      await seed(c, `2026-01-${String(day).padStart(2, '0')}T12:00:00Z`, {
        action: ['invoice.sent', 'product.updated', 'api_key.created', 'tenant.settings'][day % 4]!,
        actor: day % 3 === 0 ? 'api_key:c-partner' : 'user:user_admin_c',
        resourceType: day % 2 === 0 ? 'invoice' : 'product',
        success: day % 5 !== 0,
      });
    }
    // Three entries within one millisecond (a Date cannot tell them apart; the cursor must).
    for (const micros of ['123456', '123455', '123454']) {
      await seed(c, `2026-01-21T12:00:00.${micros}Z`, { action: 'burst', actor: 'system' });
    }
    // Three entries at the very same instant: only the id orders them.
    for (let i = 0; i < 3; i++) {
      await seed(c, '2026-01-22T12:00:00Z', { action: 'tie', actor: 'system' });
    }
    for (let day = 1; day <= 5; day++) {
      await seed(d, `2026-01-0${day}T12:00:00Z`, { action: 'invoice.sent', actor: 'user:user_d' });
    }
  });

  test("an ADMIN and an OWNER see their own tenant's entries only, newest first", async () => {
    const mine = await expected(ofTenant(c));
    expect(mine.length).toBeGreaterThanOrEqual(27);
    for (const client of [adminC(), ownerC()]) {
      const page = await read(client, { first: 100 });
      expect(ids(page)).toEqual(mine);
      expect(page.totalCount).toBe(mine.length);
      expect(page.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    }
    const theirs = await read(adminD(), { first: 100 });
    expect(ids(theirs)).toEqual(await expected(ofTenant(d)));
    expect(theirs.edges.every((edge) => edge.node.tenantId === d.id)).toBe(true);
  });

  test('each entry carries every column', async () => {
    const page = await read(adminC(), {
      first: 1,
      filter: { actions: ['invoice.sent'], to: '2026-01-04T12:00:00Z' },
    });
    expect(page.edges).toHaveLength(1);
    const row = (await allAuditRows()).find((r) => r.id === page.edges[0]!.node.id)!;
    expect(page.edges[0]!.node).toEqual({
      id: row.id,
      tenantId: c.id,
      userId: null,
      actor: 'user:user_admin_c',
      action: 'invoice.sent',
      resourceType: 'invoice',
      resourceId: row.resource_id,
      severity: 'INFO',
      changes: { n: '2026-01-04T12:00:00Z' },
      metadata: null,
      ipAddress: '203.0.113.7',
      userAgent: 'seed',
      success: true,
      errorMessage: null,
      createdAt: '2026-01-04T12:00:00.000Z',
    });
  });

  test('a tenantId filter naming another tenant (or none) gives an empty page, not their entries', async () => {
    for (const tenantId of [d.id, randomUUID()]) {
      const page = await read(adminC(), { first: 100, filter: { tenantId } });
      expect(page).toEqual({
        totalCount: 0,
        edges: [],
        pageInfo: {
          hasNextPage: false,
          hasPreviousPage: false,
          startCursor: null,
          endCursor: null,
        },
      });
    }
    const own = await read(adminC(), { first: 100, filter: { tenantId: c.id.toUpperCase() } });
    expect(ids(own)).toEqual(await expected(ofTenant(c)));
  });

  test.each([
    ['a MEMBER session', () => session('user_member_c', 'org_c', 'member'), /MEMBER/],
    ['a VIEWER session', () => session('user_viewer_c', 'org_c', 'viewer'), /VIEWER/],
    ['a read-write API key', () => withKey(aKey.key), /API keys may not use auditLogs/],
    ['a read-only API key', () => withKey(aReadKey.key), /API keys may not use auditLogs/],
    [
      'a session without an organisation (not an operator)',
      () => session('user_x', null),
      /No active organisation/,
    ],
  ])(
    '%s gets FORBIDDEN',
    async (_name, client, message) => {
      const result = await failure(client(), AuditLogsDocument, { first: 5 });
      expect(firstError(result)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      if (message) expect(firstError(result).message).toMatch(message);
    },
    30_000,
  );

  test.each([
    ['a platform key', () => withKey(platformKey)],
    ['an operator session without an organisation', operatorSession],
    [
      'an operator session whose organisation role is MEMBER',
      () => session('user_op', 'org_c', 'member'),
    ],
  ])("%s sees every tenant's entries and can filter by tenantId", async (_name, client) => {
    const everything = await expected();
    const all = await readAll(client(), 100);
    expect(all.ids).toEqual(everything);
    expect(all.pages[0]!.totalCount).toBe(everything.length);
    const tenants = new Set(all.pages.flatMap((page) => page.edges.map((e) => e.node.tenantId)));
    for (const tenant of [a, b, c, d]) expect(tenants).toContain(tenant.id);

    for (const tenant of [c, d]) {
      const page = await read(client(), { first: 100, filter: { tenantId: tenant.id } });
      expect(ids(page)).toEqual(await expected(ofTenant(tenant)));
      expect(page.totalCount).toBe(page.edges.length);
    }
  });

  const FILTERS: [string, AuditLogFilter, (row: AuditRow) => boolean][] = [
    ['one action', { actions: ['invoice.sent'] }, (r) => r.action === 'invoice.sent'],
    [
      'several actions',
      { actions: ['burst', 'tie', 'no.such.action'] },
      (r) => ['burst', 'tie'].includes(r.action),
    ],
    ['resourceType', { resourceType: 'product' }, (r) => r.resource_type === 'product'],
    ['success: false', { success: false }, (r) => !r.success],
    ['success: true', { success: true }, (r) => r.success],
    ['actor', { actor: 'api_key:c-partner' }, (r) => r.actor === 'api_key:c-partner'],
    [
      'from',
      { from: '2026-01-18T12:00:00Z' },
      (r) => r.created_at >= new Date('2026-01-18T12:00:00Z'),
    ],
    ['to', { to: '2026-01-03T12:00:00Z' }, (r) => r.created_at <= new Date('2026-01-03T12:00:00Z')],
    [
      'from and to, both inclusive',
      { from: '2026-01-05T12:00:00Z', to: '2026-01-09T12:00:00Z' },
      (r) =>
        r.created_at >= new Date('2026-01-05T12:00:00Z') &&
        r.created_at <= new Date('2026-01-09T12:00:00Z'),
    ],
    [
      'several conditions at once',
      { actions: ['invoice.sent', 'api_key.created'], success: true, actor: 'user:user_admin_c' },
      (r) =>
        ['invoice.sent', 'api_key.created'].includes(r.action) &&
        r.success &&
        r.actor === 'user:user_admin_c',
    ],
  ];

  test.each(FILTERS)('the %s filter', async (_name, filter, keep) => {
    const want = await expected((row) => row.tenant_id === c.id && keep(row));
    expect(want.length).toBeGreaterThan(0);
    const page = await read(adminC(), { first: 100, filter });
    expect(ids(page)).toEqual(want);
    expect(page.totalCount).toBe(want.length);
    // An operator gets the same with the tenant named.
    const operator = await read(withKey(platformKey), {
      first: 100,
      filter: { ...filter, tenantId: c.id },
    });
    expect(ids(operator)).toEqual(want);
  });

  test('the resourceId filter finds one entry', async () => {
    const target = (await allAuditRows()).find((row) => row.tenant_id === c.id && row.resource_id)!;
    const page = await read(adminC(), { filter: { resourceId: target.resource_id } });
    expect(ids(page)).toEqual([target.id]);
    const elsewhere = await read(adminD(), { filter: { resourceId: target.resource_id } });
    expect(elsewhere.edges).toEqual([]);
  });

  test('three pages with cursors return every entry once, in order', async () => {
    const mine = await expected(ofTenant(c));
    const size = Math.ceil(mine.length / 3);
    const { ids: seen, pages } = await readAll(adminC(), size);
    expect(pages).toHaveLength(3);
    expect(pages.map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, false]);
    expect(pages.map((page) => page.pageInfo.hasPreviousPage)).toEqual([false, true, true]);
    expect(pages.map((page) => page.totalCount)).toEqual([mine.length, mine.length, mine.length]);
    for (const page of pages) {
      expect(page.pageInfo.startCursor).toBe(page.edges[0]!.cursor);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
    }
    expect(seen).toEqual(mine);
  });

  test('one entry a page steps through entries in the same millisecond and at the same instant', async () => {
    const mine = await expected(ofTenant(c));
    const { ids: seen } = await readAll(adminC(), 1);
    expect(seen).toEqual(mine);
    expect(new Set(seen).size).toBe(mine.length);
  }, 60_000);

  test('first defaults to 20; first: 0 gives an empty page with the count', async () => {
    const page = await read(adminC());
    expect(page.edges).toHaveLength(20);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const empty = await read(adminC(), { first: 0 });
    expect(empty.edges).toEqual([]);
    expect(empty.totalCount).toBe((await expected(ofTenant(c))).length);
  });

  const OUT_OF_LIST_CURSOR = encodeCursor({ key: 'Widget', id: randomUUID() });
  const INVALID: [string, AuditLogsQueryVariables, string][] = [
    ['first over 100', { first: 101 }, 'first'],
    ['negative first', { first: -1 }, 'first'],
    ['a cursor that is not one', { after: 'not-a-cursor' }, 'after'],
    ["another list's cursor", { after: OUT_OF_LIST_CURSOR }, 'after'],
    [
      'a cursor with a bad id',
      { after: encodeCursor({ key: '2026-01-01T00:00:00.000000Z', id: '-'.repeat(36) }) },
      'after',
    ],
    [
      'a cursor with an impossible time',
      { after: encodeCursor({ key: '2026-13-45T99:00:00.000000Z', id: randomUUID() }) },
      'after',
    ],
    ['no actions', { filter: { actions: [] } }, 'actions'],
    [
      '51 actions',
      { filter: { actions: Array.from({ length: 51 }, (_, i) => `a${i}`) } },
      'actions',
    ],
    ['an empty action', { filter: { actions: ['ok', ''] } }, 'actions'],
    ['an action over 100 characters', { filter: { actions: ['x'.repeat(101)] } }, 'actions'],
    ['an empty resourceType', { filter: { resourceType: '' } }, 'resourceType'],
    ['a resourceType over 100', { filter: { resourceType: 'r'.repeat(101) } }, 'resourceType'],
    ['a resourceId over 255', { filter: { resourceId: 'r'.repeat(256) } }, 'resourceId'],
    ['an actor over 255', { filter: { actor: 'a'.repeat(256) } }, 'actor'],
    [
      'from after to',
      { filter: { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' } },
      'from',
    ],
    ['a tenantId that is not a UUID', { filter: { tenantId: 'tenant-c' } }, 'tenantId'],
  ];

  test.each(INVALID)('%s: BAD_USER_INPUT naming the field', async (_name, variables, field) => {
    for (const client of [adminC(), withKey(platformKey)]) {
      const result = await failure(client, AuditLogsDocument, variables);
      expect(firstError(result).code).toBe('BAD_USER_INPUT');
      expect(result.errors[0]?.extensions.field).toBe(field);
    }
  });

  test('a from that is not a DateTime: BAD_USER_INPUT', async () => {
    const result = await failure(adminC(), AuditLogsDocument, {
      filter: { from: 'last tuesday' },
    });
    expect(firstError(result).code).toBe('BAD_USER_INPUT');
  });
});

describe('secrets', () => {
  test('no secret (API keys, saved credentials) ever reaches any column of the audit log', async () => {
    expect(secrets.length).toBeGreaterThanOrEqual(5);
    const rows = await db.pool.anyFirst(sql.type(z.object({ text: z.string() }))`
    SELECT a::text AS text FROM public.audit_logs a`);
    expect(rows.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(rows.filter((text) => text.includes(secret))).toEqual([]);
    }
  });
});
