/**
 * POST /webhooks/clerk on the real server and a real PostgreSQL, with deliveries signed by the svix
 * package exactly as Svix signs Clerk's: organisations become tenants, memberships become users,
 * each svix-id has one effect, and anything unverified changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { sql } from 'slonik';
import { Webhook } from 'svix';
import { z } from 'zod';
import { buildApp } from '../src/server/app.js';
import { ViewerDocument } from './generated/graphql.js';
import { failure, firstError, startApi, type Api } from './support/api.js';
import { sessionToken, strictClerkConfig } from './support/clerk.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(24).toString('base64')}`;

let db: TestDatabase;
let api: Api;
let webhookUrl: string;

beforeAll(async () => {
  db = await createTestDatabase();
  // Caching on, so each effect must also make this server forget what it cached.
  api = await startApi(db, {
    clerk: strictClerkConfig({ CLERK_WEBHOOK_SECRET: SECRET }),
    apiKeyCacheTtlMs: 60_000,
  });
  webhookUrl = api.url.replace(/\/graphql$/, '/webhooks/clerk');
});

afterAll(async () => {
  await api?.close();
  await db?.drop();
});

// ---------------------------------------------------------------------------------------------
// Clerk's payloads (the shapes of @clerk/backend's OrganizationJSON, OrganizationMembershipJSON,
// UserJSON and DeletedObjectJSON) and Svix's signing
// ---------------------------------------------------------------------------------------------

const unique = () => randomBytes(5).toString('hex');

type Org = { id: string; name: string; slug: string };
const newOrg = (name = 'Acme Spirits'): Org => {
  const suffix = unique();
  return { id: `org_${suffix}`, name, slug: `acme-${suffix}` };
};

const organisation = (org: Org) => ({
  object: 'organization',
  id: org.id,
  name: org.name,
  slug: org.slug,
  image_url: 'https://img.clerk.com/org.png',
  has_image: false,
  members_count: 1,
  max_allowed_memberships: 5,
  admin_delete_enabled: true,
  public_metadata: {},
  created_by: 'user_creator',
  created_at: 1_760_000_000_000,
  updated_at: 1_760_000_000_000,
});

const membership = (org: Org, userId: string, role: string, email = `${userId}@example.com`) => ({
  object: 'organization_membership',
  id: `orgmem_${unique()}`,
  role,
  permissions: ['org:sys_memberships:read'],
  public_metadata: {},
  created_at: 1_760_000_000_000,
  updated_at: 1_760_000_000_000,
  organization: organisation(org),
  public_user_data: {
    identifier: email,
    first_name: 'Ada',
    last_name: 'Lovelace',
    image_url: 'https://img.clerk.com/user.png',
    has_image: false,
    user_id: userId,
  },
});

const user = (userId: string, primary: string, others: string[] = []) => ({
  object: 'user',
  id: userId,
  username: null,
  first_name: 'Ada',
  last_name: 'Lovelace',
  primary_email_address_id: 'idn_primary',
  email_addresses: [
    ...others.map((email, index) => ({
      id: `idn_other${index}`,
      object: 'email_address',
      email_address: email,
      verification: { status: 'verified', strategy: 'email_code' },
      linked_to: [],
    })),
    {
      id: 'idn_primary',
      object: 'email_address',
      email_address: primary,
      verification: { status: 'verified', strategy: 'email_code' },
      linked_to: [],
    },
  ],
  created_at: 1_760_000_000_000,
  updated_at: 1_760_000_000_000,
});

const deleted = (object: string, id: string) => ({ object, id, deleted: true });

const envelope = (type: string, data: unknown) =>
  JSON.stringify({
    object: 'event',
    type,
    data,
    event_attributes: { http_request: { client_ip: '192.0.2.1', user_agent: 'Mozilla/5.0' } },
    instance_id: 'ins_test',
    timestamp: Date.now(),
  });

type Delivery = {
  id?: string;
  at?: Date;
  secret?: string;
  /** Sent instead of the signed body (a tampered delivery). */
  sendBody?: string;
  omit?: 'svix-id' | 'svix-timestamp' | 'svix-signature';
};

type Answer = { status: number; body: Record<string, unknown> };

/** POSTs a body signed by svix's own Webhook.sign, as Svix delivers it. */
async function post(body: string, delivery: Delivery = {}): Promise<Answer> {
  const id = delivery.id ?? `msg_${unique()}`;
  const at = delivery.at ?? new Date();
  const signature = new Webhook(delivery.secret ?? SECRET).sign(id, at, body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'Svix-Webhooks/1.99',
    'svix-id': id,
    'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
    'svix-signature': signature,
  };
  if (delivery.omit) delete headers[delivery.omit];
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers,
    body: delivery.sendBody ?? body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const deliver = (type: string, data: unknown, delivery: Delivery = {}) =>
  post(envelope(type, data), delivery);

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

const TenantRow = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  subscription_status: z.string(),
  subscription_tier: z.string(),
  trial_days: z.number().nullable(),
  deleted: z.boolean(),
});

