/**
 * The one place SQL scripts (migration files) are executed. Slonik sends one statement per query,
 * so a script goes to PostgreSQL as a bound parameter of `public.capliquify_exec`, a plpgsql
 * function whose EXECUTE runs every statement of the script in the caller's transaction.
 */
import { sql, type CommonQueryMethods } from 'slonik';

export { sql };

/** DDL that creates the executor; part of the migration runner's bootstrap. */
export const createExecutorFunction = sql.unsafe`
  CREATE OR REPLACE FUNCTION public.capliquify_exec(script text) RETURNS void
  LANGUAGE plpgsql AS $capliquify_exec$ BEGIN EXECUTE script; END $capliquify_exec$
`;

export const revokeExecutorFunction = sql.unsafe`
  REVOKE ALL ON FUNCTION public.capliquify_exec(text) FROM PUBLIC
`;

export type ScriptFailure = { message: string; line?: number; code?: string };

/**
 * Describes a failed script, with the line where PostgreSQL found a syntax error. (A run-time
 * error inside EXECUTE reports only the whole script, so it has no line.)
 */
export function describeScriptFailure(error: unknown, script: string): ScriptFailure {
  const cause = ((error as { cause?: unknown }).cause ?? error) as {
    message?: string;
    code?: string;
    internalPosition?: string;
  };
  const message = cause.message ?? String(error);
  const offset = Number(cause.internalPosition) - 1;
  const line = offset >= 0 ? script.slice(0, offset).split('\n').length : undefined;
  return { message, line, code: cause.code };
}

export async function executeScript(db: CommonQueryMethods, script: string): Promise<void> {
  await db.query(sql.unsafe`/* executeScript */ SELECT public.capliquify_exec(${script})`);
}
