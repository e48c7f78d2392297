/**
 * A per-server cache of credentials (API keys, organisations' tenants) that an active caller
 * never waits on: an entry is trusted for `ttlMs` (never longer: a change made through another
 * server is seen within that time), and once it is half that old, the next use schedules a
 * refresh, which runs in the background together with every other entry due, as ONE batched
 * lookup. So over any number of tenants, a credential used at least every ttlMs / 2 is looked
 * up once per half TTL off the request path, in batches, and never on it.
 *
 * An entry forgotten (a key revoked, a tenant suspended through this server) while its refresh is
 * running is not brought back by that refresh.
 */
import { LRUCache } from 'lru-cache';

type Entry<V> = { value: V; fetchedAt: number };

export type RefreshAheadOptions<V> = {
  max: number;
  ttlMs: number;
  /** Looks up many keys in one statement; a key absent from the result is forgotten. */
  load: (keys: string[]) => Promise<Map<string, V>>;
  onError: (error: unknown) => void;
  onDispose?: (value: V) => void;
  /** How long refreshes wait for company before they run (they batch meanwhile). */
  batchDelayMs?: number;
};

export class RefreshAheadCache<V extends NonNullable<unknown> | null> {
  private readonly entries: LRUCache<string, Entry<V>>;
  private due = new Map<string, Entry<V>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly options: RefreshAheadOptions<V>) {
    this.entries = new LRUCache<string, Entry<V>>({
      max: options.max,
      ttl: Math.max(1, options.ttlMs),
      dispose: options.onDispose && ((entry) => options.onDispose!(entry.value)),
    });
  }

  /** A trusted entry, or undefined: the caller looks it up (and may set it). */
  get(key: string): { value: V } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (Date.now() - entry.fetchedAt >= this.options.ttlMs / 2 && !this.due.has(key)) {
      this.due.set(key, entry);
      this.timer ??= setTimeout(() => this.refresh(), this.options.batchDelayMs ?? 100);
      this.timer.unref();
    }
    return entry;
  }

  set(key: string, value: V): void {
    this.entries.set(key, { value, fetchedAt: Date.now() });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  *values(): Generator<[string, V]> {
    for (const [key, entry] of this.entries.entries()) yield [key, entry.value];
  }

  /** Resolves once the refreshes scheduled so far have run (tests, shutdown). */
  settled(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.refresh();
    }
    return this.running;
  }

  private refresh(): void {
    this.timer = undefined;
    const batch = this.due;
    this.due = new Map();
    if (batch.size === 0) return;
    let fetchedAt = 0;
    this.running = this.running
      .then(() => {
        fetchedAt = Date.now();
        return this.options.load([...batch.keys()]);
      })
      .then((found) => {
        for (const [key, scheduled] of batch) {
          // Forgotten or replaced meanwhile: what was looked up may predate that.
          if (this.entries.peek(key) !== scheduled) continue;
          if (found.has(key)) this.entries.set(key, { value: found.get(key)!, fetchedAt });
          else this.entries.delete(key);
        }
      })
      .catch(this.options.onError);
  }
}
