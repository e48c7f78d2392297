/**
 * Fleet-wide chores on pg-boss schedules: however many servers run, each schedule sends one job
 * per slot (pg-boss keys a schedule's job by its minute) and one worker takes it, so the work is
 * done once per fleet, not once per server:
 *
 * - `billing-sweep` (every five minutes): suspends PAST_DUE tenants whose grace period is over
 *   (billing/sweep.ts);
 * - `usage-snapshots` (every USAGE_SNAPSHOT_MS, rounded to whole minutes): the usage figures
 *   that are too costly for the request path (billing/usage-snapshots.ts), through the snapshot
 *   pool (one connection, used once).
 */
import type PgBoss from 'pg-boss';
import type { DatabasePool } from 'slonik';
import { sweepBilling } from '../billing/sweep.js';
import { refreshUsageSnapshots } from '../billing/usage-snapshots.js';
import type { Logger } from '../logger.js';
import { ensureQueue } from './queue.js';

export const BILLING_SWEEP = 'billing-sweep';
export const USAGE_SNAPSHOTS = 'usage-snapshots';

export type ChoreSettings = {
  billingGraceDays: number;
  /** Cron of the billing sweep ('*\/5 * * * *'). */
  billingSweepCron?: string;
  /** Usage snapshots through this pool, on this cron; unset: no snapshots from this fleet. */
  usageSnapshots?: { pool: DatabasePool; cron: string };
};

/** A cron for "every `intervalMs`", in whole minutes (at least one; hours past 59 minutes). */
export function cronEvery(intervalMs: number): string {
  const minutes = Math.max(1, Math.round(intervalMs / 60_000));
  if (minutes < 60) return minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`;
  const hours = Math.min(24, Math.round(minutes / 60));
  return hours >= 24 ? '0 0 * * *' : `0 */${hours} * * *`;
}

export async function registerChores(
  boss: PgBoss,
  options: ChoreSettings & { pool: DatabasePool; logger: Logger },
): Promise<void> {
  const { pool, logger } = options;
  await ensureQueue(boss, BILLING_SWEEP, {
    name: BILLING_SWEEP,
    policy: 'singleton',
    retryLimit: 0,
  });
  await boss.schedule(
    BILLING_SWEEP,
    options.billingSweepCron ?? '*/5 * * * *',
    {},
    { retryLimit: 0 },
  );
  await boss.work(BILLING_SWEEP, async () => {
    const { suspended } = await sweepBilling(pool, options.billingGraceDays);
    logger.info({ suspended: suspended.length }, 'billing sweep done');
  });

  const snapshots = options.usageSnapshots;
  if (snapshots) {
    await ensureQueue(boss, USAGE_SNAPSHOTS, {
      name: USAGE_SNAPSHOTS,
      policy: 'singleton',
      retryLimit: 0,
    });
    await boss.schedule(USAGE_SNAPSHOTS, snapshots.cron, {}, { retryLimit: 0 });
    await boss.work(USAGE_SNAPSHOTS, async () => {
      const started = performance.now();
      const run = await refreshUsageSnapshots(snapshots.pool);
      const summary = {
        tenants: run.tenants,
        statements: run.statements,
        ms: Math.round(performance.now() - started),
      };
      if (run.failed.length > 0) {
        logger.warn({ ...summary, failed: run.failed }, 'usage snapshots refreshed, some failed');
      } else {
        logger.info(summary, 'usage snapshots refreshed');
      }
    });
  }
}
