/**
 * One PostgreSQL for the whole run: DATABASE_URL when set (its role must be able to create
 * databases and roles), otherwise a throwaway embedded cluster. Each test file then makes its own
 * database in it (test/support/database.ts), so files run in parallel without sharing state.
 *
 * Jest loads this file natively (no transform, no module mapping), so it uses the build in dist/,
 * which `npm test` refreshes first.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../dist/db/embedded.js';

async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export default async function globalSetup() {
  if (process.env.DATABASE_URL) {
    process.env.CAPLIQUIFY_TEST_ADMIN_URL = process.env.DATABASE_URL;
    globalThis.__capliquifyTestCluster = {};
    return;
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capliquify-test-'));
  await fs.chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({
    dir: path.join(dir, 'pg'),
    port: await freePort(),
    binDir: process.env.EMBEDDED_PG_BIN_DIR,
    // A throwaway cluster: durability buys nothing here.
    settings: {
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '300',
    },
  });
  process.env.CAPLIQUIFY_TEST_ADMIN_URL = server.adminUrl;
  globalThis.__capliquifyTestCluster = { server, dir };
}
