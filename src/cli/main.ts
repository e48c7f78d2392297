/**
 * `capliquify`: the operators' command line. Exit codes: 0 success, 1 a user error (one line on
 * stderr), 2 a usage error.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { isAppError } from '../errors.js';
import { billingCommand } from './billing.command.js';
import { demoCommand } from './demo.command.js';
import { forecastsCommand } from './forecasts.command.js';
import { keysCommand } from './keys.command.js';
import { migrateCommand } from './migrate.command.js';
import { tenantsCommand } from './tenants.command.js';
import { usageCommand } from './usage.command.js';
import { workerCommand } from './worker.command.js';

export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_USAGE = 2;

function program(): Command {
  let defaultConcurrency = 4;
  try {
    defaultConcurrency = loadConfig().migrateConcurrency;
  } catch {
    // Reported when a command runs.
  }
  const root = new Command('capliquify')
    .description(
      'Operate CapLiquify: tenants, migrations, API keys, billing, usage, forecasts, the job worker and the demo tenant.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  root.addCommand(tenantsCommand());
  root.addCommand(migrateCommand(defaultConcurrency));
  root.addCommand(keysCommand());
  root.addCommand(billingCommand());
  root.addCommand(demoCommand());
  root.addCommand(usageCommand());
  root.addCommand(forecastsCommand());
  root.addCommand(workerCommand());
  for (const command of [root, ...root.commands, ...root.commands.flatMap((c) => c.commands)]) {
    command.exitOverride();
  }
  return root;
}

function fail(message: string): number {
  process.stderr.write(`capliquify: ${message.split('\n')[0]}\n`);
  return EXIT_USER_ERROR;
}

export async function run(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      const benign = ['commander.helpDisplayed', 'commander.version'];
      return benign.includes(error.code) ? EXIT_OK : EXIT_USAGE;
    }
    if (error instanceof ConfigError)
      return fail(`invalid configuration: ${error.problems.join('; ')}`);
    if (isAppError(error)) return fail(error.message);
    const message = error instanceof Error ? error.message : String(error);
    return fail(`unexpected error: ${message}`);
  }
}

process.exitCode = await run(process.argv.slice(2));
