/**
 * API keys in public.api_keys: created (the plaintext is returned once), listed (never a secret),
 * revoked, and looked up by hash together with their tenant in one query.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { auditSource, recordAudit, type Actor } from '../audit/audit-log.js';
import { sql } from '../db/sql.js';
import { hasFeature, PLANS } from '../billing/plans.js';
import {
  BadUserInputError,
  ConflictError,
  NotFoundError,
  PaymentRequiredError,
} from '../errors.js';
import { STATUSES, TIERS } from '../tenants/tiers.js';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key-format.js';
import { SCOPES, type Scope } from './principal.js';

/** The one scope of a platform key (tenant_id NULL), and never of a tenant's key. */
export const PLATFORM_SCOPE = 'platform';
const KEY_SCOPES = [...SCOPES, PLATFORM_SCOPE] as const;

export type ApiKeyRecord = {
  id: string;
  tenantId: string | null;
  name: string;
  prefix: string;
  /** read and/or write for a tenant's key; exactly platform for a platform key. */
  scopes: (Scope | typeof PLATFORM_SCOPE)[];
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  createdAt: Date;
  createdBy: string | null;
};

const ApiKeyRow = z.object({
  id: z.string(),
  tenant_id: z.string().nullable(),
  name: z.string(),
  key_prefix: z.string(),
  scopes: z.array(z.enum(KEY_SCOPES)),
  expires_at: z.date().nullable(),
  revoked_at: z.date().nullable(),
  last_used_at: z.date().nullable(),
  created_at: z.date(),
  created_by: z.string().nullable(),
});

const apiKeyColumns = sql.fragment`
  id, tenant_id, name, key_prefix, scopes, expires_at, revoked_at, last_used_at, created_at, created_by`;

const toRecord = (row: z.infer<typeof ApiKeyRow>): ApiKeyRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  prefix: row.key_prefix,
  scopes: row.scopes,
  expiresAt: row.expires_at,
  revokedAt: row.revoked_at,
  lastUsedAt: row.last_used_at,
  createdAt: row.created_at,
  createdBy: row.created_by,
});

export type CreateApiKeyInput = {
  /** null: a platform key, for operators (its scopes are ignored: it has exactly `platform`). */
  tenantId: string | null;
  name: string;
  scopes?: readonly string[];
  expiresAt?: Date | null;
  actor: Actor;
};

export function validScopes(scopes: readonly string[] | undefined): Scope[] {
  const requested = scopes ?? ['read'];
  const unknown = requested.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
  if (unknown.length > 0 || requested.length === 0) {
    throw new BadUserInputError(
      `Invalid scopes${unknown.length ? ` (${unknown.join(', ')})` : ''}: use one or more of ${SCOPES.join(', ')}.`,
      { field: 'scopes' },
    );
  }
  return SCOPES.filter((scope) => requested.includes(scope));
}

/** API keys are a feature of some plans: PAYMENT_REQUIRED (naming them) on the others. */
async function assertPlanHasApiKeys(db: CommonQueryMethods, tenantId: string): Promise<void> {
  const tier = await db.maybeOneFirst(sql.type(z.object({ subscription_tier: z.enum(TIERS) }))`
    /* tenantTierForApiKey */ SELECT subscription_tier FROM public.tenants WHERE id = ${tenantId}`);
  if (tier === null) throw new NotFoundError(`No tenant ${tenantId}.`, { field: 'tenantId' });
  if (!hasFeature(tier, 'api_keys')) {
    const plans = TIERS.filter((candidate) => hasFeature(candidate, 'api_keys'))
      .map((candidate) => PLANS[candidate].name)
      .join(' and ');
    throw new PaymentRequiredError(
      `API keys are part of the ${plans} plans: upgrade from ${PLANS[tier].name} to create one.`,
    );
  }
}

/** Creates a key; the returned plaintext is never stored and cannot be shown again. */
export async function createApiKey(
  db: CommonQueryMethods,
  input: CreateApiKeyInput,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 100) {
    throw new BadUserInputError('Invalid name: it must be 1 to 100 characters.', { field: 'name' });
  }
  const scopes = input.tenantId === null ? [PLATFORM_SCOPE] : validScopes(input.scopes);
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new BadUserInputError('Invalid expiresAt: it must be in the future.', {
      field: 'expiresAt',
    });
  }
  if (input.tenantId !== null) await assertPlanHasApiKeys(db, input.tenantId);
  const key = generateApiKey();
  const row = await db.one(sql.type(ApiKeyRow)`
    /* insertApiKey */
    INSERT INTO public.api_keys (tenant_id, name, key_prefix, key_hash, scopes, expires_at, created_by)
    VALUES (${input.tenantId}, ${name}, ${displayPrefix(key)}, ${sql.binary(hashApiKey(key))},
      ${sql.array(scopes, 'text')}, ${input.expiresAt ? sql.timestamp(input.expiresAt) : null}, ${auditSource(input.actor).actor})
    RETURNING ${apiKeyColumns}`);
  await recordAudit(db, {
    action: 'api_key.created',
    ...auditSource(input.actor),
    tenantId: input.tenantId,
    resourceType: 'api_key',
    resourceId: row.id,
    changes: { name, scopes, expiresAt: input.expiresAt?.toISOString() ?? null },
  });
  return { key, record: toRecord(row) };
}

