/**
 * One connection runs one statement at a time, but GraphQL resolves sibling fields concurrently.
 * A SerialConnection queues a transaction's statements in call order instead of letting them
 * overlap (slonik's driver refuses overlapping queries on one connection), and can hand the
 * connection to one piece of work exclusively (a role switch and the statements under it).
 */
import type { CommonQueryMethods } from 'slonik';

export type QueryMethod = Exclude<keyof CommonQueryMethods, 'transaction' | 'stream'>;

/** slonik's query methods: each runs one statement. */
export const QUERY_METHODS: readonly QueryMethod[] = [
  'any',
  'anyFirst',
  'exists',
  'many',
  'manyFirst',
  'maybeOne',
  'maybeOneFirst',
  'one',
  'oneFirst',
  'query',
  'record',
];

export class SerialConnection {
  private tail: Promise<unknown> = Promise.resolve();
  /** The queued query methods. */
  readonly db: CommonQueryMethods;

  constructor(private readonly connection: CommonQueryMethods) {
    const queued = {} as Record<string, unknown>;
    for (const method of QUERY_METHODS) {
      const original = (connection[method] as (...args: unknown[]) => Promise<unknown>).bind(
        connection,
      );
      queued[method] = (...args: unknown[]) => this.enqueue(() => original(...args));
    }
    const unsupported = () => {
      throw new Error('nested transactions and streams are not available inside a request');
    };
    queued.transaction = unsupported;
    queued.stream = unsupported;
    this.db = queued as unknown as CommonQueryMethods;
  }

  /** Runs `fn` with the connection to itself: nothing queued after it starts before it ends. */
  exclusive<T>(fn: (connection: CommonQueryMethods) => Promise<T>): Promise<T> {
    return this.enqueue(() => fn(this.connection));
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
