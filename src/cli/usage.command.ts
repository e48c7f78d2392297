import { Command } from 'commander';
import { openSnapshotPool, refreshUsageSnapshots } from '../billing/usage-snapshots.js';
import { printLine } from './output.js';
import { withRuntime } from './runtime.js';

const tenants = (count: number) => `${count} tenant${count === 1 ? '' : 's'}`;

export function usageCommand(): Command {
  const usage = new Command('usage').description("tenants' usage against their plans");

  usage
    .command('refresh')
    .description(
      "measure every live tenant's active users, products, storage and forecasts for the current period (as the servers do every USAGE_SNAPSHOT_MS)",
    )
    .action(async () => {
      await withRuntime(async ({ config, db }) => {
        const started = performance.now();
        const pool = await openSnapshotPool(db.url, config.pool);
        const run = await refreshUsageSnapshots(pool, new Date()).finally(() => pool.end());
        const seconds = ((performance.now() - started) / 1000).toFixed(2);
        const failed = run.failed.length > 0 ? `; ${tenants(run.failed.length)} failed` : '';
        printLine(
          `Refreshed the usage snapshots of ${tenants(run.tenants)} in ${seconds} s${failed}.`,
        );
        for (const failure of run.failed) printLine(`  ${failure.tenantId}: ${failure.error}`);
        if (run.failed.length > 0) process.exitCode = 1;
      });
    });

  return usage;
}
