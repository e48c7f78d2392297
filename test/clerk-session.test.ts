/**
 * Clerk session tokens signed here with a generated RSA-2048 key (the only size @clerk/backend
 * reads from a PEM), verified networklessly, plus the CLERK_* settings. No server, no database.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  NO_ORGANISATION,
  permissionsV2,
  verifyClerkSession,
  type ClerkOptions,
} from '../src/auth/clerk-session.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { AppError, ForbiddenError, UnauthenticatedError } from '../src/errors.js';
import {
  APP,
  ISSUER,
  KID,
  b64,
  base,
  clerkConfig,
  keys,
  now,
  oneLine,
  rsa2048,
  strictClerkConfig,
  token,
} from './support/clerk.js';

const otherKeys = rsa2048();

const options: ClerkOptions = strictClerkConfig();

const v1 = (extra: Record<string, unknown> = {}) => ({
  ...base(),
  org_id: 'org_sentia',
  org_slug: 'sentia-spirits',
  org_role: 'org:admin',
  org_permissions: ['org:sys_memberships:manage', 'org:reports:read'],
  ...extra,
});

const v2 = (o: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  ...base(),
  v: 2,
  fea: 'o:reports,u:beta,o:billing',
  o: {
    id: 'org_sentia',
    slg: 'sentia-spirits',
    rol: 'admin',
    per: 'read,manage',
    fpm: '3,1',
    ...o,
  },
  ...extra,
});

const without = (claims: Record<string, unknown>, ...names: string[]) =>
  Object.fromEntries(Object.entries(claims).filter(([name]) => !names.includes(name)));

/** The error a verification fails with; every one is kept to check that none repeats its token. */
const failures: { jwt: string; error: unknown }[] = [];
async function refusal(jwt: string, with_: ClerkOptions = options): Promise<AppError> {
  let error: unknown;
  try {
    await verifyClerkSession(jwt, with_);
  } catch (caught) {
    error = caught;
  }
  if (error === undefined) throw new Error('expected the token to be refused');
  failures.push({ jwt, error });
  if (!(error instanceof AppError)) throw error;
  return error;
}

async function expectUnauthenticated(jwt: string, message: string, with_?: ClerkOptions) {
  const error = await refusal(jwt, with_);
  expect(error).toBeInstanceOf(UnauthenticatedError);
  expect(error.code).toBe('UNAUTHENTICATED');
  expect(error.message).toBe(message);
}

async function expectForbidden(jwt: string, message: string, with_?: ClerkOptions) {
  const error = await refusal(jwt, with_);
  expect(error).toBeInstanceOf(ForbiddenError);
  expect(error.code).toBe('FORBIDDEN');
  expect(error.message).toBe(message);
}

const EXPIRED = 'Session token expired.';
const NOT_YET = 'Session token is not valid yet.';
const SIGNATURE = 'Session token signature is invalid.';
const AZP = 'Session token was issued for another application (azp).';
const ISS = 'Session token issuer is not trusted.';
const ALG = 'Session token algorithm is not accepted (RS256 only).';

