/**
 * The platform fields: who may use them (operators only, everyone else FORBIDDEN with nothing
 * changed and the refusal audited), what each lifecycle change does to the tenant's own keys and
 * sessions on a server that caches them, listing and usage figures, and the audit trail.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { sql } from 'slonik';
import { z } from 'zod';
import { hashApiKey } from '../src/auth/api-key-format.js';
import { createApiKey, findKeyByHash } from '../src/auth/api-keys.js';
import { latestVersion } from '../src/db/migrations/files.js';
import { createTenant, type Tenant } from '../src/tenants/lifecycle.js';
import {
  CreateTenantDocument,
  DeleteTenantDocument,
  PlatformTenantDocument,
  PlatformTenantSlugsDocument,
  PlatformTenantsCountDocument,
  PlatformTenantsDocument,
  PlatformTenantsUsageDocument,
  PlatformTenantUsageDocument,
  ProductsDocument,
  ReactivateTenantDocument,
  RestoreTenantDocument,
  SuspendTenantDocument,
  SuspendThenDeleteTenantDocument,
  ViewerDocument,
  type PlatformTenantSlugsQuery,
  type TenantFilter,
} from './generated/graphql.js';
import {
  failure,
  firstError,
  startApi,
  tenantWithKeys,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { sessionToken } from './support/clerk.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { statementCounter } from './support/statements.js';

/** Any operation of the table-driven tests; each row pairs it with its own variables. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDocument = TypedDocumentNode<any, any>;

const USER_AGENT = 'ops-console/1.0';
const OPERATOR = 'user_op';
const OPERATOR_WITH_ORG = 'user_op_org';

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let members: Tenant;
let platformKey: { key: string; id: string };
const counter = statementCounter();

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  members = await createTenant(db.lifecycle, {
    slug: 'members',
    name: 'Members Ltd',
    clerkOrganizationId: 'org_members',
  });
  await createTenant(db.lifecycle, {
    slug: 'ops-home',
    name: 'Ops Home',
    clerkOrganizationId: 'org_ops',
  });
  const { key, record } = await createApiKey(db.pool, {
    tenantId: null,
    name: 'operations',
    actor: 'test',
  });
  platformKey = { key, id: record.id };
  // Credentials are cached for a minute, as in production: changes must still apply at once.
  api = await startApi(db, {
    platformAdmins: [OPERATOR, OPERATOR_WITH_ORG],
    apiKeyCacheTtlMs: 60_000,
    pool: await db.openPool({ interceptors: [counter.interceptor] }),
  });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

/** Someone calling the API; session tokens are signed at each call (they live a minute). */
type Caller = { name: string; credential: () => string; actor: () => Promise<string> };

const keyActor = async (key: string) =>
  `api_key:${(await findKeyByHash(db.pool, hashApiKey(key)))!.id}`;

const session = (name: string, userId: string, orgId: string | null, role = 'member'): Caller => ({
  name,
  credential: () => sessionToken({ userId, orgId, role }),
  actor: async () => `user:${userId}`,
});

const operators: Caller[] = [
  {
    name: 'a platform key',
    credential: () => platformKey.key,
    actor: async () => `platform_key:${platformKey.id}`,
  },
  session('an operator session without an organisation', OPERATOR, null),
  session(
    'an operator session with an active organisation',
    OPERATOR_WITH_ORG,
    'org_ops',
    'viewer',
  ),
];

const client = (caller: Caller) => api.client(caller.credential(), { 'user-agent': USER_AGENT });
const operator = () => client(operators[0]!);

const AuditRow = z.object({
  action: z.string(),
  actor: z.string().nullable(),
  tenant_id: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  success: z.boolean(),
  severity: z.string(),
  changes: z.record(z.string(), z.unknown()).nullable(),
  error_message: z.string().nullable(),
});

async function auditOf(resourceId: string) {
  return db.pool.any(sql.type(AuditRow)`
    SELECT action, actor, tenant_id, host(ip_address) AS ip, user_agent, success, severity::text,
      changes, error_message
    FROM public.audit_logs WHERE resource_id = ${resourceId} ORDER BY created_at, action`);
}

