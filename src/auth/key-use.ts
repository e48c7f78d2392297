/**
 * `api_keys.last_used_at` without a statement on the request path: a request only notes its key
 * id in memory, and the ids noted are written every `flushIntervalMs` in ONE statement. Each key
 * is written at most once a minute, whatever the number of servers (the UPDATE's own condition),
 * and this server does not even send a key it wrote less than a minute ago. A clean shutdown
 * flushes; a crash loses at most one interval's stamps (last_used_at is informational).
 */
import type { DatabasePool } from 'slonik';
import { sql } from '../db/sql.js';
import type { Logger } from '../logger.js';

/** last_used_at is kept to the minute. */
export const KEY_USE_RESOLUTION_MS = 60_000;

export class KeyUseRecorder {
  private pending = new Set<string>();
  /** When this server last wrote each key (pruned as they age past the resolution). */
  private readonly written = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: DatabasePool,
    private readonly logger: Logger,
    private readonly flushIntervalMs: number,
  ) {}

  /** Notes a use of the key: a Set insertion, nothing else. */
  record(keyId: string): void {
    this.pending.add(keyId);
  }

  /** Writes the uses noted so far; concurrent calls run one after another. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    const now = Date.now();
    for (const [id, at] of this.written) {
      if (now - at >= KEY_USE_RESOLUTION_MS) this.written.delete(id);
    }
    const ids = [...this.pending].filter((id) => !this.written.has(id));
    this.pending = new Set();
    if (ids.length === 0) return;
    try {
      await this.pool.query(sql.unsafe`
        /* recordApiKeyUse */
        UPDATE public.api_keys SET last_used_at = now()
        WHERE id = ANY(${sql.array(ids, 'uuid')})
          AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`);
      for (const id of ids) this.written.set(id, now);
    } catch (error) {
      // Kept for the next flush; last_used_at is a convenience, never worth failing a request.
      for (const id of ids) this.pending.add(id);
      this.logger.warn({ err: error, keys: ids.length }, 'could not record API key use');
    }
  }
}
