import { Command } from 'commander';
import { openSnapshotPool } from '../billing/usage-snapshots.js';
import { cronEvery } from '../jobs/chores.js';
import { JobQueue, jobSettingsOf } from '../jobs/queue.js';
import { createLogger } from '../logger.js';
import { withRuntime } from './runtime.js';

export function workerCommand(): Command {
  return new Command('worker')
    .description(
      'work the job queue (forecast runs, billing sweep, usage snapshots) until SIGINT or SIGTERM, without serving HTTP',
    )
    .action(async () => {
      await withRuntime(async ({ config, db }) => {
        const logger = createLogger(config.logLevel, 'capliquify-worker');
        const snapshotPool =
          config.usageSnapshotMs > 0 ? await openSnapshotPool(db.url, config.pool) : undefined;
        const jobs = await JobQueue.start({
          settings: {
            ...jobSettingsOf(config.jobs, db.url, {
              billingGraceDays: config.billingGraceDays,
              usageSnapshots: snapshotPool && {
                pool: snapshotPool,
                cron: cronEvery(config.usageSnapshotMs),
              },
            }),
            work: true,
          },
          pool: db.pool,
          logger,
        });
        logger.info('worker started');
        await new Promise<void>((resolve) => {
          for (const signal of ['SIGINT', 'SIGTERM'] as const)
            process.once(signal, () => resolve());
        });
        await jobs.stop();
        await snapshotPool?.end();
      });
    });
}