/** A tenant's keys, or the platform keys when `tenantId` is null. */
export async function listApiKeys(
  db: CommonQueryMethods,
  tenantId: string | null,
): Promise<ApiKeyRecord[]> {
  const rows = await db.any(sql.type(ApiKeyRow)`
    /* listApiKeys */
    SELECT ${apiKeyColumns} FROM public.api_keys
    WHERE ${tenantId === null ? sql.fragment`tenant_id IS NULL` : sql.fragment`tenant_id = ${tenantId}`}
    ORDER BY created_at DESC, id`);
  return rows.map(toRecord);
}

/** Revokes a key of the given tenant; another tenant's key is "not found". */
export async function revokeApiKey(
  db: CommonQueryMethods,
  input: { id: string; tenantId?: string; actor: Actor },
): Promise<ApiKeyRecord> {
  const existing = await db.maybeOne(sql.type(ApiKeyRow)`
    /* findApiKeyForRevoke */
    SELECT ${apiKeyColumns} FROM public.api_keys
    WHERE id = ${input.id} ${input.tenantId ? sql.fragment`AND tenant_id = ${input.tenantId}` : sql.fragment``}
    FOR UPDATE`);
  if (!existing) throw new NotFoundError(`No API key ${input.id}.`, { field: 'id' });
  if (existing.revoked_at) {
    throw new ConflictError(
      `API key ${input.id} was already revoked on ${existing.revoked_at.toISOString()}.`,
    );
  }
  const row = await db.one(sql.type(ApiKeyRow)`
    /* revokeApiKey */
    UPDATE public.api_keys SET revoked_at = now() WHERE id = ${input.id} RETURNING ${apiKeyColumns}`);
  await recordAudit(db, {
    action: 'api_key.revoked',
    ...auditSource(input.actor),
    tenantId: row.tenant_id,
    resourceType: 'api_key',
    resourceId: row.id,
    severity: 'warning',
  });
  return toRecord(row);
}

const KeyLookupRow = z.object({
  id: z.string(),
  scopes: z.array(z.enum(KEY_SCOPES)),
  expires_at: z.date().nullable(),
  revoked_at: z.date().nullable(),
  last_used_at: z.date().nullable(),
  tenant_id: z.string().nullable(),
  slug: z.string().nullable(),
  name: z.string().nullable(),
  schema_name: z.string().nullable(),
  subscription_tier: z.enum(TIERS).nullable(),
  subscription_status: z.enum(STATUSES).nullable(),
  deleted_at: z.date().nullable(),
  trial_ends_at: z.date().nullable(),
  past_due_since: z.date().nullable(),
  suspended_reason: z.enum(['operator', 'payment']).nullable(),
  max_users: z.number().nullable(),
  max_entities: z.number().nullable(),
  max_storage_mb: z.number().nullable(),
});
export type KeyLookup = z.infer<typeof KeyLookupRow>;

/**
 * The keys with these hashes, each with its tenant (none for a platform key), in one query,
 * keyed by the hash in base64. Named `refreshApiKeys` when it runs as a cache's background
 * refresh, `findApiKeysByHash` when a request waits on it, so logs and counts tell them apart.
 */
export async function findKeysByHash(
  db: CommonQueryMethods,
  hashes: readonly Buffer[],
  purpose: 'request' | 'refresh' = 'request',
): Promise<Map<string, KeyLookup>> {
  const lookup = sql.fragment`
    SELECT k.key_hash, k.id, k.scopes, k.expires_at, k.revoked_at, k.last_used_at,
      t.id AS tenant_id, t.slug, t.name, t.schema_name, t.subscription_tier, t.subscription_status,
      t.deleted_at, t.trial_ends_at, t.past_due_since, t.suspended_reason, t.max_users,
      t.max_entities, t.max_storage_mb
    FROM public.api_keys k LEFT JOIN public.tenants t ON t.id = k.tenant_id
    WHERE k.key_hash = ANY(${sql.array([...hashes], 'bytea')})`;
  const Row = KeyLookupRow.extend({ key_hash: z.instanceof(Buffer) });
  const rows = await db.any(
    purpose === 'refresh'
      ? sql.type(Row)`/* refreshApiKeys */ ${lookup}`
      : sql.type(Row)`/* findApiKeysByHash */ ${lookup}`,
  );
  return new Map(rows.map(({ key_hash, ...found }) => [key_hash.toString('base64'), found]));
}

/** The key with this hash and its tenant, or null. */
export async function findKeyByHash(
  db: CommonQueryMethods,
  hash: Buffer,
): Promise<KeyLookup | null> {
  return (await findKeysByHash(db, [hash])).get(hash.toString('base64')) ?? null;
}
