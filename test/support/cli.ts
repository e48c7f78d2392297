/**
 * Runs the real `capliquify` executable as a child process, the way an operator does.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/config.js';

export type CliResult = { code: number; stdout: string; stderr: string };

export const cliPath = path.join(projectRoot, 'bin', 'capliquify.js');

/** The environment of a run: the parent's, minus anything that would pick another database. */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
  delete env.DATABASE_URL;
  delete env.SQL_DIR;
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath, ...args],
      { env: cliEnv(env), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
