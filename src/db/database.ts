/**
 * Opening the database the configuration names: DATABASE_URL when set, otherwise the embedded
 * PostgreSQL. The returned handle closes the pool and, when this process started it, the server.
 */
import { sql } from 'slonik';
import type { Config } from '../config.js';
import { DatabaseUnavailableError } from '../errors.js';
import { startEmbeddedPostgres } from './embedded.js';
import { describeConnectionFailure } from './errors.js';
import { createDatabasePool, type DatabasePool, type PoolOptions } from './pool.js';

export type Database = {
  pool: DatabasePool;
  url: string;
  embedded: boolean;
  close(): Promise<void>;
};

/** Runs one query so a wrong URL fails now, with one line that says what to do. */
export async function assertReachable(pool: DatabasePool, url: string): Promise<void> {
  try {
    await pool.query(sql.unsafe`/* ping */ SELECT 1`);
  } catch (error) {
    throw new DatabaseUnavailableError(describeConnectionFailure(error, url));
  }
}

export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'embedded' | 'pool'>,
  options: { log?: (line: string) => void; pool?: Partial<PoolOptions> } = {},
): Promise<Database> {
  const server = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ ...config.embedded, log: options.log });
  const url = config.databaseUrl ?? server!.url;
  try {
    const pool = await createDatabasePool({ ...config.pool, ...options.pool, url });
    await assertReachable(pool, url);
    return {
      pool,
      url,
      embedded: server !== undefined,
      close: async () => {
        await pool.end();
        await server?.stop();
      },
    };
  } catch (error) {
    await server?.stop();
    throw error;
  }
}
