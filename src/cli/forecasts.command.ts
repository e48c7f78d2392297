import { Command, InvalidArgumentError, Option } from 'commander';
import { FORECAST_TYPES, type ForecastType } from '../data/forecasts.js';
import { startOperatorRun } from '../forecasting/execute.js';
import { MODELS, type ModelChoice } from '../forecasting/models.js';
import { FORECAST_PERIOD_TYPES } from '../forecasting/periods.js';
import { getTenant } from '../tenants/lifecycle.js';
import { printJson } from './output.js';
import { progressReporter } from './progress.js';
import { withRuntime } from './runtime.js';

const wholeNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be a whole number.');
  return n;
};

export function forecastsCommand(): Command {
  const forecasts = new Command('forecasts').description("a tenant's forecasts");
  forecasts
    .command('generate')
    .description(
      "forecast a tenant's sales with the engine, here and now (as generateForecasts does, counted and audited as the cli)",
    )
    .requiredOption('--tenant <slug>', 'the tenant (slug or id)')
    .addOption(
      new Option('--type <type>', 'what to forecast').choices(FORECAST_TYPES).default('DEMAND'),
    )
    .addOption(
      new Option('--period <period>', 'period type')
        .choices(FORECAST_PERIOD_TYPES)
        .default('DAILY'),
    )
    .option('--horizon <n>', 'periods ahead', wholeNumber, 30)
    .addOption(new Option('--model <model>', 'model').choices(MODELS).default('AUTO'))
    .option(
      '--as-of <date>',
      'first forecast period contains this date (YYYY-MM-DD); today by default',
    )
    .action(
      async (options: {
        tenant: string;
        type: ForecastType;
        period: string;
        horizon: number;
        model: ModelChoice;
        asOf?: string;
      }) => {
        await withRuntime(async ({ db }) => {
          const tenant = await getTenant(db.pool, options.tenant);
          const progress = progressReporter(
            options.type === 'CASH_FLOW' ? 'currencies' : 'products',
            'stderr',
          );
          const run = await startOperatorRun(
            db.pool,
            tenant,
            {
              type: options.type,
              periodType: options.period,
              horizon: options.horizon,
              model: options.model,
              asOf: options.asOf ?? null,
            },
            { actor: 'cli' },
            { progress: (done, total) => progress.update(done, total) },
          );
          progress.stop();
          printJson(
            run && {
              id: run.id,
              status: run.status,
              type: run.forecast_type,
              periodType: run.period_type,
              horizon: run.horizon,
              model: run.model,
              asOf: run.as_of,
              productsTotal: run.products_total,
              productsDone: run.products_done,
              accuracy: {
                mape: run.mape,
                smape: run.smape,
                mase: run.mase,
                baselineMape: run.baseline_mape,
              },
              fallbacks: run.fallbacks,
            },
          );
        });
      },
    );
  return forecasts;
}
