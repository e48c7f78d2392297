import { sql } from 'slonik';
import {
  CreateScenarioDocument,
  CreateScenarioThenFailDocument,
  DeleteScenarioDocument,
  ScenarioDocument,
  ScenariosDocument,
  UpdateScenarioDocument,
  type CreateScenarioInput,
  type UpdateScenarioInput,
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
/** A scenario of beta's, to try from acme. */
let betaScenario: string;

const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const KB64 = 64 * 1024;

/** {"blob":"xxx..."} serialized to exactly `bytes` bytes. */
const jsonOfSize = (bytes: number) => ({ blob: 'x'.repeat(bytes - '{"blob":""}'.length) });

/** Every stored column of a tenant's scenarios, to show that a failure changed nothing. */
const stored = (tenant: TenantWithKeys) =>
  db.pool.any(sql.unsafe`
    SELECT id, company_id, name, description, scenario_type, parameters, results, impact_summary,
      baseline_scenario_id, created_by, created_at, updated_at
    FROM ${sql.identifier([tenant.schemaName, 'scenarios'])} ORDER BY id`);

const create = async (tenant: TenantWithKeys, input: CreateScenarioInput) =>
  (await api.client(tenant.key).request(CreateScenarioDocument, { input })).createScenario;

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  api = await startApi(db);
  betaScenario = (await create(beta, { name: 'Beta plan', type: 'WHAT_IF', parameters: { x: 1 } }))
    .id;
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('creating and reading scenarios', () => {
  test('createScenario stores every field; JSON comes back as it went in', async () => {
    const baseline = await create(acme, { name: 'Baseline', type: 'WHAT_IF' });
    expect(baseline).toMatchObject({
      name: 'Baseline',
      description: null,
      type: 'WHAT_IF',
      parameters: {},
      results: null,
      impactSummary: null,
      baselineScenarioId: null,
      createdBy: null,
    });
    const parameters = {
      priceChange: -0.05,
      markets: ['UK', 'EU'],
      nested: { on: true, none: null, text: 'Prix réduit — 5 %' },
    };
    const full = await create(acme, {
      name: '  Price cut 5%  ',
      description: 'What if we cut prices?',
      type: 'SENSITIVITY',
      parameters,
      results: [1, 2.5, 'three'],
      impactSummary: 42,
      baselineScenarioId: baseline.id,
    });
    expect(full).toMatchObject({
      name: 'Price cut 5%',
      description: 'What if we cut prices?',
      type: 'SENSITIVITY',
      parameters,
      results: [1, 2.5, 'three'],
      impactSummary: 42,
      baselineScenarioId: baseline.id,
      createdBy: null,
    });
    expect(new Date(full.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const row = await db.pool.one(sql.unsafe`
      SELECT company_id, scenario_type, parameters, results, created_by
      FROM ${sql.identifier([acme.schemaName, 'scenarios'])} WHERE id = ${full.id}`);
    expect(row).toEqual({
      company_id: acme.companyId,
      scenario_type: 'SENSITIVITY',
      parameters,
      results: [1, 2.5, 'three'],
      created_by: null,
    });
    const read = await api.client(acme.readKey).request(ScenarioDocument, { id: full.id });
    expect(read.scenario).toEqual(full);
  });

  test('scenarios lists the tenant’s own, newest first', async () => {
    const names = ['First', 'Second', 'Third'];
    for (const name of names) await create(acme, { name, type: 'OPTIMIZATION' });
    const list = (await api.client(acme.readKey).request(ScenariosDocument)).scenarios;
    expect(list.slice(0, 3).map((s) => s.name)).toEqual(['Third', 'Second', 'First']);
    const times = list.map((s) => new Date(s.createdAt).getTime());
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(list.map((s) => s.id)).not.toContain(betaScenario);
    expect(list).toHaveLength((await stored(acme)).length);
    const betaList = (await api.client(beta.readKey).request(ScenariosDocument)).scenarios;
    expect(betaList.map((s) => s.id)).toEqual([betaScenario]);
  });

  test('scenario(id) is null for an unknown id, another tenant’s id and a non-UUID', async () => {
    const client = api.client(acme.readKey);
    for (const id of [UNKNOWN, betaScenario, 'not-a-uuid', '']) {
      expect((await client.request(ScenarioDocument, { id })).scenario).toBeNull();
    }
  });

  test('JSON inputs of exactly 64 KB are accepted', async () => {
    const input = {
      name: 'Big',
      type: 'WHAT_IF' as const,
      parameters: jsonOfSize(KB64),
      results: jsonOfSize(KB64),
      impactSummary: jsonOfSize(KB64),
    };
    const created = await create(acme, input);
    expect(created.parameters).toEqual(input.parameters);
    expect(created.results).toEqual(input.results);
  });

  test.each<[string, Partial<CreateScenarioInput>, string, string, string]>([
    [
      'an empty name',
      { name: '   ' },
      'BAD_USER_INPUT',
      'name',
      'Invalid name: it must be 1 to 255 characters.',
    ],
    [
      'a 256-character name',
      { name: 'n'.repeat(256) },
      'BAD_USER_INPUT',
      'name',
      'Invalid name: it must be 1 to 255 characters.',
    ],
    [
      'an array as parameters',
      { parameters: [1, 2] },
      'BAD_USER_INPUT',
      'parameters',
      'parameters must be a JSON object ({...}).',
    ],
    [
      'a string as parameters',
      { parameters: 'x' },
      'BAD_USER_INPUT',
      'parameters',
      'parameters must be a JSON object ({...}).',
    ],
    [
      'null parameters',
      { parameters: null },
      'BAD_USER_INPUT',
      'parameters',
      'parameters must be a JSON object ({...}).',
    ],
    [
      'parameters over 64 KB',
      { parameters: jsonOfSize(KB64 + 1) },
      'BAD_USER_INPUT',
      'parameters',
      'parameters is too large: at most 65536 bytes as JSON (got 65537).',
    ],
    [
      'results over 64 KB',
      { results: jsonOfSize(KB64 + 1) },
      'BAD_USER_INPUT',
      'results',
      'results is too large: at most 65536 bytes as JSON (got 65537).',
    ],
    [
      'impactSummary over 64 KB',
      { impactSummary: jsonOfSize(KB64 + 1) },
      'BAD_USER_INPUT',
      'impactSummary',
      'impactSummary is too large: at most 65536 bytes as JSON (got 65537).',
    ],
    [
      'a NUL character in results',
      { results: { note: 'a\u0000b' } },
      'BAD_USER_INPUT',
      'results',
      // Refused with the other inputs, before any SQL: the message names the path.
      '$input.results.note contains U+0000 or an unpaired surrogate, which cannot be stored.',
    ],
    [
      'an unpaired surrogate in a parameters key',
      { parameters: { ['\ud800']: 1 } },
      'BAD_USER_INPUT',
      'parameters',
      '$input.parameters contains U+0000 or an unpaired surrogate, which cannot be stored.',
    ],
    [
      'JSON nested 33 levels deep',
      { impactSummary: JSON.parse('['.repeat(33) + ']'.repeat(33)) },
      'BAD_USER_INPUT',
      'impactSummary',
      'impactSummary is nested too deeply: at most 32 levels.',
    ],
    [
      'an unknown baseline',
      { baselineScenarioId: UNKNOWN },
      'NOT_FOUND',
      'baselineScenarioId',
      `No scenario ${UNKNOWN} to use as the baseline.`,
    ],
    [
      'another tenant’s scenario as baseline',
      { baselineScenarioId: 'BETA' },
      'NOT_FOUND',
      'baselineScenarioId',
      'No scenario BETA to use as the baseline.',
    ],
    [
      'a baseline that is not a UUID',
      { baselineScenarioId: 'scenario-1' },
      'NOT_FOUND',
      'baselineScenarioId',
      'No scenario scenario-1 to use as the baseline.',
    ],
  ])('createScenario with %s fails and stores nothing', async (_, patch, code, field, message) => {
    const input = { name: 'Rejected', type: 'WHAT_IF' as const, ...patch };
    if (input.baselineScenarioId === 'BETA') input.baselineScenarioId = betaScenario;
    const expected = message.replace('BETA', betaScenario);
    const before = [await stored(acme), await stored(beta)];
    const result = await failure(api.client(acme.key), CreateScenarioDocument, { input });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ message: expected, extensions: { code, field } });
    expect([await stored(acme), await stored(beta)]).toEqual(before);
  });

  test('JSON nested 32 levels deep is accepted', async () => {
    const deep = JSON.parse('['.repeat(32) + ']'.repeat(32));
    expect((await create(acme, { name: 'Deep', type: 'WHAT_IF', results: deep })).results).toEqual(
      deep,
    );
  });

  test('an unknown type is refused by the schema (400) and stores nothing', async () => {
    const before = await stored(acme);
    const result = await failure(api.client(acme.key), CreateScenarioDocument, {
      input: { name: 'X', type: 'MONTE_CARLO' as 'WHAT_IF' },
    });
    expect(result.status).toBe(400);
    expect(result.errors[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(result.errors[0]?.message).toMatch(/MONTE_CARLO/);
    expect(await stored(acme)).toEqual(before);
  });

  test('a mutation is all or nothing: a failing second createScenario rolls back the first', async () => {
    const before = await stored(acme);
    const result = await failure(api.client(acme.key), CreateScenarioThenFailDocument, {
      first: { name: 'Kept?', type: 'WHAT_IF' },
      second: { name: 'Bad', type: 'WHAT_IF', baselineScenarioId: UNKNOWN },
    });
    expect(result.errors[0]?.extensions.code).toBe('NOT_FOUND');
    expect(await stored(acme)).toEqual(before);
  });

  test('a read-only key may not create: FORBIDDEN (403), nothing stored; it may read', async () => {
    const before = await stored(acme);
    const result = await failure(api.client(acme.readKey), CreateScenarioDocument, {
      input: { name: 'RO', type: 'WHAT_IF' },
    });
    expect(firstError(result)).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message: 'This API key is read-only: createScenario needs the write scope.',
    });
    expect(await stored(acme)).toEqual(before);
  });
});

describe('updating scenarios', () => {
  let baseline: string;
  let target: string;
  beforeAll(async () => {
    baseline = (await create(acme, { name: 'Update baseline', type: 'WHAT_IF' })).id;
    target = (
      await create(acme, {
        name: 'Target',
        description: 'Before',
        type: 'WHAT_IF',
        parameters: { a: 1 },
        results: { r: 1 },
        impactSummary: { cash: '100.00' },
        baselineScenarioId: baseline,
      })
    ).id;
  });

  test('changes the given fields only; null clears the nullable ones', async () => {
    const client = api.client(acme.key);
    const before = (await client.request(ScenarioDocument, { id: target })).scenario!;
    const renamed = (
      await client.request(UpdateScenarioDocument, {
        id: target,
        input: { name: 'Renamed', type: 'OPTIMIZATION', parameters: { a: 2, b: [true] } },
      })
    ).updateScenario;
    expect(renamed).toEqual({
      ...before,
      name: 'Renamed',
      type: 'OPTIMIZATION',
      parameters: { a: 2, b: [true] },
      updatedAt: renamed.updatedAt,
    });
    expect(new Date(renamed.updatedAt).getTime()).toBeGreaterThan(
      new Date(before.updatedAt).getTime(),
    );
    const cleared = (
      await client.request(UpdateScenarioDocument, {
        id: target,
        input: { description: null, results: null, impactSummary: null, baselineScenarioId: null },
      })
    ).updateScenario;
    expect(cleared).toMatchObject({
      name: 'Renamed',
      description: null,
      results: null,
      impactSummary: null,
      baselineScenarioId: null,
      parameters: { a: 2, b: [true] },
    });
    const again = (
      await client.request(UpdateScenarioDocument, {
        id: target,
        input: { baselineScenarioId: baseline, results: { r: 2 } },
      })
    ).updateScenario;
    expect(again).toMatchObject({ baselineScenarioId: baseline, results: { r: 2 } });
    expect((await client.request(ScenarioDocument, { id: target })).scenario).toEqual(again);
  });

  test.each<[string, UpdateScenarioInput, string, string | undefined, string]>([
    [
      'an empty name',
      { name: '' },
      'BAD_USER_INPUT',
      'name',
      'Invalid name: it must be 1 to 255 characters.',
    ],
    [
      'a null name',
      { name: null },
      'BAD_USER_INPUT',
      'name',
      'Invalid name: it must be 1 to 255 characters.',
    ],
    ['a null type', { type: null }, 'BAD_USER_INPUT', 'type', 'type cannot be null.'],
    [
      'null parameters',
      { parameters: null },
      'BAD_USER_INPUT',
      'parameters',
      'parameters must be a JSON object ({...}).',
    ],
    [
      'a number as parameters',
      { parameters: 3 },
      'BAD_USER_INPUT',
      'parameters',
      'parameters must be a JSON object ({...}).',
    ],
    [
      'parameters over 64 KB',
      { parameters: jsonOfSize(KB64 + 1) },
      'BAD_USER_INPUT',
      'parameters',
      'parameters is too large: at most 65536 bytes as JSON (got 65537).',
    ],
    [
      'results over 64 KB',
      { results: jsonOfSize(KB64 + 1) },
      'BAD_USER_INPUT',
      'results',
      'results is too large: at most 65536 bytes as JSON (got 65537).',
    ],
    [
      'itself as baseline',
      { baselineScenarioId: 'SELF' },
      'BAD_USER_INPUT',
      'baselineScenarioId',
      'A scenario cannot be its own baseline.',
    ],
    [
      'an unknown baseline',
      { baselineScenarioId: UNKNOWN },
      'NOT_FOUND',
      'baselineScenarioId',
      `No scenario ${UNKNOWN} to use as the baseline.`,
    ],
    [
      'another tenant’s scenario as baseline',
      { baselineScenarioId: 'BETA' },
      'NOT_FOUND',
      'baselineScenarioId',
      'No scenario BETA to use as the baseline.',
    ],
    [
      'a baseline that is not a UUID',
      { baselineScenarioId: '42' },
      'NOT_FOUND',
      'baselineScenarioId',
      'No scenario 42 to use as the baseline.',
    ],
    [
      'no field at all',
      {},
      'BAD_USER_INPUT',
      undefined,
      'Nothing to update: give at least one field.',
    ],
  ])('updateScenario with %s fails and changes nothing', async (_, input, code, field, message) => {
    const patch = { ...input };
    if (patch.baselineScenarioId === 'SELF') patch.baselineScenarioId = target;
    if (patch.baselineScenarioId === 'BETA') patch.baselineScenarioId = betaScenario;
    const before = [await stored(acme), await stored(beta)];
    const result = await failure(api.client(acme.key), UpdateScenarioDocument, {
      id: target,
      input: patch,
    });
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.message).toBe(message.replace('BETA', betaScenario));
    expect(result.errors[0]?.extensions.code).toBe(code);
    expect(result.errors[0]?.extensions.field).toBe(field);
    expect([await stored(acme), await stored(beta)]).toEqual(before);
  });

  test('its own id in another case is still itself', async () => {
    const before = await stored(acme);
    const result = await failure(api.client(acme.key), UpdateScenarioDocument, {
      id: target,
      input: { baselineScenarioId: target.toUpperCase() },
    });
    expect(firstError(result)).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'A scenario cannot be its own baseline.',
    });
    expect(await stored(acme)).toEqual(before);
  });
});

