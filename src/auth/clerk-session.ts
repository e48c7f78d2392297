/**
 * Verifies a Clerk session token and turns it into a typed session. @clerk/backend's `verifyToken`
 * checks the signature, `exp`, `nbf` and `iat` within the clock skew, `sub`, and `azp` when
 * authorized parties are given. Signatures are RS256 only: its algorithm table names RS256, RS384
 * and RS512 (anything else is TokenInvalidAlgorithm), but the key it builds from CLERK_JWT_KEY's
 * PEM is an RS256 JWK, which WebCrypto will not use for RS384 or RS512 (TokenVerificationFailed).
 * It does not check `iss`, so this module does, checks the shape of the claims it keeps, and then
 * reads the active organisation from either token version:
 *
 * - v1: `org_id`, `org_slug`, `org_role` ("org:admin"), `org_permissions` ("org:feature:perm");
 * - v2 (`v: 2`): `o: { id, slg, rol ("admin"), per, fpm }` with org features in `fea`.
 *
 * Every failure is one clear line that never repeats the token: UnauthenticatedError for a token
 * that is not to be trusted, ForbiddenError for a valid session that cannot act on a tenant (no
 * active organisation, a role the role map does not know). A role is never guessed.
 */
import { verifyToken } from '@clerk/backend';
import { TokenVerificationErrorReason } from '@clerk/backend/errors';
import { clerkRoleName, type ClerkConfig, type UserRole } from '../config.js';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import { isStorableText } from '../validation.js';

export type { UserRole } from '../config.js';

/** What verification needs: config.clerk. jwtKey wins over secretKey (which fetches the JWKS). */
export type ClerkOptions = ClerkConfig;

export type ClerkSession = {
  /** `sub`: the Clerk user id (user_…). */
  userId: string;
  /** `sid`: the Clerk session id (sess_…). */
  sessionId: string;
  /**
   * The active organisation's Clerk id (org_…), which maps to a tenant; null only when the caller
   * allowed a session without one (operators).
   */
  organizationId: string | null;
  organizationSlug: string | null;
  /** The organisation role, mapped; null exactly when organizationId is. */
  role: UserRole | null;
  /** Organisation permissions as Clerk names them: "org:<feature>:<permission>". */
  permissions: string[];
  /** From an `email` claim, present only when the session token template adds one. */
  email: string | null;
  tokenVersion: 1 | 2;
};

export const NO_ORGANISATION = 'No active organisation: select an organisation in the app first.';

/** Our message for each reason @clerk/backend gives for refusing a token. */
const REFUSALS: Record<string, string> = {
  [TokenVerificationErrorReason.TokenExpired]: 'Session token expired.',
  [TokenVerificationErrorReason.TokenNotActiveYet]: 'Session token is not valid yet.',
  [TokenVerificationErrorReason.TokenIatInTheFuture]:
    'Session token is not valid yet (issued in the future).',
  [TokenVerificationErrorReason.TokenInvalidSignature]: 'Session token signature is invalid.',
  [TokenVerificationErrorReason.TokenInvalidAuthorizedParties]:
    'Session token was issued for another application (azp).',
  [TokenVerificationErrorReason.TokenInvalidIssuer]: 'Session token issuer is not trusted.',
  [TokenVerificationErrorReason.TokenInvalidAlgorithm]:
    'Session token algorithm is not accepted (RS256 only).',
  [TokenVerificationErrorReason.TokenInvalid]: 'Session token is malformed.',
  [TokenVerificationErrorReason.TokenVerificationFailed]: 'Session token could not be verified.',
  [TokenVerificationErrorReason.JWKKidMismatch]:
    'Session token was signed with a key this Clerk instance does not have (kid).',
};

function reasonOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const reason = (error as { reason?: unknown }).reason;
  return typeof reason === 'string' ? reason : undefined;
}

