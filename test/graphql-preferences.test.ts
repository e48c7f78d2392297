import { sql } from 'slonik';
import { createApiKey } from '../src/auth/api-keys.js';
import {
  MyPreferencesDocument,
  UpdatePreferencesDocument,
  type PreferencesInput,
} from './generated/graphql.js';
import {
  failure,
  firstError,
  startApi,
  tenantWithKeys,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let beta: TenantWithKeys;

/** Every stored column of a tenant's preferences, to show that a failure changed nothing. */
const stored = (tenant: TenantWithKeys) =>
  db.pool.any(sql.unsafe`
    SELECT id, user_id, company_id, theme, locale, timezone, dashboard_layout, widget_preferences,
      email_notifications, push_notifications, created_at, updated_at
    FROM ${sql.identifier([tenant.schemaName, 'user_preferences'])} ORDER BY user_id`);

const keyId = (tenant: TenantWithKeys, name: string) =>
  db.pool.oneFirst(sql.unsafe`
    SELECT id FROM public.api_keys WHERE tenant_id = ${tenant.id} AND name = ${name}`);

const save = async (key: string, input: PreferencesInput) =>
  (await api.client(key).request(UpdatePreferencesDocument, { input })).updatePreferences;

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  api = await startApi(db);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('the caller’s preferences', () => {
  test('are null until first saved; the first save creates the row with defaults for the rest', async () => {
    expect((await api.client(acme.key).request(MyPreferencesDocument)).preferences).toBeNull();
    const saved = await save(acme.key, { theme: 'DARK', locale: 'en-GB' });
    expect(saved).toMatchObject({
      theme: 'DARK',
      locale: 'en-GB',
      timezone: null,
      dashboardLayout: {},
      widgetPreferences: {},
      emailNotifications: {},
      pushNotifications: {},
    });
    expect((await api.client(acme.key).request(MyPreferencesDocument)).preferences).toEqual(saved);
    const rows = await stored(acme);
    expect(rows).toHaveLength(1);
    // Until user sessions exist, the API key stands in for the user.
    expect(rows[0]).toMatchObject({
      user_id: await keyId(acme, 'test rw'),
      company_id: acme.companyId,
      theme: 'dark',
      locale: 'en-GB',
    });
  });

  test('a later save changes only the given fields of the same row; null clears locale and timezone', async () => {
    const before = (await api.client(acme.key).request(MyPreferencesDocument)).preferences!;
    const layout = { columns: 3, widgets: [{ id: 'cash', x: 0, y: 0 }], dense: false };
    const changed = await save(acme.key, {
      timezone: 'Europe/London',
      dashboardLayout: layout,
      emailNotifications: { weeklyDigest: true },
    });
    expect(changed).toEqual({
      ...before,
      timezone: 'Europe/London',
      dashboardLayout: layout,
      emailNotifications: { weeklyDigest: true },
      updatedAt: changed.updatedAt,
    });
    expect(new Date(changed.updatedAt).getTime()).toBeGreaterThan(
      new Date(before.updatedAt).getTime(),
    );
    const cleared = await save(acme.key, { locale: null, timezone: null, theme: 'LIGHT' });
    expect(cleared).toMatchObject({
      theme: 'LIGHT',
      locale: null,
      timezone: null,
      dashboardLayout: layout,
      createdAt: before.createdAt,
    });
    expect(await stored(acme)).toHaveLength(1);
  });

  test.each(['UTC', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata', 'Europe/Kyiv'])(
    'timezone %s is accepted and stored as given',
    async (timezone) => {
      expect((await save(acme.key, { timezone })).timezone).toBe(timezone);
    },
  );

  test.each(['en', 'fil-PH', 'de-DE'])('locale %s is accepted', async (locale) => {
    expect((await save(acme.key, { locale })).locale).toBe(locale);
  });

  test('each API key has its own preferences; a read-only key (a VIEWER) may save its own', async () => {
    expect((await api.client(acme.readKey).request(MyPreferencesDocument)).preferences).toBeNull();
    const readWrite = (await api.client(acme.key).request(MyPreferencesDocument)).preferences;
    const saved = await save(acme.readKey, { theme: 'DARK' });
    expect(saved.theme).toBe('DARK');
    expect((await api.client(acme.key).request(MyPreferencesDocument)).preferences).toEqual(
      readWrite,
    );
  });

  test('each signed-in user has their own, whatever the role, kept across sessions', async () => {
    const viewer = acme.session('viewer', 'user_pref_viewer');
    const member = acme.session('member', 'user_pref_member');
    expect((await save(viewer, { theme: 'LIGHT', locale: 'de-DE' })).locale).toBe('de-DE');
    expect((await save(member, { theme: 'DARK' })).theme).toBe('DARK');
    const again = await api
      .client(acme.session('viewer', 'user_pref_viewer'))
      .request(MyPreferencesDocument);
    expect(again.preferences).toMatchObject({ theme: 'LIGHT', locale: 'de-DE' });
    const owners = await db.pool.anyFirst(sql.unsafe`
      SELECT p.user_id FROM ${sql.identifier([acme.schemaName, 'user_preferences'])} p
      JOIN public.users u ON u.id = p.user_id
      WHERE u.clerk_user_id IN ('user_pref_viewer', 'user_pref_member') AND u.tenant_id = ${acme.id}`);
    expect(owners).toHaveLength(2);
  });

  test('another tenant neither sees nor changes them', async () => {
    const acmeBefore = await stored(acme);
    expect((await api.client(beta.key).request(MyPreferencesDocument)).preferences).toBeNull();
    const betaSaved = await save(beta.key, { theme: 'AUTO', locale: 'fr-FR' });
    expect(betaSaved).toMatchObject({ theme: 'AUTO', locale: 'fr-FR', dashboardLayout: {} });
    expect(await stored(acme)).toEqual(acmeBefore);
    expect(await stored(beta)).toEqual([
      expect.objectContaining({
        user_id: await keyId(beta, 'test rw'),
        company_id: beta.companyId,
        locale: 'fr-FR',
      }),
    ]);
  });
});

describe('invalid preferences', () => {
  const KB64 = 64 * 1024;
  const tooBig = { blob: 'x'.repeat(KB64 + 1 - '{"blob":""}'.length) };
  test.each<[string, PreferencesInput, string | undefined, string]>([
    ['a null theme', { theme: null }, 'theme', 'theme cannot be null.'],
    [
      'locale "english"',
      { locale: 'english' },
      'locale',
      'Invalid locale: use a language code with an optional region, such as en or en-GB.',
    ],
    [
      'locale "en-gb"',
      { locale: 'en-gb' },
      'locale',
      'Invalid locale: use a language code with an optional region, such as en or en-GB.',
    ],
    [
      'locale "EN"',
      { locale: 'EN' },
      'locale',
      'Invalid locale: use a language code with an optional region, such as en or en-GB.',
    ],
    [
      'locale "en_GB"',
      { locale: 'en_GB' },
      'locale',
      'Invalid locale: use a language code with an optional region, such as en or en-GB.',
    ],
    [
      'an empty locale',
      { locale: '' },
      'locale',
      'Invalid locale: use a language code with an optional region, such as en or en-GB.',
    ],
    [
      'timezone "Mars/Olympus_Mons"',
      { timezone: 'Mars/Olympus_Mons' },
      'timezone',
      'Invalid timezone: use an IANA time zone name such as Europe/London.',
    ],
    [
      'an offset as timezone',
      { timezone: '+01:00' },
      'timezone',
      'Invalid timezone: use an IANA time zone name such as Europe/London.',
    ],
    [
      'an empty timezone',
      { timezone: '' },
      'timezone',
      'Invalid timezone: use an IANA time zone name such as Europe/London.',
    ],
    [
      'a 51-character timezone',
      { timezone: `Europe/${'L'.repeat(44)}` },
      'timezone',
      'Invalid timezone: use an IANA time zone name such as Europe/London.',
    ],
    [
      'an array as dashboardLayout',
      { dashboardLayout: [1] },
      'dashboardLayout',
      'dashboardLayout must be a JSON object ({...}).',
    ],
    [
      'null dashboardLayout',
      { dashboardLayout: null },
      'dashboardLayout',
      'dashboardLayout must be a JSON object ({...}).',
    ],
    [
      'a string as widgetPreferences',
      { widgetPreferences: 'compact' },
      'widgetPreferences',
      'widgetPreferences must be a JSON object ({...}).',
    ],
    [
      'pushNotifications over 64 KB',
      { pushNotifications: tooBig },
      'pushNotifications',
      'pushNotifications is too large: at most 65536 bytes as JSON (got 65537).',
    ],
    [
      'a NUL in emailNotifications',
      { emailNotifications: { to: 'a\u0000' } },
      'emailNotifications',
      '$input.emailNotifications.to contains U+0000 or an unpaired surrogate, which cannot be stored.',
    ],
    [
      'a valid theme with an invalid locale',
      { theme: 'DARK', locale: 'xx-xx' },
      'locale',
      'Invalid locale: use a language code with an optional region, such as en or en-GB.',
    ],
    ['no field at all', {}, undefined, 'Nothing to update: give at least one field.'],
  ])('%s is BAD_USER_INPUT and changes nothing', async (_, input, field, message) => {
    const before = [await stored(acme), await stored(beta)];
    const result = await failure(api.client(acme.key), UpdatePreferencesDocument, { input });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.message).toBe(message);
    expect(result.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors[0]?.extensions.field).toBe(field);
    expect([await stored(acme), await stored(beta)]).toEqual(before);
  });

  test('an unknown theme is refused by the schema (400) and changes nothing', async () => {
    const before = await stored(acme);
    const result = await failure(api.client(acme.key), UpdatePreferencesDocument, {
      input: { theme: 'NEON' as 'DARK' },
    });
    expect(result.status).toBe(400);
    expect(result.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors[0]?.message).toMatch(/NEON/);
    expect(await stored(acme)).toEqual(before);
  });

  test('an invalid first save creates no row', async () => {
    const { key } = await createApiKey(db.pool, {
      tenantId: acme.id,
      name: 'fresh',
      scopes: ['read', 'write'],
      actor: 'test',
    });
    const before = await stored(acme);
    const result = await failure(api.client(key), UpdatePreferencesDocument, {
      input: { theme: 'DARK', timezone: 'Nowhere/Special' },
    });
    expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await stored(acme)).toEqual(before);
    expect((await api.client(key).request(MyPreferencesDocument)).preferences).toBeNull();
  });
});
