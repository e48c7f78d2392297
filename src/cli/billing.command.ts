import { Command } from 'commander';
import { sweepBilling } from '../billing/sweep.js';
import { printLine } from './output.js';
import { withRuntime } from './runtime.js';

export function billingCommand(): Command {
  const billing = new Command('billing').description("tenants' billing state");
  billing
    .command('sweep')
    .description(
      'suspend (read-only) the tenants whose payment is overdue beyond BILLING_GRACE_DAYS',
    )
    .action(async () => {
      await withRuntime(async ({ config, db }) => {
        const { suspended } = await sweepBilling(db.pool, config.billingGraceDays);
        printLine(
          `${suspended.length} tenant(s) suspended for non-payment (grace period ${config.billingGraceDays} days).`,
        );
      });
    });
  return billing;
}
