import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadMigrations } from '../src/db/migrations/files.js';
import { sql } from 'slonik';
import { projectRoot } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { buildApp } from '../src/server/app.js';
import { createTenant } from '../src/tenants/lifecycle.js';
import { cliEnv } from './support/cli.js';
import { createTestDatabase, withAdmin, type TestDatabase } from './support/database.js';
import { copySqlDir, tenantVersions } from './support/sql-dir.js';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

type Started = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

async function startServer(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [path.join(projectRoot, 'dist', 'server', 'main.js')], {
    // As npm start runs it: NODE_ENV=production (libraries behave differently under 'test').
    env: cliEnv({ LOG_LEVEL: 'info', NODE_ENV: 'production', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const deadline = Date.now() + 60_000;
  while (!output.includes('Press Ctrl+C to stop.')) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, output: () => output, exited };
}

describe('npm start on a fresh machine (embedded PostgreSQL)', () => {
  let dataDir: string;
  let port: number;
  let pgPort: number;
  let firstKey = '';

  beforeAll(async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'capliquify-start-'));
    await chmod(base, 0o755);
    dataDir = path.join(base, 'pg');
    // Two ports each found free (port + 1 could belong to anything, an outbound socket say).
    port = await freePort();
    do pgPort = await freePort();
    while (pgPort === port);
  });

  const env = () => ({
    PORT: String(port),
    HOST: '127.0.0.1',
    EMBEDDED_PG_DIR: dataDir,
    EMBEDDED_PG_PORT: String(pgPort),
  });

  test('starts PostgreSQL, migrates, creates the demo tenant, serves health and readiness, and stops cleanly on SIGINT', async () => {
    const server = await startServer(env());
    expect(server.output()).toContain(`CapLiquify API is running at http://localhost:${port}`);
    expect(server.output()).toContain('demo tenant created');

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      database: 'ok',
      migrations: 'current',
      tenants: 1,
      tenantsBehind: 0,
      tenantMigrationFailures: 0,
    });

    // The printed key works against the printed endpoint.
    const key = /Authorization: Bearer (cq_live_\w+)/.exec(server.output())?.[1];
    expect(server.output()).toContain(`GraphQL:   http://localhost:${port}/graphql`);
    const viewer = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ viewer { tenant { slug name } scopes } }' }),
    });
    expect(await viewer.json()).toEqual({
      data: {
        viewer: {
          tenant: { slug: 'sentia-spirits', name: 'Sentia Spirits' },
          scopes: ['READ', 'WRITE'],
        },
      },
    });
    firstKey = key!;

    const postgresPid = Number(
      (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    expect(isAlive(postgresPid)).toBe(true);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('"msg":"stopped"');
    expect(isAlive(postgresPid)).toBe(false);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  }, 120_000);

  test('a restart keeps the data and does not create the demo tenant again; SIGTERM stops it too', async () => {
    const server = await startServer(env());
    expect(server.output()).not.toContain('demo tenant created');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toMatchObject({ status: 'ready', tenants: 1 });
    // A new key each start; the previous one is revoked.
    const key = /Authorization: Bearer (cq_live_\w+)/.exec(server.output())?.[1];
    expect(key).not.toBe(firstKey);
    const ask = (k: string) =>
      fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${k}` },
        body: JSON.stringify({ query: '{ viewer { scopes } }' }),
      });
    expect((await ask(key!)).status).toBe(200);
    expect((await ask(firstKey)).status).toBe(401);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
  }, 120_000);
});

describe('/readyz', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });
  const logger = createLogger('silent');

  test('is 503 while a migration is pending', async () => {
    const copy = await copySqlDir();
    await copy.write('public/0100_pending.sql', 'SELECT 1;\n');
    const app = await buildApp({
      pool: db.pool,
      migrations: await loadMigrations(copy.dir),
      logger,
      apiKeyCacheTtlMs: 0,
    });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      status: 'unavailable',
      database: 'ok',
      migrations: 'pending',
      publicPending: 1,
      tenantsBehind: 0,
    });
    await app.close();
  });

  test('stays 200 while some tenant schemas lag behind, and says so', async () => {
    await createTenant(db.lifecycle, { slug: 'laggard', name: 'Laggard' });
    const copy = await copySqlDir();
    const { next } = await tenantVersions();
    await copy.write(
      `tenant/${next}_later.sql`,
      'ALTER TABLE products ADD COLUMN later integer;\n',
    );
    const app = await buildApp({
      pool: db.pool,
      migrations: await loadMigrations(copy.dir),
      logger,
      apiKeyCacheTtlMs: 0,
    });
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      status: 'ready',
      database: 'ok',
      migrations: 'tenants behind',
      tenants: 1,
      tenantsBehind: 1,
      tenantMigrationFailures: 0,
    });
    await app.close();
  });

  test('is 503 when the database goes away, while /healthz stays 200', async () => {
    const doomed = await createTestDatabase();
    const app = await buildApp({
      pool: doomed.pool,
      migrations: doomed.migrations,
      logger,
      apiKeyCacheTtlMs: 0,
    });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await withAdmin((admin) =>
      admin.query(sql.unsafe`DROP DATABASE ${sql.identifier([doomed.name])} WITH (FORCE)`),
    );
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unavailable', database: 'unreachable' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await app.close();
    await doomed.pool.end();
  });
});
