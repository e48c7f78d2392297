/**
 * The connection pool: bounded, with statement and idle-in-transaction timeouts, and connections
 * recycled after a bounded number of distinct tenants (each PostgreSQL backend caches the catalog
 * of every schema it has touched and never evicts it) or checkouts.
 */
import { createPgDriverFactory } from '@slonik/pg-driver';
import {
  createDateTypeParser,
  createPool,
  type DatabasePool,
  type DriverFactory,
  type Interceptor,
} from 'slonik';
import type { PoolSettings } from '../config.js';
import { DatabaseUnavailableError, ServiceUnavailableError } from '../errors.js';
import { describeConnectionFailure } from './errors.js';
import { QUERY_METHODS } from './serialized.js';
import { ENTER_TENANT } from './tenant-transaction.js';

export type { DatabasePool };

export type PoolOptions = PoolSettings & {
  url: string;
  /** Extra interceptors, e.g. a statement counter in tests. */
  interceptors?: Interceptor[];
};

/**
 * Wraps the pg driver so that a connection is closed on release once it has served `maxTenants`
 * distinct tenants (what grows a backend's catalog cache) or been checked out `maxUses` times.
 * Slonik destroys a connection whose release fails, and the next checkout opens a fresh backend
 * with an empty cache. A tenant is recognised by the statement every tenant transaction starts
 * with (ENTER_TENANT), whose first UUID-shaped parameter is the tenant's id: one string
 * comparison per statement, and a Set per connection.
 */
export function recyclingDriverFactory(
  limits: { maxUses: number; maxTenants: number },
  base = createPgDriverFactory(),
): DriverFactory {
  return async (parameters) => {
    const driver = await base(parameters);
    return {
      createClient: async () => {
        const client = await driver.createClient();
        let uses = 0;
        const tenants = new Set<string>();
        return {
          ...client,
          query: (text, values, options) => {
            if (text.startsWith(ENTER_TENANT) && values) {
              const id = values.find((value) => typeof value === 'string' && UUID.test(value));
              if (id !== undefined) tenants.add(id as string);
            }
            return client.query(text, values, options);
          },
          release: async () => {
            uses += 1;
            if (uses >= limits.maxUses) {
              throw new Error('connection reached its maximum number of uses');
            }
            if (tenants.size >= limits.maxTenants) {
              throw new Error('connection reached its maximum number of tenants');
            }
            await client.release();
          },
        };
      },
    };
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const typeParsers = [
  // Row counts and sums of integers: exact as numbers far beyond any count we keep.
  { name: 'int8', parse: (value: string) => Number.parseInt(value, 10) },
  // Calendar dates stay 'YYYY-MM-DD' strings, free of time zones.
  createDateTypeParser(),
  // numeric is left as a string: money is never a float.
];

export async function createDatabasePool(options: PoolOptions): Promise<DatabasePool> {
  let pool: DatabasePool;
  try {
    pool = await createPool(options.url, {
      maximumPoolSize: options.maxSize,
      connectionTimeout: options.connectionTimeoutMs,
      statementTimeout: options.statementTimeoutMs,
      idleInTransactionSessionTimeout: options.idleInTransactionTimeoutMs,
      idleTimeout: options.idleTimeoutMs,
      maximumConnectionAge: options.maxAgeMs,
      connectionRetryLimit: 1,
      captureStackTrace: false,
      typeParsers,
      driverFactory: recyclingDriverFactory(options),
      interceptors: options.interceptors ?? [],
      // Requests only ever use LOCAL settings inside their own transaction, so a released
      // connection carries no state and needs no DISCARD ALL round trip.
      resetConnection: async () => {},
    });
  } catch (error) {
    throw new DatabaseUnavailableError(describeConnectionFailure(error, options.url));
  }
  // Slonik also emits each query error on the pool; the caller still receives it as a rejection,
  // so the event needs a listener only to keep an emitter without one from throwing.
  pool.on('error', () => {});
  return boundedAcquire(pool, options.acquireTimeoutMs);
}

/**
 * The pool with a bound on how long a checkout waits: slonik queues a checkout for as long as the
 * pool is full, so past `timeoutMs` the caller gets ServiceUnavailableError (503, Retry-After)
 * instead. The queued checkout is not lost: when a connection comes, the abandoned routine does
 * nothing and the connection goes straight back. One timer per checkout; queries, transactions and
 * connect() all go through it (stream() is left as it is).
 */
export function boundedAcquire(pool: DatabasePool, timeoutMs: number): DatabasePool {
  const connect = <T>(routine: (connection: DatabaseConnection) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let state: 'waiting' | 'running' | 'abandoned' = 'waiting';
      const timer = setTimeout(() => {
        if (state !== 'waiting') return;
        state = 'abandoned';
        reject(
          new ServiceUnavailableError(
            `The database is busy: no connection became free within ${timeoutMs} ms. Retry shortly.`,
            { retryAfterSeconds: 1 },
          ),
        );
      }, timeoutMs);
      pool
        .connect(async (connection) => {
          if (state === 'abandoned') return undefined as T;
          state = 'running';
          clearTimeout(timer);
          return routine(connection);
        })
        .then(
          (value) => {
            if (state !== 'abandoned') resolve(value);
          },
          (error: unknown) => {
            clearTimeout(timer);
            if (state !== 'abandoned') reject(error);
          },
        );
    });
  const wrapped: Record<string, unknown> = {
    connect,
    transaction: (handler: Parameters<DatabasePool['transaction']>[0], retryLimit?: number) =>
      connect((connection) => connection.transaction(handler, retryLimit)),
  };
  for (const method of QUERY_METHODS) {
    wrapped[method] = (...args: unknown[]) =>
      connect((connection) =>
        (connection[method] as (...values: unknown[]) => Promise<unknown>)(...args),
      );
  }
  return new Proxy(pool, {
    get: (target, property, receiver) =>
      typeof property === 'string' && Object.hasOwn(wrapped, property)
        ? wrapped[property]
        : Reflect.get(target, property, receiver),
  });
}

type DatabaseConnection = Parameters<Parameters<DatabasePool['connect']>[0]>[0];
