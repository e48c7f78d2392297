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

/** Describes a failed script statement, with the line of the script it came from when known. */
export function describeScriptFailure(error: unknown, script: string): ScriptFailure {
  const cause = ((error as { cause?: unknown }).cause ?? error) as {
    message?: string;
    code?: string;
    internalPosition?: string;
  };
  const message = cause.message ?? String(error);
  const position = Number(cause.internalPosition);
  const line = Number.isInteger(position) && position > 0
    ? script.slice(0, position - 1).split('\n').length
    : undefined;
  return { message, line, code: cause.code };
}

export async function executeScript(db: CommonQueryMethods, script: string): Promise<void> {
  await db.query(sql.unsafe`/* executeScript */ SELECT public.capliquify_exec(${script})`);
}