const auditCount = () =>
  db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM public.audit_logs`);

/** Every tenant's row as it stands, to show that a refused or failed request changed nothing. */
const tenantsSnapshot = () =>
  db.pool.any(sql.unsafe`
    SELECT id, slug, name, subscription_status, subscription_tier, deleted_at, updated_at
    FROM public.tenants ORDER BY id`);

async function makeTenant(slug: string, options: { clerkOrganizationId?: string } = {}) {
  return createTenant(db.lifecycle, { slug, name: `${slug} Ltd`, ...options });
}

describe('who may use the platform fields', () => {
  let target: Tenant;

  beforeAll(async () => {
    target = await makeTenant('target');
  });

  type Operation = {
    key: string;
    audit?: string;
    document: AnyDocument;
    variables: () => Record<string, unknown>;
  };
  const operations: Operation[] = [
    { key: 'tenants', document: PlatformTenantsDocument, variables: () => ({}) },
    { key: 'tenant', document: PlatformTenantDocument, variables: () => ({ id: target.id }) },
    {
      key: 'createTenant',
      audit: 'tenant.created',
      document: CreateTenantDocument,
      variables: () => ({ input: { name: 'Sneaky Ltd', slug: 'sneaky' } }),
    },
    {
      key: 'suspendTenant',
      audit: 'tenant.suspended',
      document: SuspendTenantDocument,
      variables: () => ({ id: target.id, reason: 'because' }),
    },
    {
      key: 'reactivateTenant',
      audit: 'tenant.reactivated',
      document: ReactivateTenantDocument,
      variables: () => ({ id: target.id }),
    },
    {
      key: 'deleteTenant',
      audit: 'tenant.deleted',
      document: DeleteTenantDocument,
      variables: () => ({ id: target.id }),
    },
    {
      key: 'restoreTenant',
      audit: 'tenant.restored',
      document: RestoreTenantDocument,
      variables: () => ({ id: target.id }),
    },
  ];

  const refused: Caller[] = [
    {
      name: "a tenant's read key",
      credential: () => acme.readKey,
      actor: () => keyActor(acme.readKey),
    },
    {
      name: "a tenant's read-write key",
      credential: () => acme.key,
      actor: () => keyActor(acme.key),
    },
    session('an OWNER session', 'user_owner', 'org_members', 'owner'),
    session('an ADMIN session', 'user_admin', 'org_members', 'admin'),
    session('a MEMBER session', 'user_member', 'org_members', 'member'),
    session('a VIEWER session', 'user_viewer', 'org_members', 'viewer'),
  ];

  const matrix = refused.flatMap((caller) =>
    operations.map((operation) => [caller.name, operation.key, caller, operation] as const),
  );

  test.each(matrix)(
    '%s: %s is FORBIDDEN (403), changes nothing, and a refused change is audited',
    async (_name, _key, caller, operation) => {
      const before = await tenantsSnapshot();
      const audited = await auditCount();
      const result = await failure(client(caller), operation.document, operation.variables());
      expect(firstError(result)).toEqual({
        status: 403,
        code: 'FORBIDDEN',
        message: `${operation.key} is for platform operators only.`,
      });
      expect(result.errors[0]?.extensions.field).toBe(operation.key);
      expect(await tenantsSnapshot()).toEqual(before);
      if (operation.audit === undefined) {
        expect(await auditCount()).toBe(audited);
        return;
      }
      expect(await auditCount()).toBe(audited + 1);
      const row = await db.pool.one(sql.type(AuditRow)`
        SELECT action, actor, tenant_id, host(ip_address) AS ip, user_agent, success,
          severity::text, changes, error_message
        FROM public.audit_logs ORDER BY created_at DESC LIMIT 1`);
      expect(row).toEqual({
        action: operation.audit,
        actor: await caller.actor(),
        tenant_id: caller.name.includes('key') ? acme.id : members.id,
        ip: '127.0.0.1',
        user_agent: USER_AGENT,
        success: false,
        severity: 'warning',
        changes: null,
        error_message: `${operation.key} is for platform operators only.`,
      });
    },
  );

  test.each(operators.map((caller, index) => [caller.name, caller, index] as const))(
    '%s may use every platform field, and each change is audited as its own',
    async (_name, caller, index) => {
      const gql = client(caller);
      const slug = `made-by-${index}`;
      const created = (
        await gql.request(CreateTenantDocument, {
          input: { name: `Made by ${index}`, slug, tier: 'PROFESSIONAL' },
        })
      ).createTenant;
      expect(created).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        slug,
        name: `Made by ${index}`,
        tier: 'PROFESSIONAL',
        status: 'TRIAL',
        clerkOrganizationId: null,
        trialEndsAt: expect.any(String),
        createdAt: expect.any(String),
        deletedAt: null,
        schemaVersion: latestVersion(db.migrations.tenant),
        limits: { maxUsers: 20, maxProducts: 500, maxStorageMb: 10240 },
      });
      const id = created.id;

      const listed = await gql.request(PlatformTenantsDocument, { filter: { search: slug } });
      expect(listed.tenants.edges.map((edge) => edge.node)).toEqual([created]);
      expect((await gql.request(PlatformTenantDocument, { id })).tenant).toEqual(created);
      expect((await gql.request(PlatformTenantDocument, { slug })).tenant).toEqual(created);

      const suspended = await gql.request(SuspendTenantDocument, { id, reason: ' unpaid ' });
      expect(suspended.suspendTenant).toEqual({ ...created, status: 'SUSPENDED' });
      const reactivated = await gql.request(ReactivateTenantDocument, { id });
      expect(reactivated.reactivateTenant).toEqual({ ...created, status: 'TRIAL' });
      const deleted = await gql.request(DeleteTenantDocument, { id });
      expect(deleted.deleteTenant).toEqual({ ...created, deletedAt: expect.any(String) });
      const restored = await gql.request(RestoreTenantDocument, { id });
      expect(restored.restoreTenant).toEqual(created);

      const actor = await caller.actor();
      const by = { actor, tenant_id: id, ip: '127.0.0.1', user_agent: USER_AGENT, success: true };
      expect(await auditOf(id)).toEqual([
        {
          ...by,
          action: 'tenant.created',
          severity: 'info',
          changes: {
            slug,
            name: `Made by ${index}`,
            tier: 'professional',
            status: 'trial',
            schemaVersion: latestVersion(db.migrations.tenant),
          },
          error_message: null,
        },
        {
          ...by,
          action: 'tenant.suspended',
          severity: 'warning',
          changes: { from: 'trial', reason: 'unpaid' },
          error_message: null,
        },
        {
          ...by,
          action: 'tenant.reactivated',
          severity: 'info',
          changes: { from: 'suspended', to: 'trial' },
          error_message: null,
        },
        {
          ...by,
          action: 'tenant.deleted',
          severity: 'warning',
          changes: null,
          error_message: null,
        },
        { ...by, action: 'tenant.restored', severity: 'info', changes: null, error_message: null },
      ]);
    },
  );
});

describe('lifecycle changes reach the tenant at once', () => {
  let shop: TenantWithKeys;
  const shopSession = () =>
    sessionToken({ userId: 'user_shop', orgId: 'org_shop', role: 'member' });

  beforeAll(async () => {
    shop = await tenantWithKeys(db, 'shop');
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET clerk_organization_id = 'org_shop' WHERE id = ${shop.id}`);
  });

  const works = async (credential: string, status = 'TRIAL') => {
    const result = await api.client(credential).request(ViewerDocument);
    expect(result.viewer.tenant).toMatchObject({ slug: 'shop', status });
  };
  const refusedWith = async (credential: string, code: string, message: string) => {
    expect(firstError(await failure(api.client(credential), ViewerDocument))).toEqual({
      status: 403,
      code,
      message,
    });
  };

  test('suspend, reactivate, delete and restore, through a cache that keeps credentials a minute', async () => {
    // Both credentials are cached by now.
    await works(shop.key);
    await works(shopSession());
    // A second server caches them too; it hears of no change until its cache expires.
    const elsewhere = await startApi(db, { apiKeyCacheTtlMs: 60_000 });
    try {
      await elsewhere.client(shop.readKey).request(ViewerDocument);

      await operator().request(SuspendTenantDocument, { id: shop.id });
      await refusedWith(shop.key, 'TENANT_SUSPENDED', 'This tenant is suspended.');
      await refusedWith(shop.readKey, 'TENANT_SUSPENDED', 'This tenant is suspended.');
      await refusedWith(shopSession(), 'TENANT_SUSPENDED', 'This tenant is suspended.');
      expect(
        (await elsewhere.client(shop.readKey).request(ViewerDocument)).viewer.tenant,
      ).toMatchObject({ status: 'TRIAL' });

      await operator().request(ReactivateTenantDocument, { id: shop.id });
      await works(shop.key);
      await works(shopSession());

      await operator().request(DeleteTenantDocument, { id: shop.id });
      await refusedWith(shop.key, 'FORBIDDEN', 'This tenant has been deleted.');
      await refusedWith(shopSession(), 'FORBIDDEN', "This organisation's tenant has been deleted.");

      await operator().request(RestoreTenantDocument, { id: shop.id });
      await works(shop.key);
      await works(shopSession());
    } finally {
      await elsewhere.close();
    }
  });

  test('a suspended tenant whose trial has ended comes back ACTIVE', async () => {
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET trial_ends_at = now() - interval '1 day' WHERE id = ${shop.id}`);
    await operator().request(SuspendTenantDocument, { id: shop.id, reason: 'checking' });
    const { reactivateTenant } = await operator().request(ReactivateTenantDocument, {
      id: shop.id,
    });
    expect(reactivateTenant.status).toBe('ACTIVE');
    await works(shop.key, 'ACTIVE');
  });

  test('createTenant makes a working tenant: its schema exists and its keys query it', async () => {
    const { createTenant: created } = await operator().request(CreateTenantDocument, {
      input: { name: '  Fresh Co  ', slug: 'fresh-co', tier: 'PROFESSIONAL' },
    });
    expect(created).toMatchObject({ slug: 'fresh-co', name: 'Fresh Co', tier: 'PROFESSIONAL' });
    expect(
      await db.pool.oneFirst(sql.unsafe`
        SELECT count(*)::int FROM pg_namespace n JOIN public.tenants t ON t.schema_name = n.nspname
        WHERE t.id = ${created.id}`),
    ).toBe(1);
    const { key } = await createApiKey(db.pool, {
      tenantId: created.id,
      name: 'first',
      scopes: ['read'],
      actor: 'test',
    });
    const products = await api.client(key).request(ProductsDocument, {});
    expect(products.products).toMatchObject({ totalCount: 0, edges: [] });
    const viewer = await api.client(key).request(ViewerDocument);
    expect(viewer.company?.name).toBe('Fresh Co');
  });
});

describe('a change that fails writes nothing', () => {
  let plain: Tenant;
  let suspended: Tenant;
  let deleted: Tenant;

  beforeAll(async () => {
    plain = await makeTenant('plain');
    suspended = await makeTenant('already-suspended');
    await operator().request(SuspendTenantDocument, { id: suspended.id });
    deleted = await makeTenant('already-deleted');
    await operator().request(DeleteTenantDocument, { id: deleted.id });
  });

  type Case = [
    string,
    () => [AnyDocument, Record<string, unknown>],
    string,
    string,
    string | undefined,
  ];
  const cases: Case[] = [
    [
      'createTenant with a slug in use (even by a deleted tenant)',
      () => [CreateTenantDocument, { input: { name: 'Again', slug: 'already-deleted' } }],
      'CONFLICT',
      'A tenant with slug "already-deleted" already exists.',
      'slug',
    ],
    [
      'createTenant with a bad slug',
      () => [CreateTenantDocument, { input: { name: 'Bad', slug: 'Bad Slug' } }],
      'BAD_USER_INPUT',
      'Invalid slug "Bad Slug": it may contain only lowercase letters, digits and dashes.',
      'slug',
    ],
    [
      'createTenant with a reserved slug',
      () => [CreateTenantDocument, { input: { name: 'Platform', slug: 'platform' } }],
      'BAD_USER_INPUT',
      'Invalid slug "platform": it is a reserved word.',
      'slug',
    ],
    [
      'createTenant with a blank name',
      () => [CreateTenantDocument, { input: { name: '   ', slug: 'blank-name' } }],
      'BAD_USER_INPUT',
      'Invalid name: it must be 1 to 255 characters.',
      'name',
    ],
    [
      'suspendTenant of a suspended tenant',
      () => [SuspendTenantDocument, { id: suspended.id }],
      'CONFLICT',
      'Tenant "already-suspended" is already suspended.',
      undefined,
    ],
    [
      'suspendTenant of a deleted tenant',
      () => [SuspendTenantDocument, { id: deleted.id }],
      'CONFLICT',
      'Tenant "already-deleted" is deleted: there is nothing to suspend.',
      undefined,
    ],
    [
      'suspendTenant with a blank reason',
      () => [SuspendTenantDocument, { id: plain.id, reason: '   ' }],
      'BAD_USER_INPUT',
      'Invalid reason: it must be 1 to 500 characters.',
      'reason',
    ],
    [
      'suspendTenant with a reason over 500 characters',
      () => [SuspendTenantDocument, { id: plain.id, reason: 'x'.repeat(501) }],
      'BAD_USER_INPUT',
      'Invalid reason: it must be 1 to 500 characters.',
      'reason',
    ],
    [
      'reactivateTenant of a tenant that is not suspended',
      () => [ReactivateTenantDocument, { id: plain.id }],
      'CONFLICT',
      'Tenant "plain" is not suspended (its status is trial).',
      undefined,
    ],
    [
      'deleteTenant of a deleted tenant',
      () => [DeleteTenantDocument, { id: deleted.id }],
      'CONFLICT',
      expect.stringMatching(/^Tenant "already-deleted" was already deleted on /) as never,
      undefined,
    ],
    [
      'restoreTenant of a tenant that is not deleted',
      () => [RestoreTenantDocument, { id: plain.id }],
      'CONFLICT',
      'Tenant "plain" is not deleted.',
      undefined,
    ],
    [
      'suspendTenant of an unknown id',
      () => [SuspendTenantDocument, { id: '00000000-0000-4000-8000-000000000000' }],
      'NOT_FOUND',
      'No tenant 00000000-0000-4000-8000-000000000000.',
      'id',
    ],
    [
      'suspendTenant by slug instead of id',
      () => [SuspendTenantDocument, { id: 'plain' }],
      'NOT_FOUND',
      'No tenant plain.',
      'id',
    ],
    [
      'deleteTenant of an id that is not a UUID',
      () => [DeleteTenantDocument, { id: 'nope' }],
      'NOT_FOUND',
      'No tenant nope.',
      'id',
    ],
    [
      'restoreTenant of an unknown id',
      () => [RestoreTenantDocument, { id: '00000000-0000-4000-8000-000000000001' }],
      'NOT_FOUND',
      'No tenant 00000000-0000-4000-8000-000000000001.',
      'id',
    ],
  ];

  test.each(cases)('%s', async (_name, make, code, message, field) => {
    const [document, variables] = make();
    const before = await tenantsSnapshot();
    const audited = await auditCount();
    const result = await failure(operator(), document, variables);
    expect(firstError(result)).toEqual({ status: 200, code, message });
    expect(result.errors[0]?.extensions.field).toBe(field);
    expect(await tenantsSnapshot()).toEqual(before);
    expect(await auditCount()).toBe(audited);
  });

  test('a request whose second change fails rolls back the first, with its audit row', async () => {
    const audited = await auditCount();
    const before = await tenantsSnapshot();
    const result = await failure(operator(), SuspendThenDeleteTenantDocument, {
      id: plain.id,
      other: '00000000-0000-4000-8000-000000000002',
    });
    expect(firstError(result)).toMatchObject({ code: 'NOT_FOUND' });
    expect(await tenantsSnapshot()).toEqual(before);
    expect(await auditCount()).toBe(audited);
  });
});

describe('tenants: filters, search and pages', () => {
  const slugsOf = (result: { tenants: { edges: { node: { slug: string } }[] } }) =>
    result.tenants.edges.map((edge) => edge.node.slug);
  const list = async (filter: TenantFilter, first = 50) =>
    slugsOf(await operator().request(PlatformTenantSlugsDocument, { first, filter }));

  beforeAll(async () => {
    const make = async (slug: string, name: string) =>
      createTenant(db.lifecycle, {
        slug,
        name,
        tier: slug.endsWith('pro') ? 'professional' : 'starter',
      });
    await make('list-alpha', 'Listco Alpha');
    const beta = await make('list-beta-pro', 'Listco Beta');
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET subscription_status = 'active' WHERE id = ${beta.id}`);
    const gamma = await make('list-gamma', 'Listco Gamma');
    await operator().request(SuspendTenantDocument, { id: gamma.id });
    const delta = await make('list-delta', 'Listco 100% Delta');
    await operator().request(DeleteTenantDocument, { id: delta.id });
    await make('list-epsilon', 'Listco 1000 Epsilon');
    // Two tenants created in the same millisecond (microseconds apart) sort first.
    const under = await make('list-under', 'Listco a_b');
    const other = await make('list-other', 'Listco aXb');
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET created_at = '2020-01-01 00:00:00.000200+00' WHERE id = ${under.id}`);
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET created_at = '2020-01-01 00:00:00.000100+00' WHERE id = ${other.id}`);
  });

  test('oldest first; deleted tenants only when asked', async () => {
    expect(await list({ search: 'listco' })).toEqual([
      'list-other',
      'list-under',
      'list-alpha',
      'list-beta-pro',
      'list-gamma',
      'list-epsilon',
    ]);
    expect(await list({ search: 'LISTCO', includeDeleted: true })).toEqual([
      'list-other',
      'list-under',
      'list-alpha',
      'list-beta-pro',
      'list-gamma',
      'list-delta',
      'list-epsilon',
    ]);
  });

  test.each<[string, TenantFilter, string[]]>([
    ['status', { search: 'listco', status: 'SUSPENDED' }, ['list-gamma']],
    ['status ACTIVE', { search: 'listco', status: 'ACTIVE' }, ['list-beta-pro']],
    ['tier', { search: 'listco', tier: 'PROFESSIONAL' }, ['list-beta-pro']],
    ['status and tier', { search: 'listco', status: 'TRIAL', tier: 'PROFESSIONAL' }, []],
    ['search by slug', { search: 'list-g' }, ['list-gamma']],
    ['search by name, any case', { search: 'gAmMa' }, ['list-gamma']],
    ['search with surrounding spaces', { search: '  epsilon ' }, ['list-epsilon']],
    ['_ matches itself only', { search: 'a_b' }, ['list-under']],
    ['% matches itself only', { search: '100%', includeDeleted: true }, ['list-delta']],
    ['a backslash matches itself only', { search: '\\' }, []],
    ['a deleted tenant is left out by default', { search: '100%' }, []],
  ])('filter: %s', async (_name, filter, expected) => {
    expect(await list(filter)).toEqual(expected);
  });

  test('pages follow their cursors, with totalCount on request', async () => {
    const filter = { search: 'listco', includeDeleted: true };
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    let hasNextPage = true;
    while (hasNextPage) {
      const page: PlatformTenantSlugsQuery = await operator().request(PlatformTenantSlugsDocument, {
        first: 2,
        after,
        filter,
      });
      pages += 1;
      expect(page.tenants.totalCount).toBe(7);
      seen.push(...slugsOf(page));
      ({ hasNextPage, endCursor: after } = page.tenants.pageInfo);
    }
    expect(pages).toBe(4);
    expect(seen).toEqual(await list(filter));
  });

  test('the page info of the first and a later page', async () => {
    const first = await operator().request(PlatformTenantsDocument, {
      first: 1,
      filter: { search: 'listco' },
    });
    expect(first.tenants.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: first.tenants.edges[0]!.cursor,
      endCursor: first.tenants.edges[0]!.cursor,
    });
    const second = await operator().request(PlatformTenantsDocument, {
      first: 10,
      after: first.tenants.pageInfo.endCursor,
      filter: { search: 'listco' },
    });
    expect(second.tenants.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(slugsOf(second)[0]).toBe('list-under');
  });

  test('totalCount alone, with first 0', async () => {
    const count = async (filter: TenantFilter) =>
      (await operator().request(PlatformTenantsCountDocument, { filter })).tenants.totalCount;
    expect(await count({ search: 'listco' })).toBe(6);
    expect(await count({ search: 'listco', includeDeleted: true })).toBe(7);
    const all = await db.pool.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM public.tenants WHERE deleted_at IS NULL`);
    expect(await count({})).toBe(all);
  });

  test.each([
    ['a cursor that is not one of ours', { after: 'bm9wZQ' }, 'after'],
    [
      'a cursor of another list (a product cursor)',
      {
        after: Buffer.from(
          JSON.stringify(['Gin', '00000000-0000-4000-8000-000000000000']),
        ).toString('base64url'),
      },
      'after',
    ],
    ['first over 100', { first: 101 }, 'first'],
    ['a negative first', { first: -1 }, 'first'],
  ])('%s is BAD_USER_INPUT', async (_name, variables, field) => {
    const result = await failure(operator(), PlatformTenantsDocument, variables);
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(result.errors[0]?.extensions.field).toBe(field);
  });

  test('tenant(id | slug): exactly one, null when there is none, deleted ones included', async () => {
    const gql = operator();
    const delta = (await gql.request(PlatformTenantDocument, { slug: 'list-delta' })).tenant;
    expect(delta).toMatchObject({ slug: 'list-delta', deletedAt: expect.any(String) });
    expect(
      (await gql.request(PlatformTenantDocument, { id: delta!.id.toUpperCase() })).tenant,
    ).toEqual(delta);
    expect((await gql.request(PlatformTenantDocument, { slug: 'no-such' })).tenant).toBeNull();
    expect((await gql.request(PlatformTenantDocument, { id: 'not-a-uuid' })).tenant).toBeNull();
    expect(
      (await gql.request(PlatformTenantDocument, { id: '00000000-0000-4000-8000-000000000000' }))
        .tenant,
    ).toBeNull();
    for (const variables of [{}, { id: delta!.id, slug: 'list-delta' }]) {
      const result = await failure(gql, PlatformTenantDocument, variables);
      expect(firstError(result)).toEqual({
        status: 200,
        code: 'BAD_USER_INPUT',
        message: 'Give exactly one of id and slug.',
      });
    }
  });
});

describe('usage', () => {
  let busy: TenantWithKeys;
  let idle: Tenant;

  beforeAll(async () => {
    busy = await tenantWithKeys(db, 'busy');
    idle = await makeTenant('idle');
    // Keys: the two working ones from tenantWithKeys, plus a revoked and an expired one.
    const revoked = await createApiKey(db.pool, { tenantId: busy.id, name: 'old', actor: 'test' });
    const expired = await createApiKey(db.pool, { tenantId: busy.id, name: 'exp', actor: 'test' });
    await db.pool.query(sql.unsafe`
      UPDATE public.api_keys SET revoked_at = now() WHERE id = ${revoked.record.id}`);
    await db.pool.query(sql.unsafe`
      UPDATE public.api_keys SET expires_at = now() - interval '1 second' WHERE id = ${expired.record.id}`);
    // Users: three active, one inactive, one deleted.
    await db.pool.query(sql.unsafe`
      INSERT INTO public.users (tenant_id, clerk_user_id, is_active, deleted_at)
      VALUES (${busy.id}, 'user_a', true, NULL), (${busy.id}, 'user_b', true, NULL),
        (${busy.id}, 'user_c', true, NULL), (${busy.id}, 'user_d', false, NULL),
        (${busy.id}, 'user_e', true, now())`);
    // Products: four, one of them archived.
    await db.pool.query(sql.unsafe`
      INSERT INTO ${sql.identifier([busy.schemaName, 'products'])} (company_id, sku, name, is_active)
      SELECT ${busy.companyId}, 'SKU-' || i, 'Product ' || i, i < 4 FROM generate_series(1, 4) i`);
    // Requests: this period's row counts; last period's does not.
    await db.pool.query(sql.unsafe`
      INSERT INTO public.usage_metrics (tenant_id, period_start, period_end, api_requests_count)
      VALUES (${busy.id}, date_trunc('month', now()), date_trunc('month', now()) + interval '1 month', 3000000000),
        (${busy.id}, date_trunc('month', now()) - interval '1 month', date_trunc('month', now()), 999)`);
  });

  const storageOf = (id: string) =>
    db.pool.oneFirst(sql.unsafe`
      SELECT size_bytes FROM public.list_tenant_schemas() WHERE tenant_id = ${id}`);

  test.each(operators.map((caller) => [caller.name, caller] as const))(
    'the figures of a busy and an idle tenant, for %s',
    async (_name, caller) => {
      const gql = client(caller);
      // Autovacuum may add a visibility map between two readings: either reading is right.
      const usageOf = async (id: string) => {
        const before = await storageOf(id);
        const { tenant } = await gql.request(PlatformTenantUsageDocument, { id });
        const after = await storageOf(id);
        expect([before, after]).toContain(tenant!.usage.storageBytes);
        expect(tenant!.usage.storageBytes).toBeGreaterThan(0);
        return { ...tenant!.usage, storageBytes: 'checked' };
      };
      expect(await usageOf(busy.id)).toEqual({
        activeUsers: 3,
        apiKeys: 2,
        products: 4,
        storageBytes: 'checked',
        apiRequestsThisMonth: 3_000_000_000,
      });
      expect(await usageOf(idle.id)).toEqual({
        activeUsers: 0,
        apiKeys: 0,
        products: 0,
        storageBytes: 'checked',
        apiRequestsThisMonth: 0,
      });
    },
  );

  test('a page lists the same figures', async () => {
    const { tenants } = await operator().request(PlatformTenantsUsageDocument, {
      first: 100,
      filter: { search: 'busy' },
    });
    expect(tenants.edges.map((edge) => edge.node.usage)).toEqual([
      expect.objectContaining({ activeUsers: 3, apiKeys: 2, products: 4 }),
    ]);
  });

  describe('batched for a page', () => {
    const USAGE_QUERIES = [
      'activeUsersByTenant',
      'apiKeysByTenant',
      'productTablesOfTenants',
      'productsByTenant',
      'storageBytesByTenant',
      'apiRequestsThisPeriodByTenant',
    ];
    const named = (name: string) =>
      counter.statements.filter((statement) => statement.includes(`/* ${name} */`)).length;

    beforeAll(async () => {
      for (let i = 1; i <= 20; i += 1) {
        await makeTenant(`bulk-${String(i).padStart(2, '0')}`);
      }
    });

    test.each(operators.map((caller) => [caller.name, caller] as const))(
      'for %s, a page of 20 costs the statements a page of 2 does',
      async (_name, caller) => {
        const run = async (first: number) => {
          const gql = client(caller);
          counter.reset();
          const { tenants } = await gql.request(PlatformTenantsUsageDocument, {
            first,
            filter: { search: 'bulk-' },
          });
          expect(tenants.edges).toHaveLength(first);
          expect(tenants.edges.every((edge) => edge.node.usage.apiKeys === 0)).toBe(true);
          for (const name of USAGE_QUERIES) expect([name, named(name)]).toEqual([name, 1]);
          return counter.statements.length;
        };
        await run(2); // authenticates the caller: later requests find it in the cache
        const small = await run(2);
        expect(await run(20)).toBe(small);
      },
    );

    test('usage costs nothing when it is not asked for', async () => {
      counter.reset();
      await operator().request(PlatformTenantsDocument, { first: 20, filter: { search: 'bulk-' } });
      for (const name of USAGE_QUERIES) expect([name, named(name)]).toEqual([name, 0]);
    });
  });
});
