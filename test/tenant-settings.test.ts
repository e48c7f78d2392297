/**
 * The tenant's own settings: every member reads them, only the OWNER replaces them, audited.
 */
import { sql } from 'slonik';
import { TenantSettingsDocument, UpdateTenantSettingsDocument } from './generated/graphql.js';
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

const stored = async (tenantId: string) =>
  db.pool.oneFirst(sql.unsafe`SELECT settings FROM public.tenants WHERE id = ${tenantId}`);

const audits = (tenantId: string) =>
  db.pool.any(sql.unsafe`
    SELECT actor, success, changes FROM public.audit_logs
    WHERE tenant_id = ${tenantId} AND action = 'tenant.settings_changed' ORDER BY created_at`);

test('an OWNER replaces them; every member and key reads them; another tenant is untouched; audited with the keys that changed', async () => {
  expect((await api.client(acme.readKey).request(TenantSettingsDocument)).tenantSettings).toEqual(
    {},
  );
  const owner = api.client(acme.session('owner', 'user_acme_owner'));
  const first = await owner.request(UpdateTenantSettingsDocument, {
    settings: { fiscalYearStart: 4, defaultCurrency: 'GBP' },
  });
  expect(first.updateTenantSettings).toEqual({ fiscalYearStart: 4, defaultCurrency: 'GBP' });
  await owner.request(UpdateTenantSettingsDocument, {
    settings: { fiscalYearStart: 1, defaultCurrency: 'GBP', weekStartsOn: 'MONDAY' },
  });
  for (const credential of [acme.session('viewer'), acme.readKey]) {
    expect((await api.client(credential).request(TenantSettingsDocument)).tenantSettings).toEqual({
      fiscalYearStart: 1,
      defaultCurrency: 'GBP',
      weekStartsOn: 'MONDAY',
    });
  }
  expect(await stored(beta.id)).toEqual({});
  expect(await audits(acme.id)).toEqual([
    {
      actor: 'user:user_acme_owner',
      success: true,
      changes: { keys: ['defaultCurrency', 'fiscalYearStart'] },
    },
    {
      actor: 'user:user_acme_owner',
      success: true,
      changes: { keys: ['fiscalYearStart', 'weekStartsOn'] },
    },
  ]);
});

test.each([
  [
    'an ADMIN session',
    () => acme.session('admin'),
    'Your role (ADMIN) may not use updateTenantSettings: it needs OWNER.',
  ],
  [
    'a read-write key',
    () => acme.key,
    'API keys may not use updateTenantSettings: it needs a session with the OWNER role.',
  ],
])(
  '%s is FORBIDDEN, changes nothing, and the attempt is audited',
  async (_who, credential, message) => {
    const before = await stored(acme.id);
    const auditsBefore = (await audits(acme.id)).length;
    const result = await failure(api.client(credential()), UpdateTenantSettingsDocument, {
      settings: { hijacked: true },
    });
    expect(firstError(result)).toEqual({ status: 403, code: 'FORBIDDEN', message });
    expect(await stored(acme.id)).toEqual(before);
    const after = await audits(acme.id);
    expect(after).toHaveLength(auditsBefore + 1);
    expect(after.at(-1)).toMatchObject({ success: false });
  },
);

test.each([
  ['an array', [1, 2], 'settings must be a JSON object ({...}).'],
  ['a string', 'dark', 'settings must be a JSON object ({...}).'],
  [
    'more than 16 KB',
    { notes: 'x'.repeat(17_000) },
    /^settings is too large: at most 16384 bytes as JSON \(got \d+\)\.$/,
  ],
])('%s is BAD_USER_INPUT and changes nothing', async (_name, settings, message) => {
  const before = await stored(acme.id);
  const auditsBefore = (await audits(acme.id)).length;
  const result = await failure(api.client(acme.session('owner')), UpdateTenantSettingsDocument, {
    settings,
  });
  expect(result.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
  if (typeof message === 'string') expect(result.errors[0]?.message).toBe(message);
  else expect(result.errors[0]?.message).toMatch(message);
  expect(await stored(acme.id)).toEqual(before);
  expect(await audits(acme.id)).toHaveLength(auditsBefore);
});

test('a read-only tenant (cancelled) may read them, not change them: PAYMENT_REQUIRED', async () => {
  await db.pool.query(sql.unsafe`
    UPDATE public.tenants SET subscription_status = 'cancelled' WHERE id = ${beta.id}`);
  const owner = api.client(beta.session('owner'));
  expect((await owner.request(TenantSettingsDocument)).tenantSettings).toEqual({});
  expect(
    firstError(await failure(owner, UpdateTenantSettingsDocument, { settings: { a: 1 } })),
  ).toMatchObject({ status: 402, code: 'PAYMENT_REQUIRED' });
  expect(await stored(beta.id)).toEqual({});
});