const tenantsOf = (org: Org) =>
  db.pool.any(sql.type(TenantRow)`
    SELECT id, slug, name, subscription_status::text, subscription_tier::text,
      extract(day FROM trial_ends_at - created_at)::int AS trial_days, deleted_at IS NOT NULL AS deleted
    FROM public.tenants WHERE clerk_organization_id = ${org.id}`);

async function tenantOf(org: Org) {
  const tenants = await tenantsOf(org);
  expect(tenants).toHaveLength(1);
  return tenants[0]!;
}

const UserRow = z.object({
  tenant_id: z.string(),
  email: z.string().nullable(),
  role: z.string(),
  is_active: z.boolean(),
  deleted: z.boolean(),
});

const usersOf = (clerkUserId: string, tenantId?: string) =>
  db.pool.any(sql.type(UserRow)`
    SELECT tenant_id, email, role::text, is_active, deleted_at IS NOT NULL AS deleted
    FROM public.users WHERE clerk_user_id = ${clerkUserId}
    ${tenantId ? sql.fragment`AND tenant_id = ${tenantId}` : sql.fragment``}
    ORDER BY tenant_id`);

const AuditRow = z.object({
  action: z.string(),
  actor: z.string().nullable(),
  tenant_id: z.string().nullable(),
  resource_type: z.string().nullable(),
  changes: z.unknown(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  severity: z.string(),
  success: z.boolean(),
  error_message: z.string().nullable(),
  ip_address: z.string().nullable(),
  user_agent: z.string().nullable(),
});

/** Audit rows of a tenant (or, with null, of no tenant but about this Clerk user), by action. */
const auditsOf = (tenantId: string | null, clerkUserId?: string) =>
  db.pool.any(sql.type(AuditRow)`
    SELECT action, actor, tenant_id, resource_type, changes, metadata, severity::text, success,
      error_message, host(ip_address) AS ip_address, user_agent
    FROM public.audit_logs
    WHERE ${tenantId ? sql.fragment`tenant_id = ${tenantId}` : sql.fragment`tenant_id IS NULL`}
      ${clerkUserId ? sql.fragment`AND metadata->>'clerkUserId' = ${clerkUserId}` : sql.fragment``}
    ORDER BY action, id`);

const actions = async (tenantId: string) => (await auditsOf(tenantId)).map((row) => row.action);

const eventRecorded = (id: string) =>
  db.pool.maybeOneFirst(sql.type(z.object({ type: z.string() }))`
    SELECT type FROM public.clerk_events WHERE id = ${id}`);

const session = (userId: string, org: Org, role = 'admin') =>
  api.client(sessionToken({ userId, orgId: org.id, orgSlug: org.slug, role }));

// ---------------------------------------------------------------------------------------------
// Organisations
// ---------------------------------------------------------------------------------------------

describe('organization events', () => {
  test('organization.created provisions a TRIAL starter tenant for 14 days, audited as clerk_webhook', async () => {
    const org = newOrg('Acme Spirits');
    const id = `msg_${unique()}`;
    expect(await deliver('organization.created', organisation(org), { id })).toEqual({
      status: 200,
      body: { status: 'processed' },
    });
    const tenant = await tenantOf(org);
    expect(tenant).toMatchObject({
      name: 'Acme Spirits',
      slug: org.slug,
      subscription_status: 'trial',
      subscription_tier: 'starter',
      trial_days: 14,
      deleted: false,
    });
    const [created] = await auditsOf(tenant.id);
    expect(created).toMatchObject({
      action: 'tenant.created',
      actor: 'clerk_webhook',
      success: true,
      ip_address: '127.0.0.1',
      user_agent: 'Svix-Webhooks/1.99',
    });
    expect(await eventRecorded(id)).toBe('organization.created');

    // The tenant is usable at once by the organisation's sessions.
    const viewer = await session(`user_${unique()}`, org).request(ViewerDocument);
    expect(viewer.viewer.tenant).toMatchObject({ id: tenant.id, name: 'Acme Spirits' });
  });

  test('the signature covers the raw bytes: pretty-printed JSON with escapes verifies as sent', async () => {
    const org = newOrg('Café \u201cCrème\u201d');
    const body = JSON.stringify(
      JSON.parse(envelope('organization.created', organisation(org))),
      null,
      2,
    ).replace('Café', 'Caf\\u00e9');
    expect(await post(body)).toEqual({ status: 200, body: { status: 'processed' } });
    expect((await tenantOf(org)).name).toBe('Café “Crème”');
  });

  test('organization.updated renames the tenant (slug unchanged) and audits tenant.renamed', async () => {
    const org = newOrg('Old Name Ltd');
    await deliver('organization.created', organisation(org));
    const tenant = await tenantOf(org);
    // A cached session sees the old name first ...
    const member = session(`user_${unique()}`, org);
    expect((await member.request(ViewerDocument)).viewer.tenant?.name).toBe('Old Name Ltd');

    const renamed = { ...org, name: 'New Name Ltd', slug: `renamed-${unique()}` };
    expect(await deliver('organization.updated', organisation(renamed))).toEqual({
      status: 200,
      body: { status: 'processed' },
    });
    expect(await tenantOf(org)).toMatchObject({
      id: tenant.id,
      name: 'New Name Ltd',
      slug: org.slug,
    });
    const audits = await auditsOf(tenant.id);
    expect(audits.find((row) => row.action === 'tenant.renamed')).toMatchObject({
      actor: 'clerk_webhook',
      resource_type: 'tenant',
      changes: { from: 'Old Name Ltd', to: 'New Name Ltd' },
    });
    // ... and the new one at once after the webhook (the server forgot its cached tenant).
    expect((await member.request(ViewerDocument)).viewer.tenant?.name).toBe('New Name Ltd');

    // The same name again changes nothing and audits nothing.
    expect((await deliver('organization.updated', organisation(renamed))).status).toBe(200);
    expect((await actions(tenant.id)).filter((action) => action === 'tenant.renamed')).toHaveLength(
      1,
    );
  });

  test('organization.updated for an organisation without a tenant provisions one', async () => {
    const org = newOrg('Late Arrival Ltd');
    expect((await deliver('organization.updated', organisation(org))).body).toEqual({
      status: 'processed',
    });
    const tenant = await tenantOf(org);
    expect(tenant).toMatchObject({ name: 'Late Arrival Ltd', subscription_status: 'trial' });
    expect(await actions(tenant.id)).toEqual(['tenant.created']);
  });

  test('organization.deleted soft-deletes the tenant; its sessions get FORBIDDEN; again is a no-op', async () => {
    const org = newOrg('Doomed Ltd');
    await deliver('organization.created', organisation(org));
    const tenant = await tenantOf(org);
    const member = session(`user_${unique()}`, org);
    expect((await member.request(ViewerDocument)).viewer.tenant?.id).toBe(tenant.id);

    expect(await deliver('organization.deleted', deleted('organization', org.id))).toEqual({
      status: 200,
      body: { status: 'processed' },
    });
    expect((await tenantOf(org)).deleted).toBe(true);
    expect(await actions(tenant.id)).toEqual(['tenant.created', 'tenant.deleted']);
    expect((await auditsOf(tenant.id))[1]).toMatchObject({
      actor: 'clerk_webhook',
      severity: 'warning',
    });
    expect(firstError(await failure(member, ViewerDocument))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      message: "This organisation's tenant has been deleted.",
    });

    // Deleting it again, or an organisation we never had, is a no-op answered 200.
    expect((await deliver('organization.deleted', deleted('organization', org.id))).body).toEqual({
      status: 'processed',
    });
    expect(await actions(tenant.id)).toEqual(['tenant.created', 'tenant.deleted']);
    const stranger = newOrg();
    expect(
      (await deliver('organization.deleted', deleted('organization', stranger.id))).status,
    ).toBe(200);
    expect(await tenantsOf(stranger)).toEqual([]);

    // A deleted organisation's tenant is not brought back by a late organization.created.
    expect((await deliver('organization.created', organisation(org))).status).toBe(200);
    expect(await tenantOf(org)).toMatchObject({ id: tenant.id, deleted: true });
  });

  test('a session first provisions lazily (named after the slug); organization.created then gives it its name, nothing more', async () => {
    const org = newOrg('Proper Name Ltd');
    const userId = `user_${unique()}`;
    const early = await session(userId, org).request(ViewerDocument);
    const lazy = await tenantOf(org);
    expect(early.viewer.tenant).toMatchObject({ id: lazy.id, name: org.slug });

    expect((await deliver('organization.created', organisation(org))).body).toEqual({
      status: 'processed',
    });
    expect(await tenantsOf(org)).toEqual([{ ...lazy, name: 'Proper Name Ltd' }]);
    expect((await actions(lazy.id)).sort()).toEqual(['tenant.created', 'tenant.renamed']);

    await deliver('organization.updated', { ...organisation(org), name: 'Renamed Ltd' });
    expect(await tenantOf(org)).toMatchObject({
      id: lazy.id,
      name: 'Renamed Ltd',
      slug: lazy.slug,
    });
    expect((await session(userId, org).request(ViewerDocument)).viewer.tenant?.name).toBe(
      'Renamed Ltd',
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Memberships and users
// ---------------------------------------------------------------------------------------------

describe('membership events out of order', () => {
  const at = (ms: number, event: ReturnType<typeof membership>) => ({
    ...event,
    updated_at: ms,
  });

  test('an update older than the one applied changes nothing (stale); a deletion older than a re-add does not remove', async () => {
    const org = newOrg();
    await deliver('organization.created', organisation(org));
    const tenant = await tenantOf(org);
    const userId = `user_${unique()}`;
    const t = 1_770_000_000_000;
    await deliver('organizationMembership.created', at(t, membership(org, userId, 'org:member')));
    await deliver(
      'organizationMembership.updated',
      at(t + 2_000, membership(org, userId, 'org:admin')),
    );
    // A retry of an update from in between arrives last.
    expect(
      await deliver(
        'organizationMembership.updated',
        at(t + 1_000, membership(org, userId, 'org:viewer')),
      ),
    ).toEqual({ status: 200, body: { status: 'stale' } });
    expect(await usersOf(userId, tenant.id)).toEqual([
      expect.objectContaining({ role: 'admin', is_active: true }),
    ]);
    // Removed, then added back; the removal is delivered again after the re-add.
    const removal = at(t + 3_000, membership(org, userId, 'org:admin'));
    await deliver('organizationMembership.deleted', removal);
    await deliver(
      'organizationMembership.created',
      at(t + 4_000, membership(org, userId, 'org:member')),
    );
    expect((await deliver('organizationMembership.deleted', removal)).status).toBe(200);
    expect(await usersOf(userId, tenant.id)).toEqual([
      expect.objectContaining({ role: 'member', is_active: true }),
    ]);
    // A removal newer than everything applies.
    await deliver(
      'organizationMembership.deleted',
      at(t + 5_000, membership(org, userId, 'org:member')),
    );
    expect(await usersOf(userId, tenant.id)).toEqual([
      expect.objectContaining({ is_active: false }),
    ]);
  });
});

describe('membership and user events', () => {
  test('organizationMembership.created adds the user with the mapped role, audited user.added', async () => {
    const org = newOrg();
    await deliver('organization.created', organisation(org));
    const tenant = await tenantOf(org);
    const userId = `user_${unique()}`;
    expect(
      await deliver('organizationMembership.created', membership(org, userId, 'org:admin')),
    ).toEqual({
      status: 200,
      body: { status: 'processed' },
    });
    expect(await usersOf(userId)).toEqual([
      {
        tenant_id: tenant.id,
        email: `${userId}@example.com`,
        role: 'admin',
        is_active: true,
        deleted: false,
      },
    ]);
    const added = (await auditsOf(tenant.id, userId)).find((row) => row.action === 'user.added');
    expect(added).toMatchObject({
      actor: 'clerk_webhook',
      resource_type: 'user',
      changes: { role: 'admin' },
      metadata: { clerkUserId: userId, clerkRole: 'org:admin' },
      success: true,
    });
    expect(added?.metadata?.svixId).toMatch(/^msg_/);
    // basic_member maps to member (CLERK_ROLE_MAP's default).
    const other = `user_${unique()}`;
    await deliver('organizationMembership.created', membership(org, other, 'org:basic_member'));
    expect((await usersOf(other))[0]?.role).toBe('member');
  });

  test('organizationMembership.updated changes the role, audited user.role_changed {from,to}', async () => {
    const org = newOrg();
    const userId = `user_${unique()}`;
    await deliver('organizationMembership.created', membership(org, userId, 'org:admin'));
    const tenant = await tenantOf(org);
    await deliver('organizationMembership.updated', membership(org, userId, 'org:viewer'));
    expect(await usersOf(userId)).toMatchObject([{ role: 'viewer', is_active: true }]);
    const changed = (await auditsOf(tenant.id, userId)).filter(
      (row) => row.action === 'user.role_changed',
    );
    expect(changed).toMatchObject([{ changes: { from: 'admin', to: 'viewer' }, success: true }]);

    // The same role again: nothing changes, nothing is audited.
    await deliver('organizationMembership.updated', membership(org, userId, 'org:viewer'));
    expect((await auditsOf(tenant.id, userId)).map((row) => row.action)).toEqual([
      'user.added',
      'user.role_changed',
    ]);
  });

  test('a membership before organization.created provisions the tenant once', async () => {
    const org = newOrg('Members First Ltd');
    const userId = `user_${unique()}`;
    expect(
      (await deliver('organizationMembership.created', membership(org, userId, 'org:admin'))).body,
    ).toEqual({
      status: 'processed',
    });
    const tenant = await tenantOf(org);
    expect(tenant).toMatchObject({ name: 'Members First Ltd', subscription_status: 'trial' });
    expect(await deliver('organization.created', organisation(org))).toEqual({
      status: 200,
      body: { status: 'processed' },
    });
    expect(await tenantsOf(org)).toEqual([tenant]);
    expect(await actions(tenant.id)).toEqual(['tenant.created', 'user.added']);
    expect(await usersOf(userId)).toMatchObject([{ tenant_id: tenant.id, role: 'admin' }]);
  });

  test('organizationMembership.deleted deactivates the user there; their session gets FORBIDDEN; re-adding reactivates', async () => {
    const org = newOrg();
    const elsewhere = newOrg();
    const userId = `user_${unique()}`;
    await deliver('organizationMembership.created', membership(org, userId, 'org:member'));
    await deliver('organizationMembership.created', membership(elsewhere, userId, 'org:member'));
    const tenant = await tenantOf(org);
    const here = session(userId, org, 'member');
    const there = session(userId, elsewhere, 'member');
    expect((await here.request(ViewerDocument)).viewer.tenant?.id).toBe(tenant.id);
    await there.request(ViewerDocument);

    expect(
      (await deliver('organizationMembership.deleted', membership(org, userId, 'org:member'))).body,
    ).toEqual({
      status: 'processed',
    });
    expect(await usersOf(userId, tenant.id)).toMatchObject([{ is_active: false, deleted: false }]);
    expect((await auditsOf(tenant.id, userId)).map((row) => row.action)).toEqual([
      'user.added',
      'user.removed',
    ]);
    // At once on this server (it forgot the user it had cached), and only in that organisation.
    expect(firstError(await failure(here, ViewerDocument))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      message: 'Your membership of this organisation has been removed.',
    });
    expect((await there.request(ViewerDocument)).viewer.tenant).not.toBeNull();

    // Removing again audits nothing more.
    await deliver('organizationMembership.deleted', membership(org, userId, 'org:member'));
    expect(
      (await auditsOf(tenant.id, userId)).filter((row) => row.action === 'user.removed'),
    ).toHaveLength(1);

    // Added back: the row is reactivated (a session could not have done that).
    await deliver('organizationMembership.created', membership(org, userId, 'org:member'));
    expect(await usersOf(userId, tenant.id)).toMatchObject([{ is_active: true, role: 'member' }]);
    const readded = (await auditsOf(tenant.id, userId)).filter(
      (row) => row.action === 'user.added',
    );
    expect(readded).toHaveLength(2);
    expect(readded.map((row) => row.changes)).toEqual(
      expect.arrayContaining([{ role: 'member' }, { role: 'member', reactivated: true }]),
    );
    expect((await here.request(ViewerDocument)).viewer.tenant?.id).toBe(tenant.id);
  });

  test('user.deleted deactivates the user in every tenant, audited user.deleted per tenant', async () => {
    const first = newOrg();
    const second = newOrg();
    const userId = `user_${unique()}`;
    await deliver('organizationMembership.created', membership(first, userId, 'org:admin'));
    await deliver('organizationMembership.created', membership(second, userId, 'org:member'));
    const bystander = `user_${unique()}`;
    await deliver('organizationMembership.created', membership(first, bystander, 'org:member'));
    const sessions = [session(userId, first), session(userId, second, 'member')];
    for (const each of sessions) await each.request(ViewerDocument);

    expect((await deliver('user.deleted', deleted('user', userId))).body).toEqual({
      status: 'processed',
    });
    const rows = await usersOf(userId);
    expect(rows).toHaveLength(2);
    expect(rows.every((row) => !row.is_active && row.deleted)).toBe(true);
    for (const org of [first, second]) {
      const tenant = await tenantOf(org);
      expect(
        (await auditsOf(tenant.id, userId)).filter((row) => row.action === 'user.deleted'),
      ).toMatchObject([{ actor: 'clerk_webhook', severity: 'warning', success: true }]);
    }
    for (const each of sessions) {
      expect(firstError(await failure(each, ViewerDocument)).code).toBe('FORBIDDEN');
    }
    expect(await usersOf(bystander)).toMatchObject([{ is_active: true, deleted: false }]);
  });

  test('user.updated refreshes the primary email on every row of that user', async () => {
    const first = newOrg();
    const second = newOrg();
    const userId = `user_${unique()}`;
    await deliver(
      'organizationMembership.created',
      membership(first, userId, 'org:admin', 'old@example.com'),
    );
    await deliver(
      'organizationMembership.created',
      membership(second, userId, 'org:admin', 'old@example.com'),
    );

    const answer = await deliver(
      'user.updated',
      user(userId, 'new@example.com', ['secondary@example.com']),
    );
    expect(answer.body).toEqual({ status: 'processed' });
    expect((await usersOf(userId)).map((row) => row.email)).toEqual([
      'new@example.com',
      'new@example.com',
    ]);
    const tenant = await tenantOf(first);
    expect(
      (await auditsOf(tenant.id, userId)).find((row) => row.action === 'user.updated'),
    ).toMatchObject({
      changes: { email: { from: 'old@example.com', to: 'new@example.com' } },
    });
    // Unchanged email: nothing more is written.
    await deliver('user.updated', user(userId, 'new@example.com'));
    expect(
      (await auditsOf(tenant.id, userId)).filter((row) => row.action === 'user.updated'),
    ).toHaveLength(1);
  });

  test('an unknown Clerk role changes nothing: a failed audit row and 200', async () => {
    const org = newOrg();
    await deliver('organization.created', organisation(org));
    const tenant = await tenantOf(org);
    const newcomer = `user_${unique()}`;
    expect(
      await deliver(
        'organizationMembership.created',
        membership(org, newcomer, 'org:billing_manager'),
      ),
    ).toEqual({
      status: 200,
      body: { status: 'processed' },
    });
    expect(await usersOf(newcomer)).toEqual([]);
    expect(await auditsOf(tenant.id, newcomer)).toMatchObject([
      {
        action: 'user.added',
        actor: 'clerk_webhook',
        success: false,
        severity: 'warning',
        error_message:
          'Clerk role "org:billing_manager" is not in CLERK_ROLE_MAP: the membership was not applied.',
      },
    ]);

    // An existing member moved to an unknown role keeps the role they had.
    const member = `user_${unique()}`;
    await deliver('organizationMembership.created', membership(org, member, 'org:admin'));
    expect(
      (await deliver('organizationMembership.updated', membership(org, member, 'org:auditor')))
        .status,
    ).toBe(200);
    expect(await usersOf(member)).toMatchObject([{ role: 'admin', is_active: true }]);
    expect((await auditsOf(tenant.id, member)).map((row) => [row.action, row.success])).toEqual([
      ['user.added', true],
      ['user.role_changed', false],
    ]);

    // An unknown role for an organisation we do not know: no tenant is created either.
    const stranger = newOrg();
    await deliver('organizationMembership.created', membership(stranger, newcomer, 'org:guest'));
    expect(await tenantsOf(stranger)).toEqual([]);
  });

  test('other event types are recorded and ignored', async () => {
    for (const [type, data] of [
      ['session.created', { object: 'session', id: `sess_${unique()}`, user_id: 'user_x' }],
      ['organizationInvitation.created', { object: 'organization_invitation', id: 'orginv_1' }],
      ['something.new', {}],
    ] as const) {
      const id = `msg_${unique()}`;
      expect(await deliver(type, data, { id })).toEqual({
        status: 200,
        body: { status: 'ignored' },
      });
      expect(await eventRecorded(id)).toBe(type);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// One effect per svix-id, under retries and concurrency
// ---------------------------------------------------------------------------------------------

describe('idempotency', () => {
  test('a replay of the same svix-id has one effect and is answered duplicate', async () => {
    const org = newOrg();
    const id = `msg_${unique()}`;
    const body = envelope('organization.created', organisation(org));
    expect((await post(body, { id })).body).toEqual({ status: 'processed' });
    // Svix's retry: same id and body, a new timestamp and signature.
    expect(await post(body, { id, at: new Date(Date.now() + 30_000) })).toEqual({
      status: 200,
      body: { status: 'duplicate' },
    });
    const tenant = await tenantOf(org);
    expect(await actions(tenant.id)).toEqual(['tenant.created']);

    // A replayed membership.deleted does not deactivate a user re-added since.
    const userId = `user_${unique()}`;
    await deliver('organizationMembership.created', membership(org, userId, 'org:member'));
    const removal = envelope(
      'organizationMembership.deleted',
      membership(org, userId, 'org:member'),
    );
    const removalId = `msg_${unique()}`;
    await post(removal, { id: removalId });
    await deliver('organizationMembership.created', membership(org, userId, 'org:member'));
    expect((await post(removal, { id: removalId })).body).toEqual({ status: 'duplicate' });
    expect(await usersOf(userId)).toMatchObject([{ is_active: true }]);
  });

  test('10 concurrent deliveries of one organization.created (same svix-id): one tenant, one processed', async () => {
    const org = newOrg();
    const id = `msg_${unique()}`;
    const body = envelope('organization.created', organisation(org));
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(body, { id })));
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const statuses = answers.map((answer) => answer.body.status).sort();
    expect(statuses).toEqual(['processed', ...Array(9).fill('duplicate')].sort());
    const tenant = await tenantOf(org);
    expect(await actions(tenant.id)).toEqual(['tenant.created']);
  });

  test('10 concurrent deliveries with different svix-ids: one tenant, each processed', async () => {
    const org = newOrg();
    const body = envelope('organization.created', organisation(org));
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(body)));
    expect(answers.map((answer) => answer.body)).toEqual(Array(10).fill({ status: 'processed' }));
    const tenant = await tenantOf(org);
    expect(await actions(tenant.id)).toEqual(['tenant.created']);
  });

  test('concurrent memberships of a new organisation: one tenant, every user added', async () => {
    const org = newOrg();
    const users = Array.from({ length: 5 }, () => `user_${unique()}`);
    const answers = await Promise.all(
      users.map((userId) =>
        deliver('organizationMembership.created', membership(org, userId, 'org:member')),
      ),
    );
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const tenant = await tenantOf(org);
    for (const userId of users) expect(await usersOf(userId, tenant.id)).toHaveLength(1);
  });

  test('a failed effect leaves no clerk_events row, so the redelivery applies it', async () => {
    const org = newOrg('Unlucky Ltd');
    const id = `msg_${unique()}`;
    // A real PostgreSQL failure inside the transaction (no stub of our code): inserting this
    // organisation's tenant raises.
    await db.pool.query(sql.unsafe`
      CREATE FUNCTION public.test_refuse_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'tenant insert refused by the test'; END $$`);
    await db.pool.query(sql.unsafe`
      CREATE TRIGGER test_refuse_tenant BEFORE INSERT ON public.tenants FOR EACH ROW
      WHEN (NEW.name = 'Unlucky Ltd') EXECUTE FUNCTION public.test_refuse_tenant()`);
    try {
      const answer = await deliver('organization.created', organisation(org), { id });
      expect(answer.status).toBe(500);
      expect(answer.body.error).toBe(
        'Internal error: the event was not processed; a redelivery can retry it.',
      );
      expect(answer.body.requestId).toEqual(expect.any(String));
      expect(JSON.stringify(answer.body)).not.toContain('refused by the test');
      expect(await eventRecorded(id)).toBeNull();
      expect(await tenantsOf(org)).toEqual([]);
    } finally {
      await db.pool.query(sql.unsafe`DROP TRIGGER test_refuse_tenant ON public.tenants`);
      await db.pool.query(sql.unsafe`DROP FUNCTION public.test_refuse_tenant()`);
    }
    expect((await deliver('organization.created', organisation(org), { id })).body).toEqual({
      status: 'processed',
    });
    expect(await eventRecorded(id)).toBe('organization.created');
    expect((await tenantOf(org)).name).toBe('Unlucky Ltd');
  });
});

// ---------------------------------------------------------------------------------------------
// Refused deliveries change nothing
// ---------------------------------------------------------------------------------------------

describe('verification', () => {
  const SIX_MINUTES = 6 * 60_000;
  const refusals: [string, (org: Org, id: string) => Promise<Answer>, string][] = [
    [
      'a tampered body',
      (org, id) => {
        const body = envelope('organization.created', organisation(org));
        return post(body, { id, sendBody: body.replace(org.name, 'Evil Corp') });
      },
      'Invalid signature: svix-signature does not match the body.',
    ],
    [
      'the wrong secret',
      (org, id) => deliver('organization.created', organisation(org), { id, secret: OTHER_SECRET }),
      'Invalid signature: svix-signature does not match the body.',
    ],
    [
      'a stale timestamp (6 minutes old)',
      (org, id) =>
        deliver('organization.created', organisation(org), {
          id,
          at: new Date(Date.now() - SIX_MINUTES),
        }),
      'Stale delivery: svix-timestamp is more than 5 minutes in the past.',
    ],
    [
      'a timestamp 6 minutes in the future',
      (org, id) =>
        deliver('organization.created', organisation(org), {
          id,
          at: new Date(Date.now() + SIX_MINUTES),
        }),
      'Invalid svix-timestamp: it is more than 5 minutes in the future.',
    ],
    ...(['svix-id', 'svix-timestamp', 'svix-signature'] as const).map(
      (header): [string, (org: Org, id: string) => Promise<Answer>, string] => [
        `no ${header} header`,
        (org, id) => deliver('organization.created', organisation(org), { id, omit: header }),
        `Missing ${header} header.`,
      ],
    ),
    [
      'a signed body that is not JSON',
      (_org, id) => post('{"type": "organization.created", "data": {', { id }),
      'Invalid JSON body.',
    ],
    [
      'a signed body that is not an event',
      (_org, id) => post('[1, 2, 3]', { id }),
      'The body is not a Clerk event: it needs a "type" and a "data" object.',
    ],
    [
      'an organization.created without an id',
      (org, id) => deliver('organization.created', { ...organisation(org), id: undefined }, { id }),
      'Invalid organization.created event: data.id: Invalid input: expected string, received undefined.',
    ],
    [
      'a membership without its user',
      (org, id) =>
        deliver(
          'organizationMembership.created',
          { ...membership(org, 'user_x', 'org:admin'), public_user_data: undefined },
          { id },
        ),
      'Invalid organizationMembership.created event: data.public_user_data: Invalid input: expected object, received undefined.',
    ],
  ];

  test.each(refusals)(
    '%s → 400 with one clear line, nothing recorded or created',
    async (_name, send, error) => {
      const org = newOrg();
      const id = `msg_${unique()}`;
      expect(await send(org, id)).toEqual({ status: 400, body: { error } });
      expect(await eventRecorded(id)).toBeNull();
      expect(await tenantsOf(org)).toEqual([]);
    },
  );

  test('a refused delivery does not burn its svix-id: the genuine one is then processed', async () => {
    const org = newOrg();
    const id = `msg_${unique()}`;
    const body = envelope('organization.created', organisation(org));
    expect((await post(body, { id, secret: OTHER_SECRET })).status).toBe(400);
    expect((await post(body, { id })).body).toEqual({ status: 'processed' });
    await tenantOf(org);
  });

  test('GraphQL still parses JSON bodies beside the raw webhook route', async () => {
    const response = await fetch(api.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    // Parsed (and then refused for want of credentials), not a 415 or a parse error.
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });

  test('the endpoint is 404 without a webhook secret, or without Clerk', async () => {
    for (const clerk of [strictClerkConfig(), undefined]) {
      const off = await startApi(db, { clerk });
      try {
        const org = newOrg();
        const body = envelope('organization.created', organisation(org));
        const id = `msg_${unique()}`;
        const at = new Date();
        const response = await fetch(off.url.replace(/\/graphql$/, '/webhooks/clerk'), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'svix-id': id,
            'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
            'svix-signature': new Webhook(SECRET).sign(id, at, body),
          },
          body,
        });
        expect(response.status).toBe(404);
        expect(await eventRecorded(id)).toBeNull();
        expect(await tenantsOf(org)).toEqual([]);
      } finally {
        await off.close();
      }
    }
  });
});

describe('logging', () => {
  test('logs each delivery by svix-id, never the secret or the body', async () => {
    const lines: string[] = [];
    const app = await buildApp({
      pool: db.pool,
      migrations: db.migrations,
      logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
      apiKeyCacheTtlMs: 0,
      clerk: strictClerkConfig({ CLERK_WEBHOOK_SECRET: SECRET }),
    });
    const send = async (body: string, delivery: Delivery = {}) => {
      const id = delivery.id ?? `msg_${unique()}`;
      const at = delivery.at ?? new Date();
      const response = await app.inject({
        method: 'POST',
        url: '/webhooks/clerk',
        headers: {
          'content-type': 'application/json',
          'svix-id': id,
          'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
          'svix-signature': new Webhook(delivery.secret ?? SECRET).sign(id, at, body),
        },
        payload: delivery.sendBody ?? body,
      });
      return { id, status: response.statusCode };
    };
    await db.pool.query(sql.unsafe`
      CREATE FUNCTION public.test_refuse_logged() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused for the logging test'; END $$`);
    await db.pool.query(sql.unsafe`
      CREATE TRIGGER test_refuse_logged BEFORE INSERT ON public.tenants FOR EACH ROW
      WHEN (NEW.name = 'Secretive Failing Ltd') EXECUTE FUNCTION public.test_refuse_logged()`);
    try {
      const userId = `user_${unique()}`;
      const org = { ...newOrg('Secretive Holdings Ltd'), slug: `secretive-${unique()}` };
      const good = envelope(
        'organizationMembership.created',
        membership(org, userId, 'org:admin', 'hidden.person@example.com'),
      );
      const failing = envelope(
        'organization.created',
        organisation({ ...newOrg('Secretive Failing Ltd') }),
      );
      const sent = [
        { ...(await send(good)), expected: 200 },
        {
          ...(await send(good, { sendBody: good.replace('Holdings', 'Holdingz') })),
          expected: 400,
        },
        { ...(await send(good, { secret: OTHER_SECRET })), expected: 400 },
        { ...(await send(good, { at: new Date(Date.now() - 600_000) })), expected: 400 },
        { ...(await send(failing)), expected: 500 },
      ];
      expect(sent.map((each) => each.status)).toEqual(sent.map((each) => each.expected));
      const log = lines.join('');
      for (const each of sent) expect(log).toContain(each.id);
      expect(log).toContain('refused for the logging test');
      for (const secret of [
        SECRET,
        SECRET.slice('whsec_'.length),
        OTHER_SECRET.slice('whsec_'.length),
        'Secretive',
        'hidden.person',
        org.slug,
      ]) {
        expect(log).not.toContain(secret);
      }
    } finally {
      await app.close();
      await db.pool.query(sql.unsafe`DROP TRIGGER test_refuse_logged ON public.tenants`);
      await db.pool.query(sql.unsafe`DROP FUNCTION public.test_refuse_logged()`);
    }
  });
});
