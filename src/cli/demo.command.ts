import { Command } from 'commander';
import { DEMO_SLUG, ensureDemoTenant, generateDemoForecasts } from '../demo/demo-tenant.js';
import { progressReporter } from './progress.js';
import { printJson, tenantJson } from './output.js';
import { withRuntime } from './runtime.js';

const dayAfter = (date: string) => {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  const today = new Date().toISOString().slice(0, 10);
  return next < today ? next : today;
};

export function demoCommand(): Command {
  return new Command('demo')
    .description(`create the demo tenant "Sentia Spirits" (${DEMO_SLUG}) with its data, if missing`)
    .option('--today <date>', 'last day of the generated data (YYYY-MM-DD); today by default')
    .action(async (options: { today?: string }) => {
      await withRuntime(async ({ lifecycle, db }) => {
        const result = await ensureDemoTenant(lifecycle, { today: options.today });
        // A new demo tenant's forecasts come from the engine (a run of every product).
        let forecastRun: string | null = null;
        if (result.created) {
          const progress = progressReporter('forecasts', 'stderr');
          const run = await generateDemoForecasts(db.pool, result.tenant, {
            // The first forecast day is the day after the data ends (never later than today).
            asOf: options.today ? dayAfter(options.today) : undefined,
            progress: (done, total) => progress.update(done, total),
          });
          progress.stop();
          forecastRun = run?.id ?? null;
        }
        printJson({
          ...tenantJson(result.tenant),
          created: result.created,
          data: result.data ?? null,
          forecastRun,
        });
      });
    });
}
