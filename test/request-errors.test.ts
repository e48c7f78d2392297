/**
 * What a caller gets when a request fails before it runs: a correctly signed Clerk token whose
 * claims have the wrong shape is 401 with the reason and the request id (it used to be a 500 with
 * neither), and a failure of ours that remains a 500 carries the request id that the log line
 * written for it carries too.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildApp } from '../src/server/app.js';
import { postGraphQL, startApi, tenantWithKeys, type TenantWithKeys } from './support/api.js';
import { sessionToken } from './support/clerk.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
let tenant: TenantWithKeys;

beforeAll(async () => {
  db = await createTestDatabase();
  tenant = await tenantWithKeys(db, 'errors');
});

afterAll(async () => {
  await db?.drop();
});

/** A logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('Clerk claims of the wrong shape', () => {
  test.each([
    ['an organisation id of 300 characters', { orgId: `org_${'x'.repeat(296)}` }],
    ['an organisation id with U+0000', { orgId: 'org_errors\u0000' }],
    ['a user id with U+0000', { userId: 'user_\u0000' }],
  ])('%s: 401 UNAUTHENTICATED with the reason and the request id', async (_name, session) => {
    const { logger } = capturingLogger();
    const api = await startApi(db, { logger });
    try {
      const jwt = sessionToken({ orgId: tenant.organizationId, role: 'admin', ...session });
      const answer = await postGraphQL(api, jwt, { query: '{ viewer { role } }' });
      expect(answer.status).toBe(401);
      const error = answer.body.errors?.[0];
      expect(error?.extensions.code).toBe('UNAUTHENTICATED');
      expect(error?.message).toMatch(
        /^Session token claim (organisation id|sub) is not acceptable/,
      );
      expect(error?.extensions.requestId).toBe(answer.headers.get('x-request-id'));
    } finally {
      await api.close();
    }
  });
});

describe('a 500 that remains', () => {
  test('carries the request id, and the log has a line with the same id', async () => {
    const { logger, lines } = capturingLogger();
    // A pool that has been closed: authentication's key lookup fails as no caller's fault would.
    const closed = await db.openPool({ maxSize: 1 });
    await closed.end();
    const api = await startApi(db, { pool: closed, logger });
    try {
      const answer = await postGraphQL(api, tenant.key, { query: '{ viewer { role } }' });
      expect(answer.status).toBe(500);
      const error = answer.body.errors?.[0];
      expect(error).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      const requestId = answer.headers.get('x-request-id');
      expect(error?.extensions.requestId).toBe(requestId);
      const logged = lines.filter((line) => line.requestId === requestId);
      expect(logged).toEqual([
        expect.objectContaining({ level: 50, msg: 'request failed before it ran' }),
      ]);
      // The detail is in the log, not in the answer.
      expect(JSON.stringify(answer.body)).not.toMatch(/pool/i);
    } finally {
      await api.close().catch(() => {});
    }
  });

  test('when the transaction cannot open (the key already cached): request id and a log line too', async () => {
    const { logger, lines } = capturingLogger();
    const pool = await db.openPool({ maxSize: 1 });
    const api = await startApi(db, { pool, logger, apiKeyCacheTtlMs: 600_000 });
    try {
      expect((await postGraphQL(api, tenant.key, { query: '{ viewer { role } }' })).status).toBe(
        200,
      );
      await pool.end();
      const answer = await postGraphQL(api, tenant.key, { query: '{ products { totalCount } }' });
      expect(answer.status).toBe(500);
      const requestId = answer.headers.get('x-request-id');
      expect(answer.body.errors?.[0]).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId },
      });
      expect(lines.filter((line) => line.requestId === requestId)).toEqual([
        expect.objectContaining({ level: 50, msg: 'request failed' }),
      ]);
    } finally {
      await api.close().catch(() => {});
    }
  });

  test('outside GraphQL too: a route that fails answers its request id, and the log has it', async () => {
    const { logger, lines } = capturingLogger();
    const app = await buildApp({
      pool: db.pool,
      migrations: db.migrations,
      logger,
      apiKeyCacheTtlMs: 0,
    });
    app.get('/test-failure', async () => {
      throw new Error('a failure of ours, with detail the caller must not see');
    });
    try {
      const response = await app.inject({ method: 'GET', url: '/test-failure' });
      expect(response.statusCode).toBe(500);
      const requestId = response.headers['x-request-id'];
      expect(response.json()).toEqual({ error: 'Internal server error', requestId });
      expect(lines.filter((line) => line.requestId === requestId)).toEqual([
        expect.objectContaining({ level: 50, msg: 'request failed' }),
      ]);
      // A client's mistake keeps fastify's own 4xx answer.
      const bad = await app.inject({
        method: 'POST',
        url: '/graphql',
        headers: { 'content-type': 'application/json' },
        payload: '{not json',
      });
      expect(bad.statusCode).toBe(400);
    } finally {
      await app.close();
    }
  });
});
