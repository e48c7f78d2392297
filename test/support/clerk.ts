/**
 * Clerk session tokens as Clerk signs them, made in the test: a generated RSA-2048 key pair (the
 * only size @clerk/backend reads from a PEM), compact JWS signed by hand (RS256, RS384, RS512, HS256 or none),
 * claims in either token version. `clerkConfig` is the server's config for the public key.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { loadConfig, type ClerkConfig } from '../../src/config.js';

export const rsa2048 = () =>
  generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
export const keys = rsa2048();

export const APP = 'https://app.example.com';
export const ISSUER = 'https://clerk.example.com';
export const KID = 'ins_2test';

/** The PEM as it sits in a one-line env value: newlines written as `\n`. */
export const oneLine = (pem: string) => pem.trim().replace(/\n/g, '\\n');

/** config.clerk for the test key pair, with the given CLERK_* settings on top. */
export const clerkConfig = (env: Record<string, string> = {}): ClerkConfig => {
  const clerk = loadConfig({ CLERK_JWT_KEY: oneLine(keys.publicKey), ...env }).clerk;
  if (!clerk) throw new Error('expected Clerk to be configured');
  return clerk;
};

/** The settings the request-path tests run with: azp and iss checked. */
export const strictClerkConfig = (env: Record<string, string> = {}) =>
  clerkConfig({
    CLERK_AUTHORIZED_PARTIES: `${APP},http://localhost:3000`,
    CLERK_ISSUER: ISSUER,
    ...env,
  });

export const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
export const now = () => Math.floor(Date.now() / 1000);

export type Signing = {
  alg?: string;
  key?: string | KeyObject;
  header?: Record<string, unknown>;
};

/** A compact JWS, signed by hand: RS256/384/512 with a private key, HS256 with a secret, or none. */
export function token(claims: Record<string, unknown>, signing: Signing = {}): string {
  const alg = signing.alg ?? 'RS256';
  const header = b64({ alg, typ: 'JWT', kid: KID, ...signing.header });
  const input = `${header}.${b64(claims)}`;
  let signature = '';
  const rsa = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' }[alg];
  if (rsa) {
    signature = sign(rsa, Buffer.from(input), signing.key ?? keys.privateKey).toString('base64url');
  } else if (alg === 'HS256') {
    signature = createHmac('sha256', signing.key as string)
      .update(input)
      .digest('base64url');
  }
  return `${input}.${signature}`;
}

/** The claims every session token carries, valid now. */
export const base = (): Record<string, unknown> => {
  const t = now();
  return {
    azp: APP,
    exp: t + 60,
    iat: t - 5,
    nbf: t - 5,
    iss: ISSUER,
    sid: 'sess_1',
    sub: 'user_1',
  };
};

export type Session = {
  userId?: string;
  /** null: no active organisation. */
  orgId?: string | null;
  orgSlug?: string;
  /** The Clerk role without `org:` (admin, member, ...). */
  role?: string;
  email?: string;
  version?: 1 | 2;
  claims?: Record<string, unknown>;
};

/** The claims of a session in either token version. */
export function sessionClaims(session: Session = {}): Record<string, unknown> {
  const {
    userId = 'user_1',
    orgId = 'org_1',
    orgSlug,
    role = 'admin',
    email,
    version = 2,
  } = session;
  const claims: Record<string, unknown> = { ...base(), sub: userId, sid: `sess_${userId}` };
  if (email !== undefined) claims.email = email;
  if (orgId !== null) {
    if (version === 2) {
      claims.v = 2;
      claims.o = { id: orgId, rol: role, ...(orgSlug ? { slg: orgSlug } : {}) };
    } else {
      claims.org_id = orgId;
      claims.org_role = `org:${role}`;
      if (orgSlug) claims.org_slug = orgSlug;
    }
  } else if (version === 2) {
    claims.v = 2;
  }
  return { ...claims, ...session.claims };
}

/** A signed session token. */
export const sessionToken = (session: Session = {}, signing: Signing = {}) =>
  token(sessionClaims(session), signing);
