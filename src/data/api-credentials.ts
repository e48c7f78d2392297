/**
 * Third-party credentials (Xero, Shopify, Amazon, ...) that a tenant stores with us, one row per
 * service (unique (company_id, service_name)). The JSON is encrypted before it leaves the process
 * (see auth/credential-crypto.ts) and only its status is ever read back: no query here selects an
 * encrypted column, and no message names a value.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { encryptCredential } from '../auth/credential-crypto.js';
import { sql } from '../db/sql.js';
import { BadUserInputError } from '../errors.js';
import { guarded, type ConstraintMessages } from './constraint-errors.js';
import { checkJson } from './json-values.js';

/**
 * The version of the encryption key in use. It is stored with each value and bound into its
 * associated data; rotating the key means a new version and re-encrypting the rows of the old one.
 */
export const KEY_VERSION = 1;

export const CREDENTIALS_MAX_BYTES = 16 * 1024;

const SERVICE = /^[a-z0-9_]{1,100}$/;

export const SYNC_STATUSES = ['SUCCESS', 'FAILURE', 'PENDING'] as const;

export const ApiCredentialRow = z.object({
  id: z.string(),
  service_name: z.string(),
  service_type: z.string().nullable(),
  is_active: z.boolean(),
  last_four: z.string().nullable(),
  key_version: z.number(),
  last_sync_at: z.date().nullable(),
  last_sync_status: z.enum(SYNC_STATUSES).nullable(),
  token_expires_at: z.date().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type ApiCredentialRow = z.infer<typeof ApiCredentialRow>;

/** Status columns only: the encrypted columns are never selected. */
const statusColumns = sql.fragment`
  ac.id, ac.service_name, ac.service_type, ac.is_active, ac.last_four, ac.key_version,
  ac.last_sync_at, ac.last_sync_status, ac.token_expires_at, ac.created_at, ac.updated_at`;

const CREDENTIAL_CONSTRAINTS: ConstraintMessages = {
  api_credentials_service_name_format: {
    field: 'service',
    message: 'Invalid service: use 1 to 100 lowercase letters, digits and _.',
  },
};

/** The associated data that binds a stored value to its tenant, service and key version. */
export const credentialAad = (tenantId: string, service: string, keyVersion: number): string =>
  `${tenantId}:${service}:${keyVersion}`;

/** The kind of service, from its name: xero is accounting, shopify and amazon are e-commerce. */
export function serviceTypeOf(service: string): string | null {
  if (/^xero(_|$)/.test(service)) return 'accounting';
  if (/^(shopify|amazon)(_|$)/.test(service)) return 'ecommerce';
  return null;
}

const SECRET_KEY = /secret|token|password|passwd|api_?key|private|signature/i;
const LAST_FOUR_MIN_LENGTH = 8;

/**
 * The last four characters to show for recognition. Rule: among the string values anywhere in the
 * object, take those under a key that looks secret (secret, token, password, api_key, private,
 * signature; any string if there is none), pick the longest (the first on a tie), and show its last
 * four characters. Nothing is shown when that string is shorter than eight characters: four of
 * them would give away half of it.
 */
export function lastFourOf(credentials: Record<string, unknown>): string | null {
  const strings: { secretKey: boolean; value: string }[] = [];
  const pending: { key: string; value: unknown }[] = Object.entries(credentials)
    .map(([key, value]) => ({ key, value }))
    .reverse();
  while (pending.length > 0) {
    const { key, value } = pending.pop()!;
    if (typeof value === 'string') strings.push({ secretKey: SECRET_KEY.test(key), value });
    else if (Array.isArray(value)) {
      pending.push(...value.map((item) => ({ key, value: item })).reverse());
    } else if (typeof value === 'object' && value !== null) {
      pending.push(
        ...Object.entries(value)
          .map(([child, item]) => ({ key: child, value: item }))
          .reverse(),
      );
    }
  }
  const secret = strings.filter((s) => s.secretKey);
  const candidates = secret.length > 0 ? secret : strings;
  let longest: string[] | null = null;
  for (const { value } of candidates) {
    const characters = [...value];
    if (longest === null || characters.length > longest.length) longest = characters;
  }
  if (longest === null || longest.length < LAST_FOUR_MIN_LENGTH) return null;
  return longest.slice(-4).join('');
}

export async function listApiCredentials(db: CommonQueryMethods) {
  return db.any(sql.type(ApiCredentialRow)`
    /* listApiCredentials */
    SELECT ${statusColumns} FROM api_credentials ac ORDER BY ac.service_name, ac.id`);
}

/**
 * Encrypts and stores the credentials of one service, replacing what was stored for it. Saving
 * (re)activates the service; its sync history stays.
 */
export async function saveApiCredential(
  db: CommonQueryMethods,
  options: { key: Buffer; tenantId: string; service: string; credentials: unknown },
) {
  const { key, tenantId, service, credentials } = options;
  if (!SERVICE.test(service)) {
    throw new BadUserInputError('Invalid service: use 1 to 100 lowercase letters, digits and _.', {
      field: 'service',
    });
  }
  checkJson('credentials', credentials, {
    maxBytes: CREDENTIALS_MAX_BYTES,
    object: true,
    nonEmpty: true,
    // The value is stored as ciphertext, so jsonb's character rules do not apply.
    jsonb: false,
  });
  const values = credentials as Record<string, unknown>;
  const encrypted = encryptCredential(
    key,
    JSON.stringify(values),
    credentialAad(tenantId, service, KEY_VERSION),
  );
  return guarded(CREDENTIAL_CONSTRAINTS, () =>
    db.one(sql.type(ApiCredentialRow)`
      /* saveApiCredential */
      INSERT INTO api_credentials AS ac (company_id, service_name, service_type,
        credentials_encrypted, key_version, last_four, is_active)
      SELECT c.id, ${service}, ${serviceTypeOf(service)}, ${encrypted}, ${KEY_VERSION},
        ${lastFourOf(values)}, true
      FROM companies c ORDER BY c.created_at, c.id LIMIT 1
      ON CONFLICT ON CONSTRAINT api_credentials_company_service_key DO UPDATE SET
        service_type = EXCLUDED.service_type,
        credentials_encrypted = EXCLUDED.credentials_encrypted,
        key_version = EXCLUDED.key_version,
        last_four = EXCLUDED.last_four,
        is_active = true
      RETURNING ${statusColumns}`),
  );
}
