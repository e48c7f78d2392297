/**
 * Migration files on disk: `NNNN_name.sql` with an optional `NNNN_name.down.sql`, one folder per
 * scope (sql/public, sql/tenant). Each file is identified by its version and its SHA-256 checksum.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MigrationError } from '../../errors.js';

export type Scope = 'public' | 'tenant';

export type MigrationFile = {
  scope: Scope;
  version: number;
  name: string;
  /** Path relative to the project, for messages: sql/tenant/0002_add_x.sql */
  file: string;
  up: string;
  down: string | undefined;
  checksum: string;
};

export type MigrationSet = { public: MigrationFile[]; tenant: MigrationFile[]; dir: string };

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const DOWN_PATTERN = /^(\d{4})_([a-z0-9_]+)\.down\.sql$/;

export const checksumOf = (text: string) => createHash('sha256').update(text).digest('hex');

async function loadScope(dir: string, scope: Scope): Promise<MigrationFile[]> {
  const folder = path.join(dir, scope);
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch (error) {
    throw new MigrationError(
      `Cannot read migrations folder ${folder}: ${(error as Error).message}`,
    );
  }
  const downs = new Map<number, string>();
  const ups: { version: number; name: string; fileName: string }[] = [];
  for (const fileName of names.sort()) {
    const down = DOWN_PATTERN.exec(fileName);
    if (down) {
      downs.set(Number(down[1]), fileName);
      continue;
    }
    const up = FILE_PATTERN.exec(fileName);
    if (up) {
      ups.push({ version: Number(up[1]), name: up[2]!, fileName });
    } else if (fileName.endsWith('.sql')) {
      throw new MigrationError(
        `${scope}/${fileName}: a migration file is named NNNN_lowercase_name.sql (or .down.sql)`,
      );
    }
  }
  const files: MigrationFile[] = [];
  for (const [index, entry] of ups.entries()) {
    if (entry.version === 0)
      throw new MigrationError(`${scope}/${entry.fileName}: versions start at 0001`);
    if (index > 0 && ups[index - 1]!.version === entry.version) {
      throw new MigrationError(
        `${scope}: two migrations share version ${entry.fileName.slice(0, 4)}`,
      );
    }
    const up = await fs.readFile(path.join(folder, entry.fileName), 'utf8');
    const downName = downs.get(entry.version);
    const down = downName ? await fs.readFile(path.join(folder, downName), 'utf8') : undefined;
    downs.delete(entry.version);
    files.push({
      scope,
      version: entry.version,
      name: entry.name,
      file: path.join(path.basename(dir), scope, entry.fileName),
      up,
      down,
      checksum: checksumOf(up),
    });
  }
  for (const orphan of downs.values()) {
    throw new MigrationError(`${scope}/${orphan} has no matching up migration`);
  }
  return files;
}

export async function loadMigrations(dir: string): Promise<MigrationSet> {
  const [publicFiles, tenantFiles] = await Promise.all([
    loadScope(dir, 'public'),
    loadScope(dir, 'tenant'),
  ]);
  return { public: publicFiles, tenant: tenantFiles, dir };
}

export const latestVersion = (files: readonly MigrationFile[]) => files.at(-1)?.version ?? 0;
