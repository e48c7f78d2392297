import { Command } from 'commander';
import { DEMO_SLUG, ensureDemoTenant } from '../demo/demo-tenant.js';
import { printJson, tenantJson } from './output.js';
import { withRuntime } from './runtime.js';

export function demoCommand(): Command {
  return new Command('demo')
    .description(`create the demo tenant "Sentia Spirits" (${DEMO_SLUG}) with its data, if missing`)
    .option('--today <date>', 'last day of the generated data (YYYY-MM-DD); today by default')
    .action(async (options: { today?: string }) => {
      await withRuntime(async ({ lifecycle }) => {
        const result = await ensureDemoTenant(lifecycle, { today: options.today });
        printJson({
          ...tenantJson(result.tenant),
          created: result.created,
          data: result.data ?? null,
        });
      });
    });
}
