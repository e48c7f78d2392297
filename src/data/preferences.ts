/**
 * One row of preferences per user and company (user_preferences, unique (user_id, company_id)).
 * The caller decides whose row it is (see the resolver); this module only reads and upserts it.
 */
import type { CommonQueryMethods, ValueExpression } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { BadUserInputError } from '../errors.js';
import { guarded, type ConstraintMessages } from './constraint-errors.js';
import { checkJson, jsonbOrNull } from './json-values.js';

export const THEMES = ['light', 'dark', 'auto'] as const;
export type Theme = (typeof THEMES)[number];

/** Each JSON preference is an object of at most this size serialized. */
export const PREFERENCE_JSON_MAX_BYTES = 64 * 1024;

export const PreferencesRow = z.object({
  id: z.string(),
  user_id: z.string(),
  theme: z.enum(THEMES),
  locale: z.string().nullable(),
  timezone: z.string().nullable(),
  dashboard_layout: z.record(z.string(), z.unknown()),
  widget_preferences: z.record(z.string(), z.unknown()),
  email_notifications: z.record(z.string(), z.unknown()),
  push_notifications: z.record(z.string(), z.unknown()),
  created_at: z.date(),
  updated_at: z.date(),
});
export type PreferencesRow = z.infer<typeof PreferencesRow>;

const preferenceColumns = sql.fragment`
  up.id, up.user_id, up.theme, up.locale, up.timezone, up.dashboard_layout, up.widget_preferences,
  up.email_notifications, up.push_notifications, up.created_at, up.updated_at`;

const PREFERENCE_CONSTRAINTS: ConstraintMessages = {
  user_preferences_theme_valid: { field: 'theme', message: 'Unknown theme.' },
};

export async function preferencesOf(db: CommonQueryMethods, userId: string) {
  return db.maybeOne(sql.type(PreferencesRow)`
    /* preferencesOf */
    SELECT ${preferenceColumns} FROM user_preferences up
    WHERE up.user_id = ${userId}
      AND up.company_id = (SELECT c.id FROM companies c ORDER BY c.created_at, c.id LIMIT 1)`);
}

export type PreferencesInput = {
  theme?: Theme | null;
  locale?: string | null;
  timezone?: string | null;
  dashboardLayout?: unknown;
  widgetPreferences?: unknown;
  emailNotifications?: unknown;
  pushNotifications?: unknown;
};

const LOCALE = /^[a-z]{2,3}(-[A-Z]{2})?$/;
/** An IANA name (Europe/London, UTC); offsets such as +01:00 are not time zones. */
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

/**
 * An IANA time zone name this runtime knows. It is stored as given: ICU's own canonical spelling
 * is CLDR's, which keeps retired names (Asia/Kolkata would come back as Asia/Calcutta).
 */
function isTimeZone(name: string): boolean {
  if (name.length > 50 || !TIME_ZONE_NAME.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const JSON_FIELDS = [
  ['dashboardLayout', 'dashboard_layout'],
  ['widgetPreferences', 'widget_preferences'],
  ['emailNotifications', 'email_notifications'],
  ['pushNotifications', 'push_notifications'],
] as const;

/** The columns to write, validated: undefined leaves a column as it is, null clears it. */
function columnValues(input: PreferencesInput) {
  const values: { column: string; value: ValueExpression }[] = [];
  if (input.theme !== undefined) {
    if (input.theme === null) {
      throw new BadUserInputError('theme cannot be null.', { field: 'theme' });
    }
    values.push({ column: 'theme', value: input.theme });
  }
  if (input.locale !== undefined) {
    if (input.locale !== null && (input.locale.length > 10 || !LOCALE.test(input.locale))) {
      throw new BadUserInputError(
        'Invalid locale: use a language code with an optional region, such as en or en-GB.',
        { field: 'locale' },
      );
    }
    values.push({ column: 'locale', value: input.locale });
  }
  if (input.timezone !== undefined) {
    if (input.timezone !== null && !isTimeZone(input.timezone)) {
      throw new BadUserInputError(
        'Invalid timezone: use an IANA time zone name such as Europe/London.',
        { field: 'timezone' },
      );
    }
    values.push({ column: 'timezone', value: input.timezone });
  }
  for (const [field, column] of JSON_FIELDS) {
    const value = input[field];
    if (value === undefined) continue;
    checkJson(field, value, { maxBytes: PREFERENCE_JSON_MAX_BYTES, object: true });
    values.push({ column, value: jsonbOrNull(value) });
  }
  return values;
}

/** Creates the user's row or changes the given fields of it. */
export async function upsertPreferences(
  db: CommonQueryMethods,
  userId: string,
  input: PreferencesInput,
) {
  const values = columnValues(input);
  if (values.length === 0) {
    throw new BadUserInputError('Nothing to update: give at least one field.');
  }
  const columns = values.map(({ column }) => sql.identifier([column]));
  const updates = values.map(
    ({ column }) =>
      sql.fragment`${sql.identifier([column])} = EXCLUDED.${sql.identifier([column])}`,
  );
  return guarded(PREFERENCE_CONSTRAINTS, () =>
    db.one(sql.type(PreferencesRow)`
      /* upsertPreferences */
      INSERT INTO user_preferences AS up (user_id, company_id, ${sql.join(columns, sql.fragment`, `)})
      SELECT ${userId}, c.id, ${sql.join(
        values.map(({ value }) => value),
        sql.fragment`, `,
      )}
      FROM companies c ORDER BY c.created_at, c.id LIMIT 1
      ON CONFLICT ON CONSTRAINT user_preferences_user_company_key
      DO UPDATE SET ${sql.join(updates, sql.fragment`, `)}
      RETURNING ${preferenceColumns}`),
  );
}
