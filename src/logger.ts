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
