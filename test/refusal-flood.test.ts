/**
 * Refusals cost their caller and write a bounded trail: a read-only key that floods the server
 * with requests of 15 aliased revokeApiKey calls each is rate limited like any caller (429 with
 * Retry-After once its plan's rate is spent), each refused request it sends is one audit entry
 * listing its 15 attempts, and past REFUSAL_ENTRIES_PER_MINUTE the rest are one summary entry.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { REFUSAL_ENTRIES_PER_MINUTE, REFUSALS_SUMMARISED } from '../src/audit/refusals.js';
import { PLANS } from '../src/billing/plans.js';
import { postGraphQL, startApi, tenantWithKeys, type TenantWithKeys } from './support/api.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let flooder: TenantWithKeys;

beforeAll(async () => {
  db = await createTestDatabase();
  flooder = await tenantWithKeys(db, 'flooder');
});

afterAll(async () => {
  await db?.drop();
});

const AuditRow = z.object({
  action: z.string(),
  resource_id: z.string().nullable(),
  success: z.boolean(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
});

const REQUESTS = 1_500;
const ALIASES = 15;

test(`${REQUESTS} requests of ${ALIASES} aliased revokeApiKey from a read-only key: 429s, a bounded trail, nothing revoked`, async () => {
  const api = await startApi(db, { apiKeyCacheTtlMs: 600_000 });
  const ids = Array.from({ length: ALIASES }, () => randomUUID());
  const query = `mutation { ${ids.map((id, i) => `r${i}: revokeApiKey(id: "${id}") { id }`).join(' ')} }`;
  const statuses = new Map<number, number>();
  let retryAfter: string | null = null;
  const started = Date.now();
  for (let sent = 0; sent < REQUESTS; sent += 25) {
    const answers = await Promise.all(
      Array.from({ length: 25 }, () => postGraphQL(api, flooder.readKey, { query })),
    );
    for (const answer of answers) {
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 429) {
        expect(answer.body.errors?.[0]?.extensions.code).toBe('RATE_LIMITED');
        retryAfter ??= answer.headers.get('retry-after');
      } else {
        expect(answer.status).toBe(403);
        expect(answer.body.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
      }
    }
  }
  const seconds = (Date.now() - started) / 1000;
  // The summary is written when the server stops (and every minute while it runs).
  await api.close();

  const perMinute = PLANS[flooder.tier].limits.requestsPerMinute;
  const forbidden = statuses.get(403) ?? 0;
  const limited = statuses.get(429) ?? 0;
  expect(forbidden + limited).toBe(REQUESTS);
  expect(forbidden).toBe(perMinute);
  expect(limited).toBe(REQUESTS - perMinute);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThan(60); // one rate window, so the counts above are exact

  const rows = await db.pool.any(sql.type(AuditRow)`
    SELECT action, resource_id, success, metadata FROM public.audit_logs
    WHERE tenant_id = ${flooder.id} AND actor = ${`api_key:${await keyIdOf(flooder)}`}
    ORDER BY created_at`);
  const entries = rows.filter((row) => row.action === 'api_key.revoked');
  const summaries = rows.filter((row) => row.action === REFUSALS_SUMMARISED);
  expect(rows).toHaveLength(entries.length + summaries.length);
  expect(entries).toHaveLength(REFUSAL_ENTRIES_PER_MINUTE);
  for (const entry of entries) {
    expect(entry.success).toBe(false);
    expect(entry.resource_id).toBeNull();
    expect(entry.metadata?.refused).toEqual(
      ids.map((id) => ({ operation: 'Mutation.revokeApiKey', resourceId: id })),
    );
  }
  expect(summaries).toHaveLength(1);
  expect(summaries[0]!.metadata).toMatchObject({
    refusedRequests: forbidden - REFUSAL_ENTRIES_PER_MINUTE,
    operations: { 'Mutation.revokeApiKey': (forbidden - REFUSAL_ENTRIES_PER_MINUTE) * ALIASES },
  });
  process.stdout.write(
    `flood: ${REQUESTS} requests in ${seconds.toFixed(1)} s: ${forbidden} FORBIDDEN, ${limited} RATE_LIMITED, ${rows.length} audit rows\n`,
  );

  const revoked = await db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM public.api_keys
    WHERE tenant_id = ${flooder.id} AND revoked_at IS NOT NULL`);
  expect(revoked).toBe(0);
});

/** The read-only key's id: tenantWithKeys names it "test ro". */
const keyIdOf = (tenant: TenantWithKeys) =>
  db.pool.oneFirst(sql.type(z.object({ id: z.string() }))`
    SELECT id FROM public.api_keys WHERE tenant_id = ${tenant.id} AND name = 'test ro'`);
