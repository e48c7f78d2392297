/**
 * API request metering without a database round trip on the request path: each server counts
 * requests and errors per tenant and billing period in memory, and flushes them every
 * `flushIntervalMs` in ONE statement (an upsert over arrays) into public.usage_metrics. The
 * flush returns each row's new totals, which the monthly cap reads (used = last known total +
 * what this server has not flushed yet).
 *
 * Exactness: a clean shutdown flushes (stop()), so counts are exact. A crash loses at most what
 * was counted since the last flush (one interval). A failed flush keeps its counts for the next
 * one, and later flushes still run. With several servers, the cap can be overshot by what the
 * others counted since their last flush (about servers x interval x request rate).
 *
 * Rows are written in (tenant_id, period_start) order, as the usage snapshots are, so a flush and
 * a snapshot run that lock the same rows always lock them in the same order (no deadlock).
 */
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import type { Logger } from '../logger.js';

/** A billing period: the calendar month (UTC) that contains `now`. */
export function periodOf(now: Date): { start: Date; end: Date } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const end = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { start, end };
}

type Counts = { tenantId: string; start: Date; requests: number; errors: number };

const FlushedRow = z.object({
  tenant_id: z.string(),
  period_start: z.date(),
  api_requests_count: z.coerce.number(),
});

const keyOf = (tenantId: string, start: Date) => `${tenantId}|${start.getTime()}`;

export class UsageMeter {
  /** Counted and not yet handed to a flush. */
  private unflushed = new Map<string, Counts>();
  /** Handed to the flush that is running, until its statement has answered. */
  private inFlight = new Map<string, Counts>();
  /** Totals in the database as of this server's last flush, per tenant and period. */
  private readonly known = new Map<string, number>();
  private knownPeriod = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Moves on when a flush starts and when it ends: odd while one is on its way. */
  private epoch = 0;

  constructor(
    private readonly pool: DatabasePool,
    private readonly logger: Logger,
    private readonly flushIntervalMs: number,
  ) {}

  /** Counts one request of a tenant (an error when its response carries errors). */
  record(tenantId: string, failed: boolean, now = new Date()): void {
    const { start } = periodOf(now);
    const key = keyOf(tenantId, start);
    let counts = this.unflushed.get(key);
    if (!counts) {
      counts = { tenantId, start, requests: 0, errors: 0 };
      this.unflushed.set(key, counts);
    }
    counts.requests += 1;
    if (failed) counts.errors += 1;
  }

  /** Requests of the tenant in the period of `now`, as far as this server knows. */
  used(tenantId: string, now = new Date()): number {
    const key = keyOf(tenantId, periodOf(now).start);
    return (this.known.get(key) ?? 0) + this.pending(tenantId, now).requests;
  }

  /**
   * What this server has counted for the tenant in the period of `now` and not yet written to
   * usage_metrics, including a flush still on its way (its statement has not answered yet).
   * Added to the row read in the same moment, this is the period's total as far as this server
   * can tell; other servers' unflushed counts (at most one flush interval each) are not in it.
   */
  pending(tenantId: string, now = new Date()): { requests: number; errors: number } {
    const key = keyOf(tenantId, periodOf(now).start);
    const waiting = this.unflushed.get(key);
    const flushing = this.inFlight.get(key);
    return {
      requests: (waiting?.requests ?? 0) + (flushing?.requests ?? 0),
      errors: (waiting?.errors ?? 0) + (flushing?.errors ?? 0),
    };
  }

  /**
   * Runs `read` (a statement that reads the tenant's usage_metrics row) and returns its result
   * with this server's pending counts, each request counted exactly once: pending() is read just
   * before the statement, and the statement is run again (up to `attempts` times in all) when a
   * flush was on its way or ran meanwhile, since its counts may then be both in the row and
   * pending, or in neither. Without a flush alongside (the usual case) it is one statement.
   */
  async readWithPending<T>(
    tenantId: string,
    now: Date,
    read: () => Promise<T>,
    attempts = 5,
  ): Promise<{ result: T; pending: { requests: number; errors: number } }> {
    for (let attempt = 1; ; attempt += 1) {
      const epoch = this.epoch;
      const pending = this.pending(tenantId, now);
      const result = await read();
      const settled = epoch % 2 === 0 && epoch === this.epoch;
      if (settled || attempt >= attempts) return { result, pending };
      // Let the flush that got in the way finish before reading again.
      await this.flushing.catch(() => {});
    }
  }

  /**
   * Flushes now; concurrent calls run one after another. A failed flush rejects its own promise
   * only: the next one still runs (and writes the failed one's counts too).
   */
  flush(): Promise<void> {
    const next = this.flushing.catch(() => {}).then(() => this.write());
    this.flushing = next;
    return next;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      this.flush().catch(() => {});
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and flushes what is left (a clean shutdown loses nothing). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  private async write(): Promise<void> {
    if (this.unflushed.size === 0) return;
    const batch = [...this.unflushed.values()];
    this.inFlight = this.unflushed;
    this.unflushed = new Map();
    this.epoch += 1;
    try {
      const rows = await this.pool.any(sql.type(FlushedRow)`
        /* flushUsage */
        INSERT INTO public.usage_metrics (tenant_id, period_start, period_end, api_requests_count, api_errors_count)
        SELECT u.tenant_id, u.period_start, u.period_start + interval '1 month', u.requests, u.errors
        FROM unnest(
          ${sql.array(
            batch.map((counts) => counts.tenantId),
            'uuid',
          )}::uuid[],
          ${sql.array(
            batch.map((counts) => counts.start.toISOString()),
            'timestamptz',
          )}::timestamptz[],
          ${sql.array(
            batch.map((counts) => counts.requests),
            'int8',
          )}::bigint[],
          ${sql.array(
            batch.map((counts) => counts.errors),
            'int8',
          )}::bigint[]
        ) AS u(tenant_id, period_start, requests, errors)
        -- A tenant purged since its requests were counted has nowhere to count them.
        JOIN public.tenants t ON t.id = u.tenant_id
        ORDER BY u.tenant_id, u.period_start
        ON CONFLICT (tenant_id, period_start) DO UPDATE SET
          api_requests_count = usage_metrics.api_requests_count + EXCLUDED.api_requests_count,
          api_errors_count = usage_metrics.api_errors_count + EXCLUDED.api_errors_count
        RETURNING tenant_id, period_start, api_requests_count`);
      // Totals of past periods are never read again: drop them when a new period begins.
      const current = periodOf(new Date()).start.getTime();
      if (current !== this.knownPeriod) {
        this.knownPeriod = current;
        for (const [key] of this.known) {
          if (Number(key.slice(key.indexOf('|') + 1)) < current) this.known.delete(key);
        }
      }
      for (const row of rows) {
        this.known.set(keyOf(row.tenant_id, row.period_start), row.api_requests_count);
      }
      this.inFlight = new Map();
    } catch (error) {
      // Keep the counts for the next flush.
      this.inFlight = new Map();
      for (const counts of batch) {
        const key = keyOf(counts.tenantId, counts.start);
        const later = this.unflushed.get(key);
        if (later) {
          later.requests += counts.requests;
          later.errors += counts.errors;
        } else {
          this.unflushed.set(key, counts);
        }
      }
      this.logger.warn({ err: error, tenants: batch.length }, 'could not flush API usage');
      throw error;
    } finally {
      this.epoch += 1;
    }
  }
}
