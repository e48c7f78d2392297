/**
 * Clerk session tokens on the request path: a real server, tokens signed in the test with a
 * generated RSA-2048 key, each organisation mapped to its tenant through
 * tenants.clerk_organization_id.
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { sql } from 'slonik';
import { loadConfig } from '../src/config.js';
import { createTenant, deleteTenant } from '../src/tenants/lifecycle.js';
import { ProductsDocument, WhoAmIDocument } from './generated/graphql.js';
import {
  failure,
  firstError,
  startApi,
  tenantWithKeys,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import {
  b64,
  KID,
  keys,
  sessionClaims,
  sessionToken,
  strictClerkConfig,
  token,
} from './support/clerk.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { statementCounter } from './support/statements.js';

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let beta: TenantWithKeys;
const counter = statementCounter();

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  api = await startApi(db, {
    pool: await db.openPool({ interceptors: [counter.interceptor] }),
    platformAdmins: ['user_operator'],
  });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const tenantSql = () =>
  counter.statements.filter((statement) => /enterTenant|enterPlatform/.test(statement));

type UserRow = {
  id: string;
  email: string | null;
  role: string;
  is_active: boolean;
  last_login_at: Date | null;
};

const userRow = (tenantId: string, clerkUserId: string): Promise<UserRow | null> =>
  db.pool.maybeOne(sql.unsafe`
    SELECT id, email, role, is_active, last_login_at FROM public.users
    WHERE tenant_id = ${tenantId} AND clerk_user_id = ${clerkUserId}`) as Promise<UserRow | null>;

describe('valid sessions', () => {
  test.each([1, 2] as const)(
    'a v%s token acts in its organisation’s tenant with its role, and its user is recorded',
    async (version) => {
      const userId = `user_v${version}`;
      const jwt = sessionToken({
        version,
        userId,
        orgId: acme.organizationId,
        role: 'member',
        email: `${userId}@acme.example`,
      });
      const { viewer } = await api.client(jwt).request(WhoAmIDocument);
      const row = await userRow(acme.id, userId);
      expect(row).toMatchObject({
        email: `${userId}@acme.example`,
        role: 'member',
        is_active: true,
      });
      expect(row?.last_login_at).toBeInstanceOf(Date);
      expect(viewer).toEqual({
        kind: 'USER',
        tenant: {
          id: acme.id,
          slug: 'acme',
          name: 'acme Ltd',
          tier: 'PROFESSIONAL',
          status: 'TRIAL',
        },
        role: 'MEMBER',
        user: { id: row?.id, clerkUserId: userId, email: `${userId}@acme.example`, role: 'MEMBER' },
        scopes: ['READ', 'WRITE'],
        operator: false,
      });
      // Its data is its tenant's.
      const products = await api.client(jwt).request(ProductsDocument, { first: 5 });
      expect(products.products.totalCount).toBe(0);
    },
  );

  test.each([
    ['owner', 'OWNER', ['READ', 'WRITE']],
    ['admin', 'ADMIN', ['READ', 'WRITE']],
    ['member', 'MEMBER', ['READ', 'WRITE']],
    ['viewer', 'VIEWER', ['READ']],
    ['basic_member', 'MEMBER', ['READ', 'WRITE']],
  ])('Clerk role %s acts as %s', async (clerkRole, role, scopes) => {
    const jwt = sessionToken({
      userId: `user_${clerkRole}`,
      orgId: beta.organizationId,
      role: clerkRole,
    });
    const { viewer } = await api.client(jwt).request(WhoAmIDocument);
    expect(viewer).toMatchObject({ role, scopes, user: { role } });
  });

  test('the user is recorded once a minute at most: a second request writes nothing', async () => {
    const jwt = sessionToken({ userId: 'user_twice', orgId: acme.organizationId, role: 'viewer' });
    await api.client(jwt).request(WhoAmIDocument);
    const first = await userRow(acme.id, 'user_twice');
    counter.reset();
    await api.client(jwt).request(WhoAmIDocument);
    expect(counter.statements.filter((s) => /recordSessionUser/.test(s))).toEqual([]);
    expect(await userRow(acme.id, 'user_twice')).toEqual(first);
  });

  test('one Clerk user in two organisations is one user row per tenant, each with its role', async () => {
    await api
      .client(sessionToken({ userId: 'user_both', orgId: acme.organizationId, role: 'admin' }))
      .request(WhoAmIDocument);
    const inBeta = await api
      .client(sessionToken({ userId: 'user_both', orgId: beta.organizationId, role: 'viewer' }))
      .request(WhoAmIDocument);
    expect(inBeta.viewer).toMatchObject({ tenant: { slug: 'beta' }, role: 'VIEWER' });
    expect(await userRow(acme.id, 'user_both')).toMatchObject({ role: 'admin' });
    expect(await userRow(beta.id, 'user_both')).toMatchObject({ role: 'viewer' });
  });

  test('a header or argument naming another tenant changes nothing', async () => {
    const jwt = acme.session('admin');
    const { viewer } = await api
      .client(jwt, {
        'x-tenant-id': beta.id,
        'x-tenant': 'beta',
        'x-organization-id': beta.organizationId,
      })
      .request(WhoAmIDocument);
    expect(viewer.tenant?.slug).toBe('acme');
  });
});

describe('refused tokens: UNAUTHENTICATED (401), no tenant SQL', () => {
  const otherKeys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const claims = () => sessionClaims({ orgId: 'org_acme', role: 'admin' });
  const t = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => string, string][] = [
    [
      'signed with another key',
      () => token(claims(), { key: otherKeys.privateKey }),
      'Session token signature is invalid.',
    ],
    [
      'expired beyond the clock skew',
      () => token({ ...claims(), exp: t() - 30, iat: t() - 120, nbf: t() - 120 }),
      'Session token expired.',
    ],
    [
      'nbf in the future',
      () => token({ ...claims(), nbf: t() + 60 }),
      'Session token is not valid yet.',
    ],
    [
      'no azp',
      () => {
        const withoutAzp = claims();
        delete withoutAzp.azp;
        return token(withoutAzp);
      },
      'Session token was issued for another application (azp).',
    ],
    [
      'a foreign azp',
      () => token({ ...claims(), azp: 'https://evil.example.com' }),
      'Session token was issued for another application (azp).',
    ],
    [
      'a foreign iss',
      () => token({ ...claims(), iss: 'https://clerk.evil.example.com' }),
      'Session token issuer is not trusted.',
    ],
    [
      'alg none',
      () => token(claims(), { alg: 'none' }),
      'Session token algorithm is not accepted (RS256 only).',
    ],
    [
      'HS256 keyed with the public key (key confusion)',
      () => token(claims(), { alg: 'HS256', key: keys.publicKey }),
      'Session token algorithm is not accepted (RS256 only).',
    ],
    [
      'an RS256 header over an HMAC signature',
      () => {
        const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: KID })}.${b64(claims())}`;
        return `${input}.${createHmac('sha256', keys.publicKey).update(input).digest('base64url')}`;
      },
      'Session token signature is invalid.',
    ],
    ['a malformed token', () => 'abc.def.ghi', 'Session token is malformed.'],
    [
      'neither a key nor a token',
      () => 'not-a-credential',
      'Invalid credentials: not an API key or a session token.',
    ],
  ];

  test.each(cases)('%s', async (_name, makeToken, message) => {
    const jwt = makeToken();
    counter.reset();
    const result = await failure(api.client(jwt), WhoAmIDocument);
    expect(firstError(result)).toEqual({ status: 401, code: 'UNAUTHENTICATED', message });
    expect(JSON.stringify(result)).not.toContain(jwt);
    expect(tenantSql()).toEqual([]);
  });

  test('a server without Clerk refuses session tokens with a clear message', async () => {
    const plain = await startApi(db, { clerk: undefined });
    try {
      expect(
        firstError(await failure(plain.client(acme.session('admin')), WhoAmIDocument)),
      ).toEqual({
        status: 401,
        code: 'UNAUTHENTICATED',
        message:
          'Session tokens are not accepted by this server (Clerk is not configured): use an API key.',
      });
    } finally {
      await plain.close();
    }
  });
});

describe('valid sessions that cannot act on a tenant', () => {
  test('no active organisation → FORBIDDEN', async () => {
    const result = await failure(api.client(sessionToken({ orgId: null })), WhoAmIDocument);
    expect(firstError(result)).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message: 'No active organisation: select an organisation in the app first.',
    });
  });

  test('an unknown role → FORBIDDEN, never guessed', async () => {
    const result = await failure(
      api.client(sessionToken({ orgId: acme.organizationId, role: 'billing_manager' })),
      WhoAmIDocument,
    );
    expect(firstError(result)).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message: 'Unknown organisation role "billing_manager".',
    });
  });

  test('an organisation without a tenant → FORBIDDEN when sessions may not provision', async () => {
    const strict = await startApi(db, {
      clerk: strictClerkConfig({ CLERK_PROVISION_ON_SESSION: 'false' }),
    });
    try {
      const result = await failure(
        strict.client(sessionToken({ orgId: 'org_unknown', role: 'admin' })),
        WhoAmIDocument,
      );
      expect(firstError(result)).toEqual({
        status: 403,
        code: 'FORBIDDEN',
        message: 'This organisation has no CapLiquify tenant yet: ask an operator to create one.',
      });
      expect(
        await db.pool.exists(
          sql.unsafe`SELECT 1 FROM public.tenants WHERE clerk_organization_id = 'org_unknown'`,
        ),
      ).toBe(false);
    } finally {
      await strict.close();
    }
  });

  test('a deleted tenant → FORBIDDEN; a suspended one → TENANT_SUSPENDED (403)', async () => {
    const gone = await createTenant(db.lifecycle, {
      slug: 'gone',
      name: 'Gone Ltd',
      clerkOrganizationId: 'org_gone',
    });
    await deleteTenant(db.lifecycle, gone.id);
    expect(
      firstError(
        await failure(
          api.client(sessionToken({ orgId: 'org_gone', role: 'owner' })),
          WhoAmIDocument,
        ),
      ),
    ).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message: "This organisation's tenant has been deleted.",
    });

    await createTenant(db.lifecycle, {
      slug: 'paused',
      name: 'Paused Ltd',
      clerkOrganizationId: 'org_paused',
      status: 'suspended',
    });
    expect(
      firstError(
        await failure(
          api.client(sessionToken({ orgId: 'org_paused', role: 'owner' })),
          WhoAmIDocument,
        ),
      ),
    ).toEqual({ status: 403, code: 'TENANT_SUSPENDED', message: 'This tenant is suspended.' });
  });

  test('a user removed from the organisation → FORBIDDEN, and the row stays deactivated', async () => {
    const jwt = sessionToken({
      userId: 'user_removed',
      orgId: acme.organizationId,
      role: 'member',
    });
    await api.client(jwt).request(WhoAmIDocument);
    await db.pool.query(sql.unsafe`
      UPDATE public.users SET is_active = false
      WHERE tenant_id = ${acme.id} AND clerk_user_id = 'user_removed'`);
    // A fresh server: nothing remembered about the user.
    const fresh = await startApi(db);
    try {
      expect(firstError(await failure(fresh.client(jwt), WhoAmIDocument))).toEqual({
        status: 403,
        code: 'FORBIDDEN',
        message: 'Your membership of this organisation has been removed.',
      });
      expect(await userRow(acme.id, 'user_removed')).toMatchObject({ is_active: false });
    } finally {
      await fresh.close();
    }
  });
});

describe('a session before its organisation’s webhook', () => {
  test('provisions the tenant (TRIAL, starter, 14 days) exactly once under 10 concurrent first requests', async () => {
    const jwt = sessionToken({
      userId: 'user_founder',
      orgId: 'org_newco',
      orgSlug: 'newco',
      role: 'admin',
    });
    const results = await Promise.all(
      Array.from({ length: 10 }, () => api.client(jwt).request(WhoAmIDocument)),
    );
    const tenants = (await db.pool.any(sql.unsafe`
      SELECT id, slug, subscription_tier, subscription_status,
        trial_ends_at > now() + interval '13 days' AND trial_ends_at < now() + interval '15 days' AS trial_14_days
      FROM public.tenants WHERE clerk_organization_id = 'org_newco'`)) as readonly { id: string }[];
    expect(tenants).toEqual([
      expect.objectContaining({
        slug: 'newco',
        subscription_tier: 'starter',
        subscription_status: 'trial',
        trial_14_days: true,
      }),
    ]);
    expect(new Set(results.map((result) => result.viewer.tenant?.id))).toEqual(
      new Set([tenants[0]!.id]),
    );
    expect(
      await db.pool.oneFirst(sql.unsafe`
        SELECT count(*) FROM public.users WHERE clerk_user_id = 'user_founder'`),
    ).toBe(1);
  });

  test('an organisation slug that is taken gets a suffixed one', async () => {
    const { viewer } = await api
      .client(sessionToken({ orgId: 'org_acme_two', orgSlug: 'acme', role: 'owner' }))
      .request(WhoAmIDocument);
    expect(viewer.tenant?.slug).toMatch(/^acme-[0-9a-f]{8}$/);
  });
});

describe('platform operators', () => {
  test('an operator without an organisation has no tenant, and tenant fields are FORBIDDEN', async () => {
    const jwt = sessionToken({ userId: 'user_operator', orgId: null });
    const { viewer } = await api.client(jwt).request(WhoAmIDocument);
    expect(viewer).toEqual({
      kind: 'USER',
      tenant: null,
      role: null,
      user: null,
      scopes: [],
      operator: true,
    });
    counter.reset();
    expect(firstError(await failure(api.client(jwt), ProductsDocument, { first: 1 }))).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message:
        "products acts on a tenant: use a tenant's API key, or a session with an active organisation.",
    });
    expect(tenantSql()).toEqual([]);
  });

  test('an operator with an active organisation acts in it with its role, and is an operator', async () => {
    const jwt = sessionToken({
      userId: 'user_operator',
      orgId: acme.organizationId,
      role: 'viewer',
    });
    const { viewer } = await api.client(jwt).request(WhoAmIDocument);
    expect(viewer).toMatchObject({ tenant: { slug: 'acme' }, role: 'VIEWER', operator: true });
  });
});

describe('CORS for browser front ends', () => {
  test('the configured origins get preflight answers and exposed headers; others get none', async () => {
    const browser = await startApi(db, { corsOrigins: ['https://app.example.com'] });
    try {
      const preflight = (origin: string) =>
        fetch(browser.url, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type',
          },
        });
      const allowed = await preflight('https://app.example.com');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
      const foreign = await preflight('https://evil.example.com');
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

      const response = await fetch(browser.url, {
        method: 'POST',
        headers: {
          origin: 'https://app.example.com',
          'content-type': 'application/json',
          authorization: `Bearer ${acme.session('viewer')}`,
        },
        body: JSON.stringify({ query: '{ viewer { role } }' }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(response.headers.get('access-control-expose-headers')).toContain('x-request-id');
    } finally {
      await browser.close();
    }
  });
});

describe('the client address in the audit log', () => {
  const refusedAt = async (server: Api) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${acme.session('viewer', 'user_ip_probe')}`,
        'x-forwarded-for': '203.0.113.7',
        'user-agent': 'ip-probe/1.0',
      },
      body: JSON.stringify({ query: 'mutation { createApiKey(input: { name: "x" }) { secret } }' }),
    });
    expect(response.status).toBe(403);
    return db.pool.oneFirst(sql.unsafe`
      SELECT host(ip_address) FROM public.audit_logs
      WHERE user_agent = 'ip-probe/1.0' ORDER BY created_at DESC LIMIT 1`);
  };

  test('is the peer by default, and X-Forwarded-For only with TRUST_PROXY', async () => {
    expect(await refusedAt(api)).toBe('127.0.0.1');
    const proxied = await startApi(db, { trustProxy: true });
    try {
      expect(await refusedAt(proxied)).toBe('203.0.113.7');
    } finally {
      await proxied.close();
    }
  });

  test('TRUST_PROXY reads true/false or a list of proxy addresses', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '192.168.1.1',
    ]);
  });
});
