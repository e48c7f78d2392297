/**
 * The process logger: JSON lines on stderr (stdout belongs to command output), secrets redacted.
 */
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

export function createLogger(level: Config['logLevel'], name = 'capliquify'): Logger {
  return pino(
    {
      name,
      level,
      redact: {
        paths: ['*.password', '*.url', '*.databaseUrl', '*.authorization', '*.apiKey'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

/**
 * An error for the log without what slonik attaches to some (the query's bound values, a row),
 * which can hold what a webhook or a request sent: type, message, stack, PostgreSQL's code and
 * constraint, the SQL text, and the same of its cause.
 */
export function loggableError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const {
    code,
    constraint,
    sql: query,
  } = error as { code?: unknown; constraint?: unknown; sql?: unknown };
  const cause = error.cause instanceof Error ? error.cause : undefined;
  return {
    type: error.name,
    message: error.message,
    stack: error.stack,
    code,
    constraint,
    sql: typeof query === 'string' ? query : undefined,
    cause: cause && {
      type: cause.name,
      message: cause.message,
      code: (cause as { code?: unknown }).code,
    },
  };
}