describe('deleting scenarios', () => {
  test('deleteScenario returns the id, removes the row, and clears baselines that pointed at it', async () => {
    const base = await create(acme, { name: 'To delete', type: 'WHAT_IF' });
    const child = await create(acme, {
      name: 'Child',
      type: 'WHAT_IF',
      baselineScenarioId: base.id,
    });
    const client = api.client(acme.key);
    expect((await client.request(DeleteScenarioDocument, { id: base.id })).deleteScenario).toBe(
      base.id,
    );
    expect((await client.request(ScenarioDocument, { id: base.id })).scenario).toBeNull();
    expect(
      (await client.request(ScenarioDocument, { id: child.id })).scenario?.baselineScenarioId,
    ).toBeNull();
    const again = await failure(client, DeleteScenarioDocument, { id: base.id });
    expect(firstError(again)).toMatchObject({
      code: 'NOT_FOUND',
      message: `No scenario ${base.id}.`,
    });
  });
});

describe("another tenant's ids and ids that are not UUIDs", () => {
  test.each([
    ['another tenant’s scenario', 'BETA', 'No scenario BETA.'],
    ['an unknown id', UNKNOWN, `No scenario ${UNKNOWN}.`],
    ['a non-UUID', 'abc', 'No record abc.'],
  ])(
    'updateScenario and deleteScenario on %s are NOT_FOUND and change nothing',
    async (_, raw, text) => {
      const id = raw === 'BETA' ? betaScenario : raw;
      const message = text.replace('BETA', betaScenario);
      const before = [await stored(acme), await stored(beta)];
      const client = api.client(acme.key);
      const update = await failure(client, UpdateScenarioDocument, {
        id,
        input: { name: 'Hijacked', parameters: { stolen: true } },
      });
      expect(update.errors[0]).toMatchObject({
        message,
        extensions: { code: 'NOT_FOUND', field: 'id' },
      });
      const remove = await failure(client, DeleteScenarioDocument, { id });
      expect(remove.errors[0]).toMatchObject({
        message,
        extensions: { code: 'NOT_FOUND', field: 'id' },
      });
      expect([await stored(acme), await stored(beta)]).toEqual(before);
    },
  );

  test('beta still sees its scenario untouched', async () => {
    const read = await api.client(beta.readKey).request(ScenarioDocument, { id: betaScenario });
    expect(read.scenario).toMatchObject({ name: 'Beta plan', parameters: { x: 1 } });
  });
});
