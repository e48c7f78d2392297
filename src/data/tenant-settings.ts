/**
 * A tenant's own settings (public.tenants.settings): a JSON object its OWNER keeps (fiscal year,
 * default currency, whatever the front end needs), readable by every member.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { checkJson, jsonbOrNull } from './json-values.js';

export const SETTINGS_MAX_BYTES = 16 * 1024;

const SettingsRow = z.object({ settings: z.record(z.string(), z.unknown()) });

/** The caller's tenant's settings, read in its own transaction (row-level security). */
export async function tenantSettings(db: CommonQueryMethods, tenantId: string) {
  return db.oneFirst(sql.type(SettingsRow)`
    /* tenantSettings */ SELECT settings FROM public.tenants WHERE id = ${tenantId}`);
}

/**
 * Replaces the settings with `settings` (a JSON object, at most 16 KB) under the login role;
 * returns what they were and what they are.
 */
export async function replaceTenantSettings(
  db: CommonQueryMethods,
  tenantId: string,
  settings: unknown,
): Promise<{ before: Record<string, unknown>; after: Record<string, unknown> }> {
  checkJson('settings', settings, { maxBytes: SETTINGS_MAX_BYTES, object: true });
  const before = await db.oneFirst(sql.type(SettingsRow)`
    /* lockTenantSettings */ SELECT settings FROM public.tenants WHERE id = ${tenantId} FOR UPDATE`);
  const after = await db.oneFirst(sql.type(SettingsRow)`
    /* replaceTenantSettings */
    UPDATE public.tenants SET settings = ${jsonbOrNull(settings)} WHERE id = ${tenantId}
    RETURNING settings`);
  return { before, after };
}