/** A refusal of the token, or an internal error when the server cannot verify tokens at all. */
function translate(error: unknown): Error {
  const reason = reasonOf(error);
  const refusal =
    reason !== undefined && Object.hasOwn(REFUSALS, reason) ? REFUSALS[reason] : undefined;
  if (refusal !== undefined) return new UnauthenticatedError(refusal, { reason });
  // A missing key, a JWKS that cannot be fetched, a rejected secret key: our problem, not the caller's.
  return new Error(
    `Clerk session tokens cannot be verified (${reason ?? 'unexpected error'}): check CLERK_JWT_KEY or CLERK_SECRET_KEY.`,
    { cause: error },
  );
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Clerk's ids (user_…, sess_…, org_…): letters, digits, _ and -, as they are stored. */
const CLERK_ID = /^[A-Za-z0-9_-]{1,255}$/;
const MAX_CLAIM_TEXT = 255;
const MAX_EMAIL = 320;

/**
 * The claims we keep, checked for shape even though the signature is good: a claim PostgreSQL
 * could not store, or one longer than its column, is a refusal (401) naming the claim, never a
 * failure of ours further on.
 */
function checkClaimShapes(
  session: Omit<ClerkSession, 'role' | 'tokenVersion'> & { role: string | undefined },
): void {
  const refuse = (claim: string, why: string) => {
    throw new UnauthenticatedError(`Session token claim ${claim} is not acceptable: ${why}.`, {
      reason: 'claim-shape',
    });
  };
  const id = (claim: string, value: string | null) => {
    if (value !== null && !CLERK_ID.test(value)) {
      refuse(claim, 'a Clerk id is 1 to 255 letters, digits, _ or -');
    }
  };
  const textClaim = (claim: string, value: string | null | undefined, max: number) => {
    if (value != null && (value.length > max || !isStorableText(value))) {
      refuse(claim, `at most ${max} characters of storable text`);
    }
  };
  id('sub', session.userId);
  id('sid', session.sessionId);
  id('organisation id', session.organizationId);
  textClaim('organisation slug', session.organizationSlug, MAX_CLAIM_TEXT);
  textClaim('organisation role', session.role, MAX_CLAIM_TEXT);
  textClaim('email', session.email, MAX_EMAIL);
  for (const permission of session.permissions) {
    textClaim('organisation permissions', permission, MAX_CLAIM_TEXT);
  }
}

type Organisation = {
  id: string | undefined;
  slug: string | undefined;
  role: string | undefined;
  permissions: string[];
};

function organisationV1(claims: Record<string, unknown>): Organisation {
  const permissions = claims.org_permissions;
  return {
    id: text(claims.org_id),
    slug: text(claims.org_slug),
    role: text(claims.org_role),
    permissions: Array.isArray(permissions)
      ? permissions.filter((permission): permission is string => typeof permission === 'string')
      : [],
  };
}

function organisationV2(claims: Record<string, unknown>): Organisation {
  const o = claims.o;
  if (typeof o !== 'object' || o === null) {
    return { id: undefined, slug: undefined, role: undefined, permissions: [] };
  }
  const org = o as Record<string, unknown>;
  return {
    id: text(org.id),
    slug: text(org.slg),
    role: text(org.rol),
    permissions: permissionsV2(text(claims.fea), text(org.per), text(org.fpm)),
  };
}

/**
 * v2 permissions as Clerk's own parser builds them: `fea` lists features ("o:reports,u:beta"), the
 * org-scoped ones ("o:", "ou:", "uo:") in order; `per` lists permission names; `fpm` holds one
 * decimal number per org feature whose bit i (least significant first) grants permission i.
 */
export function permissionsV2(
  fea: string | undefined,
  per: string | undefined,
  fpm: string | undefined,
): string[] {
  if (!fea || !per || !fpm) return [];
  const features: string[] = [];
  for (const part of fea.split(',')) {
    const element = part.trim();
    const colon = element.indexOf(':');
    if (colon === -1) continue;
    const scope = element.slice(0, colon);
    if (scope === 'o' || scope === 'ou' || scope === 'uo') features.push(element.slice(colon + 1));
  }
  const names = per.split(',').map((name) => name.trim());
  const masks = fpm.split(',').map((mask) => mask.trim());
  const permissions: string[] = [];
  features.forEach((feature, index) => {
    const mask = masks[index];
    if (mask === undefined || !/^\d+$/.test(mask)) return;
    let bits = BigInt(mask);
    for (const name of names) {
      if (bits === 0n) break;
      if (bits & 1n && name !== '') permissions.push(`org:${feature}:${name}`);
      bits >>= 1n;
    }
  });
  return permissions;
}

/**
 * Verifies `token` (the bare JWT, without "Bearer ") and returns the session it carries. Throws
 * UnauthenticatedError or ForbiddenError as described above, and a plain Error (an internal one)
 * when the server cannot verify tokens at all (no key, JWKS unreachable, secret key rejected).
 */
export async function verifyClerkSession(
  token: string,
  options: ClerkOptions,
  /** Whether this user (sub) may have no active organisation; by default nobody may. */
  accept: { organisationOptional?: (userId: string) => boolean } = {},
): Promise<ClerkSession> {
  const { jwtKey, secretKey, authorizedParties, issuer, clockSkewMs, roleMap } = options;
  if (!jwtKey && !secretKey) {
    throw new Error('Clerk sessions are off: set CLERK_JWT_KEY or CLERK_SECRET_KEY.');
  }
  let claims: Record<string, unknown>;
  try {
    claims = await verifyToken(token, {
      ...(jwtKey ? { jwtKey } : { secretKey }),
      authorizedParties,
      clockSkewInMs: clockSkewMs,
    });
  } catch (error) {
    throw translate(error);
  }

  if (issuer !== undefined && claims.iss !== issuer) {
    throw new UnauthenticatedError('Session token issuer is not trusted.');
  }
  const userId = text(claims.sub);
  const sessionId = text(claims.sid);
  if (userId === undefined || sessionId === undefined) {
    throw new UnauthenticatedError('Session token is not a Clerk session token (no sub or sid).');
  }
  if (claims.sts === 'pending') {
    throw new UnauthenticatedError(
      'Session is pending: finish signing in (for example, choose an organisation) first.',
    );
  }

  let tokenVersion: 1 | 2;
  let organisation: Organisation;
  if (claims.v === undefined) {
    tokenVersion = 1;
    organisation = organisationV1(claims);
  } else if (claims.v === 2) {
    tokenVersion = 2;
    organisation = organisationV2(claims);
  } else {
    throw new UnauthenticatedError('Session token version is not supported (expected 1 or 2).');
  }

  checkClaimShapes({
    userId,
    sessionId,
    organizationId: organisation.id ?? null,
    organizationSlug: organisation.slug ?? null,
    role: organisation.role,
    permissions: organisation.permissions,
    email: text(claims.email) ?? null,
  });

  if (organisation.id === undefined) {
    if (!accept.organisationOptional?.(userId)) throw new ForbiddenError(NO_ORGANISATION);
    return {
      userId,
      sessionId,
      organizationId: null,
      organizationSlug: null,
      role: null,
      permissions: [],
      email: text(claims.email) ?? null,
      tokenVersion,
    };
  }
  const clerkRole = organisation.role;
  if (clerkRole === undefined) {
    throw new ForbiddenError('The session token carries no organisation role.');
  }
  const name = clerkRoleName(clerkRole);
  const role = Object.hasOwn(roleMap, name) ? roleMap[name] : undefined;
  if (role === undefined) throw new ForbiddenError(`Unknown organisation role "${clerkRole}".`);

  return {
    userId,
    sessionId,
    organizationId: organisation.id,
    organizationSlug: organisation.slug ?? null,
    role,
    permissions: organisation.permissions,
    email: text(claims.email) ?? null,
    tokenVersion,
  };
}
