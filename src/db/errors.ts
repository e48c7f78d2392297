/**
 * Database failures as the rest of the code needs them: SQLSTATEs, and a failure to reach
 * PostgreSQL as one actionable line. A URL's password never appears.
 */
import { BadUserInputError, TimeoutError, type AppError } from '../errors.js';

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable DATABASE_URL>';
  }
}

/**
 * A database failure that the request itself caused, as the error the client gets: a statement
 * cancelled by statement_timeout is TIMEOUT; a value PostgreSQL refuses (SQLSTATE class 22: out of
 * range, overflow, untranslatable text; a NOT NULL or CHECK constraint that the data layer did not
 * turn into its own error first) is BAD_USER_INPUT, with no SQL detail. The log keeps the detail.
 * Anything else is undefined (an internal error).
 */
export function databaseRefusal(error: unknown): AppError | undefined {
  const code = sqlStateOf(error);
  if (code === STATEMENT_TIMEOUT) {
    return new TimeoutError(
      'The request ran past the statement timeout and was cancelled (its writes rolled back): retry later, or ask for less.',
    );
  }
  if (code?.startsWith('22') && code.length === 5) {
    return new BadUserInputError(
      'A value is out of the range the database can store (a number too large, a date too far).',
    );
  }
  if (code === NOT_NULL_VIOLATION || code === CHECK_VIOLATION) {
    return new BadUserInputError('A value breaks a rule of the data (a missing or invalid value).');
  }
  return undefined;
}

/** query_canceled: statement_timeout (or a cancel request) stopped the statement. */
export const STATEMENT_TIMEOUT = '57014';
const NOT_NULL_VIOLATION = '23502';
const CHECK_VIOLATION = '23514';

/** The SQLSTATE (or socket error code) of a failure, looking through wrapped causes. */
export function sqlStateOf(error: unknown): string | undefined {
  return findCode(error).code;
}

function findCode(error: unknown): { code?: string; message: string } {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    const candidate = current as { code?: unknown; cause?: unknown; message?: unknown };
    if (typeof candidate.code === 'string') {
      return { code: candidate.code, message: String(candidate.message ?? '') };
    }
    current = candidate.cause;
  }
  return { message: error instanceof Error ? error.message : String(error) };
}

export function describeConnectionFailure(error: unknown, url: string): string {
  const target = redactUrl(url);
  const { code, message } = findCode(error);
  switch (code) {
    case 'ECONNREFUSED':
      return `PostgreSQL refused the connection at ${target}: is the server running and listening on that host and port?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Cannot resolve the host in DATABASE_URL (${target}): check the host name.`;
    case 'ETIMEDOUT':
      return `Timed out connecting to PostgreSQL at ${target}: check the host, port and firewall.`;
    case '28P01':
    case '28000':
      return `PostgreSQL rejected the credentials for ${target}: check the user and password in DATABASE_URL.`;
    case '3D000':
      return `The database named in DATABASE_URL does not exist (${target}): create it first (createdb).`;
    case '53300':
      return `PostgreSQL has no free connection slots at ${target}: lower DB_POOL_MAX or raise max_connections.`;
    default:
      return `Cannot connect to PostgreSQL at ${target}: ${message || 'unknown error'}`;
  }
}