describe('valid tokens', () => {
  test('a v1 token gives every field of the session', async () => {
    const session = await verifyClerkSession(token(v1({ email: 'ada@example.com' })), options);
    expect(session).toEqual({
      userId: 'user_1',
      sessionId: 'sess_1',
      organizationId: 'org_sentia',
      organizationSlug: 'sentia-spirits',
      role: 'admin',
      permissions: ['org:sys_memberships:manage', 'org:reports:read'],
      email: 'ada@example.com',
      tokenVersion: 1,
    });
  });

  test('a v2 token gives every field, permissions decoded from fea, per and fpm', async () => {
    const session = await verifyClerkSession(token(v2({}, { email: 'ada@example.com' })), options);
    expect(session).toEqual({
      userId: 'user_1',
      sessionId: 'sess_1',
      organizationId: 'org_sentia',
      organizationSlug: 'sentia-spirits',
      role: 'admin',
      permissions: ['org:reports:read', 'org:reports:manage', 'org:billing:read'],
      email: 'ada@example.com',
      tokenVersion: 2,
    });
  });

  test('optional claims absent: no slug, no permissions, no email', async () => {
    const first = await verifyClerkSession(
      token(without(v1({ org_role: 'org:viewer' }), 'org_slug', 'org_permissions')),
      options,
    );
    expect(first).toMatchObject({ organizationSlug: null, permissions: [], email: null });
    expect(first.role).toBe('viewer');
    const second = await verifyClerkSession(
      token(without(v2({ slg: undefined, rol: 'basic_member', fpm: undefined }), 'fea')),
      options,
    );
    expect(second).toMatchObject({ organizationSlug: null, permissions: [], email: null });
    expect(second.role).toBe('member');
  });

  test('every default role maps, with and without the org: prefix', async () => {
    const expected = { owner: 'owner', admin: 'admin', member: 'member', basic_member: 'member' };
    for (const [clerkRole, role] of Object.entries({ ...expected, viewer: 'viewer' })) {
      const first = await verifyClerkSession(token(v1({ org_role: `org:${clerkRole}` })), options);
      const second = await verifyClerkSession(token(v2({ rol: clerkRole })), options);
      expect([first.role, second.role]).toEqual([role, role]);
    }
  });

  test('within the clock skew: just expired, and nbf and iat just ahead, are accepted', async () => {
    const t = now();
    const session = await verifyClerkSession(
      token(v1({ exp: t - 2, iat: t - 3600, nbf: t - 3600 })),
      options,
    );
    expect(session.userId).toBe('user_1');
    await expect(
      verifyClerkSession(token(v1({ nbf: t + 2, iat: t + 2 })), options),
    ).resolves.toMatchObject({ sessionId: 'sess_1' });
  });

  test('a header without kid still verifies with a PEM key', async () => {
    const jwt = token(v1(), { header: { kid: undefined } });
    await expect(verifyClerkSession(jwt, options)).resolves.toMatchObject({ userId: 'user_1' });
  });
});

