/**
 * A private copy of the project's sql/ folder that a test may add files to or edit.
 */
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { latestVersion, loadMigrations } from '../../src/db/migrations/files.js';
import { sqlDir } from './database.js';

export async function copySqlDir(): Promise<{
  dir: string;
  write(relative: string, text: string): Promise<void>;
}> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'capliquify-sql-')), 'sql');
  await cp(sqlDir, dir, { recursive: true });
  return { dir, write: (relative, text) => writeFile(path.join(dir, relative), text) };
}

/** The project's latest tenant migration version, and the file prefix of the one a test adds. */
export async function tenantVersions(): Promise<{ latest: number; next: string }> {
  const latest = latestVersion((await loadMigrations(sqlDir)).tenant);
  return { latest, next: String(latest + 1).padStart(4, '0') };
}
