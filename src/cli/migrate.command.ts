import { Command, InvalidArgumentError, Option } from 'commander';
import {
  migrate,
  readStatus,
  rollback,
  type MigrateSummary,
  type Progress,
  type RollbackSummary,
} from '../db/migrations/runner.js';
import type { DatabasePool } from 'slonik';
import type { MigrationSet } from '../db/migrations/files.js';
import { printJson, printLine } from './output.js';
import { progressReporter } from './progress.js';
import { withRuntime } from './runtime.js';

function concurrencyOption(fallback: number) {
  return new Option('--concurrency <n>', 'tenant schemas migrated at once (1-64)')
    .default(fallback)
    .argParser((value) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 64) {
        throw new InvalidArgumentError('must be a whole number from 1 to 64.');
      }
      return n;
    });
}

/** Migration progress: a bar, or a line at every tenth and for every failure. */
function migrationProgress() {
  const reporter = progressReporter('tenants');
  return {
    update: ({ done, total, last }: Progress) => {
      if (last.outcome === 'failed') reporter.note(`failed ${last.slug}: ${last.error}`);
      reporter.update(done, total);
    },
    stop: () => reporter.stop(),
  };
}

function printSummary(summary: MigrateSummary) {
  for (const file of summary.publicApplied) printLine(`applied ${file}`);
  printLine(
    `Tenant schemas at version ${summary.tenantTarget}: ${summary.migrated} migrated, ${summary.alreadyCurrent} already current, ${summary.failed.length} failed.`,
  );
  for (const failure of summary.failed) printLine(`  ${failure.slug}: ${failure.error}`);
}

function printRollback(summary: RollbackSummary) {
  if (!summary.rolledBack) {
    printLine(`Nothing to roll back in ${summary.scope}.`);
    return;
  }
  printLine(
    `Rolled back ${summary.rolledBack} to version ${summary.toVersion}: ${summary.migrated} schema(s) reverted, ${summary.failed.length} failed.`,
  );
  for (const failure of summary.failed) printLine(`  ${failure.slug}: ${failure.error}`);
}

/** Runs a fan-out over the tenant schemas with progress, prints its summary, exits 1 on failures. */
async function runFanOut<T extends { failed: unknown[] }>(
  concurrency: number,
  run: (
    pool: DatabasePool,
    migrations: MigrationSet,
    onProgress: (p: Progress) => void,
  ) => Promise<T>,
  print: (summary: T) => void,
): Promise<void> {
  await withRuntime(
    async ({ db, migrations }) => {
      const progress = migrationProgress();
      const summary = await run(db.pool, migrations, progress.update);
      progress.stop();
      print(summary);
      if (summary.failed.length > 0) process.exitCode = 1;
    },
    { requireMigrated: false, poolSize: concurrency + 2 },
  );
}

export function migrateCommand(defaultConcurrency: number): Command {
  const command = new Command('migrate')
    .description('apply pending public migrations, then tenant migrations to every tenant schema')
    .addOption(concurrencyOption(defaultConcurrency))
    .action((options: { concurrency: number }) =>
      runFanOut(
        options.concurrency,
        (pool, migrations, onProgress) =>
          migrate(pool, migrations, { concurrency: options.concurrency, onProgress }),
        printSummary,
      ),
    );

  command
    .command('status')
    .description('show applied and pending migrations, and how many tenants sit at each version')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      await withRuntime(
        async ({ db, migrations }) => {
          const status = await readStatus(db.pool, migrations);
          if (options.json) {
            printJson({
              public: {
                applied: status.publicApplied.map((row) => row.version),
                pending: status.publicPending.map((file) => file.file),
              },
              tenant: {
                latest: status.tenantLatest,
                versions: status.tenantVersions,
                total: status.tenantsTotal,
                behind: status.tenantsBehind,
                failures: status.failures,
                failureCount: status.failureCount,
              },
            });
            return;
          }
          const applied = status.publicApplied.map((row) => String(row.version).padStart(4, '0'));
          printLine(
            `Public: ${applied.length} applied (${applied.join(', ') || 'none'}), ${status.publicPending.length} pending.`,
          );
          for (const file of status.publicPending) printLine(`  pending ${file.file}`);
          printLine(
            `Tenant migrations: latest ${status.tenantLatest}; ${status.tenantsTotal} tenant(s), ${status.tenantsBehind} behind.`,
          );
          for (const entry of status.tenantVersions)
            printLine(`  version ${entry.version}: ${entry.tenants} tenant(s)`);
          for (const failure of status.failures)
            printLine(`  failed ${failure.slug} at version ${failure.version}: ${failure.error}`);
        },
        { requireMigrated: false },
      );
    });

  command
    .command('rollback')
    .description('roll back the latest migration through its down file (tenant schemas by default)')
    .addOption(
      new Option('--scope <scope>', 'which migrations')
        .choices(['tenant', 'public'])
        .default('tenant'),
    )
    .addOption(concurrencyOption(defaultConcurrency))
    .action((options: { scope: 'tenant' | 'public'; concurrency: number }) =>
      runFanOut(
        options.concurrency,
        (pool, migrations, onProgress) =>
          rollback(pool, migrations, {
            scope: options.scope,
            concurrency: options.concurrency,
            onProgress,
          }),
        printRollback,
      ),
    );

  return command;
}