describe('refused tokens (UNAUTHENTICATED)', () => {
  test('signed with another key', async () => {
    await expectUnauthenticated(token(v1(), { key: otherKeys.privateKey }), SIGNATURE);
  });

  test('a payload changed after signing (another organisation)', async () => {
    const [header, , signature] = token(v1()).split('.');
    const forged = `${header}.${b64(v1({ org_id: 'org_other' }))}.${signature}`;
    await expectUnauthenticated(forged, SIGNATURE);
  });

  test('expired beyond the clock skew', async () => {
    const t = now();
    await expectUnauthenticated(token(v1({ exp: t - 10, iat: t - 3600, nbf: t - 3600 })), EXPIRED);
    const strict = { ...options, clockSkewMs: 0 };
    await expectUnauthenticated(token(v1({ exp: t - 2 })), EXPIRED, strict);
  });

  test('nbf in the future', async () => {
    await expectUnauthenticated(token(v1({ nbf: now() + 60 })), NOT_YET);
  });

  test('iat in the future', async () => {
    await expectUnauthenticated(
      token(v1({ iat: now() + 60 })),
      'Session token is not valid yet (issued in the future).',
    );
  });

  test('azp missing, or naming another application', async () => {
    await expectUnauthenticated(token(without(v1(), 'azp')), AZP);
    await expectUnauthenticated(token(v2({}, { azp: 'https://evil.example.com' })), AZP);
    await expectUnauthenticated(token(v1({ azp: `${APP}/` })), AZP);
  });

  test('without authorized parties configured, azp is not checked (so configure them)', async () => {
    const open = { ...options, authorizedParties: undefined };
    await expect(verifyClerkSession(token(without(v1(), 'azp')), open)).resolves.toMatchObject({
      userId: 'user_1',
    });
  });

  test('iss foreign or missing', async () => {
    await expectUnauthenticated(token(v1({ iss: 'https://clerk.evil.example.com' })), ISS);
    await expectUnauthenticated(token(v1({ iss: `${ISSUER}/` })), ISS);
    await expectUnauthenticated(token(without(v2(), 'iss')), ISS);
  });

  // docs/identity.md: @clerk/backend names RS384 and RS512 in its algorithm table, but the key
  // it builds from the PEM is an RS256 JWK, so a correctly signed RS384 or RS512 token fails
  // ("JWK alg does not match the requested algorithm"), while the same claims in RS256 pass.
  test.each(['RS384', 'RS512'])(
    'a correctly signed %s token is refused (RS256 only)',
    async (alg) => {
      await expectUnauthenticated(token(v1(), { alg }), 'Session token could not be verified.');
      await expect(verifyClerkSession(token(v1()), options)).resolves.toMatchObject({
        userId: 'user_1',
      });
    },
  );

  test.each([
    [
      'an organisation id over 255 characters',
      v1({ org_id: `org_${'x'.repeat(300)}` }),
      'organisation id',
    ],
    ['an organisation id with U+0000', v1({ org_id: 'org_a\u0000' }), 'organisation id'],
    ['an organisation id with other characters', v1({ org_id: "org_a'; --" }), 'organisation id'],
    ['a v2 organisation id with U+0000', v2({ id: 'org_\u0000' }), 'organisation id'],
    ['a sub with U+0000', v1({ sub: 'user_\u0000' }), 'sub'],
    ['a sid over 255 characters', v1({ sid: `sess_${'1'.repeat(260)}` }), 'sid'],
    ['a slug with a lone surrogate', v1({ org_slug: 'a\ud800' }), 'organisation slug'],
    ['a role over 255 characters', v1({ org_role: `org:${'r'.repeat(300)}` }), 'organisation role'],
    ['an email with U+0000', v1({ email: 'a\u0000@example.com' }), 'email'],
  ])('a signed token with %s: refused, naming the claim', async (_name, claims, claim) => {
    const error = await refusal(token(claims));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect(error.message).toMatch(new RegExp(`^Session token claim ${claim} is not acceptable: `));
    expect(error.details).toMatchObject({ reason: 'claim-shape' });
  });

  test('alg none', async () => {
    await expectUnauthenticated(token(v1(), { alg: 'none' }), ALG);
    await expectUnauthenticated(token(v1(), { alg: 'none', header: { alg: 'NONE' } }), ALG);
  });

  test('HS256 with the public key PEM as the HMAC secret (key confusion)', async () => {
    await expectUnauthenticated(token(v1(), { alg: 'HS256', key: keys.publicKey }), ALG);
    await expectUnauthenticated(token(v1(), { alg: 'HS256', key: oneLine(keys.publicKey) }), ALG);
  });

  test('RS256 header over an HS256 signature', async () => {
    const hs = token(v1(), { alg: 'HS256', key: keys.publicKey }).split('.');
    const header = b64({ alg: 'RS256', typ: 'JWT', kid: KID });
    await expectUnauthenticated(`${header}.${hs[1]}.${hs[2]}`, SIGNATURE);
  });

  test('malformed tokens', async () => {
    const MALFORMED = 'Session token is malformed.';
    await expectUnauthenticated('not-a-jwt', MALFORMED);
    await expectUnauthenticated('a.b.c', MALFORMED);
    await expectUnauthenticated('', MALFORMED);
    await expectUnauthenticated(token(v1(), { header: { typ: 'at+jwt' } }), MALFORMED);
  });

  test('no sub or no sid', async () => {
    await expectUnauthenticated(
      token(without(v1(), 'sub')),
      'Session token could not be verified.',
    );
    await expectUnauthenticated(
      token(without(v1(), 'sid')),
      'Session token is not a Clerk session token (no sub or sid).',
    );
  });

  test('a pending session', async () => {
    await expectUnauthenticated(
      token(v2({}, { sts: 'pending' })),
      'Session is pending: finish signing in (for example, choose an organisation) first.',
    );
    await expect(
      verifyClerkSession(token(v2({}, { sts: 'active' })), options),
    ).resolves.toBeTruthy();
  });

  test('an unknown token version', async () => {
    await expectUnauthenticated(
      token(v2({}, { v: 3 })),
      'Session token version is not supported (expected 1 or 2).',
    );
  });
});

describe('valid sessions that cannot act on a tenant (FORBIDDEN)', () => {
  test('no active organisation, in either version', async () => {
    await expectForbidden(token(base()), NO_ORGANISATION);
    await expectForbidden(token({ ...base(), v: 2 }), NO_ORGANISATION);
    await expectForbidden(token({ ...base(), v: 2, o: { rol: 'admin' } }), NO_ORGANISATION);
    await expectForbidden(token(v1({ org_id: '' })), NO_ORGANISATION);
    expect(NO_ORGANISATION).toBe(
      'No active organisation: select an organisation in the app first.',
    );
  });

  test('an unknown role is refused, never guessed', async () => {
    await expectForbidden(
      token(v1({ org_role: 'org:billing_manager' })),
      'Unknown organisation role "org:billing_manager".',
    );
    await expectForbidden(token(v2({ rol: 'Admin' })), 'Unknown organisation role "Admin".');
    await expectForbidden(token(v2({ rol: 'org:' })), 'Unknown organisation role "org:".');
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      await expectForbidden(token(v2({ rol: name })), `Unknown organisation role "${name}".`);
    }
  });

  test('an organisation without a role', async () => {
    await expectForbidden(
      token(without(v1(), 'org_role')),
      'The session token carries no organisation role.',
    );
  });
});

test('a custom role map replaces the default one', async () => {
  const { roleMap } = clerkConfig({
    CLERK_ROLE_MAP: '{"billing_manager":"viewer","org:lead":"admin"}',
  });
  const custom: ClerkOptions = { ...options, roleMap };
  const first = await verifyClerkSession(token(v1({ org_role: 'org:billing_manager' })), custom);
  expect(first.role).toBe('viewer');
  const second = await verifyClerkSession(token(v2({ rol: 'lead' })), custom);
  expect(second.role).toBe('admin');
  await expectForbidden(token(v2({ rol: 'admin' })), 'Unknown organisation role "admin".', custom);
});

test('no key at all is the server’s problem (an internal error), not the caller’s', async () => {
  const error = await verifyClerkSession(token(v1()), {
    ...options,
    jwtKey: undefined,
    secretKey: undefined,
  }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(Error);
  expect(error).not.toBeInstanceOf(AppError);
  expect((error as Error).message).toBe(
    'Clerk sessions are off: set CLERK_JWT_KEY or CLERK_SECRET_KEY.',
  );
});

test('v2 permissions follow Clerk’s bit order (least significant bit is the first permission)', () => {
  expect(permissionsV2('o:a,o:b', 'read,manage,delete', '5,2')).toEqual([
    'org:a:read',
    'org:a:delete',
    'org:b:manage',
  ]);
  expect(permissionsV2('u:x,ou:a,uo:b,bad,o:c', 'read', '1,1,0')).toEqual([
    'org:a:read',
    'org:b:read',
  ]);
  expect(permissionsV2('o:a', 'read', 'x')).toEqual([]);
  expect(permissionsV2(undefined, 'read', '1')).toEqual([]);
});

test('no error message or detail repeats the token or any part of it', () => {
  expect(failures.length).toBeGreaterThan(25);
  for (const { jwt, error } of failures) {
    const shown = `${(error as Error).message} ${JSON.stringify((error as AppError).details ?? {})}`;
    for (const part of [jwt, ...jwt.split('.')].filter((segment) => segment.length > 8)) {
      expect(shown).not.toContain(part);
    }
    expect((error as Error).message).not.toMatch(/\n/);
  }
});

describe('CLERK_* settings', () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };
  const withKey = (env: Record<string, string>) => ({
    CLERK_JWT_KEY: oneLine(keys.publicKey),
    ...env,
  });

  test('Clerk is off without a key; a key turns it on with the defaults', () => {
    expect(loadConfig({}).clerk).toBeUndefined();
    expect(clerkConfig()).toEqual({
      jwtKey: keys.publicKey.trim(),
      secretKey: undefined,
      provisionOnSession: true,
      webhookSecret: undefined,
      authorizedParties: undefined,
      issuer: undefined,
      clockSkewMs: 5000,
      roleMap: {
        owner: 'owner',
        admin: 'admin',
        member: 'member',
        basic_member: 'member',
        viewer: 'viewer',
      },
    });
    expect(clerkConfig().jwtKey).toContain('-----BEGIN PUBLIC KEY-----\n');
    expect(loadConfig({ CLERK_SECRET_KEY: 'sk_test_abc123' }).clerk).toMatchObject({
      jwtKey: undefined,
      secretKey: 'sk_test_abc123',
    });
  });

  test('CLERK_ROLE_MAP: a valid map, keys with or without org:', () => {
    const { roleMap } = clerkConfig({
      CLERK_ROLE_MAP: '{"org:finance":"viewer"," lead ":"admin","owner":"owner"}',
    });
    expect({ ...roleMap }).toEqual({ finance: 'viewer', lead: 'admin', owner: 'owner' });
    expect(Object.getPrototypeOf(roleMap)).toBeNull();
    expect(Object.isFrozen(roleMap)).toBe(true);
  });

  test('CLERK_ROLE_MAP: invalid JSON, not an object, an invalid role', () => {
    const OBJECT = 'CLERK_ROLE_MAP: must be a JSON object such as {"admin":"admin"}';
    expect(problemsOf(withKey({ CLERK_ROLE_MAP: '{admin: admin}' }))).toEqual([OBJECT]);
    expect(problemsOf(withKey({ CLERK_ROLE_MAP: '["admin"]' }))).toEqual([OBJECT]);
    expect(problemsOf(withKey({ CLERK_ROLE_MAP: 'null' }))).toEqual([OBJECT]);
    expect(problemsOf(withKey({ CLERK_ROLE_MAP: '{"admin":"superuser","x":1}' }))).toEqual([
      'CLERK_ROLE_MAP: "admin" maps to "superuser"; use one of owner, admin, member, viewer',
      'CLERK_ROLE_MAP: "x" maps to 1; use one of owner, admin, member, viewer',
    ]);
    expect(problemsOf(withKey({ CLERK_ROLE_MAP: '{"org:":"admin"}' }))).toEqual([
      'CLERK_ROLE_MAP: a Clerk role name is empty',
    ]);
  });

  test('CLERK_AUTHORIZED_PARTIES: comma-separated origins', () => {
    const { authorizedParties } = clerkConfig({
      CLERK_AUTHORIZED_PARTIES: ' https://app.example.com, http://localhost:3000 ,,',
    });
    expect(authorizedParties).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(problemsOf(withKey({ CLERK_AUTHORIZED_PARTIES: 'https://app.example.com/' }))).toEqual([
      'CLERK_AUTHORIZED_PARTIES: "https://app.example.com/" is not an origin: use scheme://host[:port], without a path or a trailing slash',
    ]);
    expect(problemsOf(withKey({ CLERK_AUTHORIZED_PARTIES: 'app.example.com' }))).toHaveLength(1);
    expect(problemsOf(withKey({ CLERK_AUTHORIZED_PARTIES: ' , ' }))).toEqual([
      'CLERK_AUTHORIZED_PARTIES: lists no origin',
    ]);
  });

  test('CLERK_ISSUER, CLERK_CLOCK_SKEW_MS, CLERK_SECRET_KEY', () => {
    expect(clerkConfig({ CLERK_ISSUER: 'https://clerk.example.com/' }).issuer).toBe(ISSUER);
    expect(clerkConfig({ CLERK_CLOCK_SKEW_MS: '0' }).clockSkewMs).toBe(0);
    expect(problemsOf(withKey({ CLERK_ISSUER: 'clerk.example.com' }))).toEqual([
      'CLERK_ISSUER: must be an http(s) URL such as https://clerk.example.com',
    ]);
    expect(problemsOf(withKey({ CLERK_CLOCK_SKEW_MS: '-1' }))).toHaveLength(1);
    expect(problemsOf({ CLERK_SECRET_KEY: 'pk_test_abc' })).toEqual([
      'CLERK_SECRET_KEY: must be a Clerk secret key (sk_test_… or sk_live_…)',
    ]);
  });

  test('CLERK_JWT_KEY must be an RSA-2048 PEM public key', () => {
    expect(problemsOf({ CLERK_JWT_KEY: 'abc' })).toEqual([
      'CLERK_JWT_KEY: must be a PEM public key starting with -----BEGIN PUBLIC KEY-----',
    ]);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(
      problemsOf({ CLERK_JWT_KEY: String(small.export({ type: 'spki', format: 'pem' })) }),
    ).toEqual([
      'CLERK_JWT_KEY: must be an RSA-2048 public key (the only kind Clerk issues and @clerk/backend reads)',
    ]);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(
      problemsOf({ CLERK_JWT_KEY: String(ec.export({ type: 'spki', format: 'pem' })) }),
    ).toHaveLength(1);
    expect(
      problemsOf({ CLERK_JWT_KEY: '-----BEGIN PUBLIC KEY-----\\nnope\\n-----END PUBLIC KEY-----' }),
    ).toEqual(['CLERK_JWT_KEY: is not a readable PEM public key']);
  });

  test('Clerk settings without a key are a mistake, not silently ignored', () => {
    expect(problemsOf({ CLERK_ISSUER: ISSUER, CLERK_ROLE_MAP: '{}' })).toEqual([
      'CLERK_ISSUER: set CLERK_JWT_KEY or CLERK_SECRET_KEY too, or Clerk stays off',
      'CLERK_ROLE_MAP: set CLERK_JWT_KEY or CLERK_SECRET_KEY too, or Clerk stays off',
    ]);
  });
});
