/**
 * `npm run bench:forecast`: what the forecasting engine costs and how well it does, without a
 * database or a server (the engine is pure computation; the job around it adds a few short
 * statements per product).
 *
 * 1. Speed: 50 synthetic products x 730 daily points (trend, weekly and yearly seasonality,
 *    Poisson-like noise), a 30-day horizon, each model as a run does it (backtest + final fit):
 *    time per series and per run of 50.
 * 2. Accuracy on a holdout: every model, and AutoARIMA from the `arima` package for comparison,
 *    fitted on the history before the holdout and scored on it (MAPE, sMAPE, MASE against the
 *    in-sample seasonal naive), next to SEASONAL_NAIVE:
 *    - the demo tenant's 50 products (daily units over a year; the last 28 days held out);
 *    - Box & Jenkins' airline passengers, 1949–1960 (monthly totals in thousands; Box, Jenkins
 *      and Reinsel, "Time Series Analysis: Forecasting and Control", series G), 1960 held out.
 */
import { createRequire } from 'node:module';
import { demoDailyUnits } from '../demo/sentia-data.js';
import { detectSeasonality } from '../forecasting/engine.js';
import { mape, mase, meanOf, seasonalScale, smape } from '../forecasting/metrics.js';
import { forecastSeries, MODELS, type ModelChoice } from '../forecasting/models.js';
import { BACKTEST_WINDOW, SEASONAL_CANDIDATES } from '../forecasting/periods.js';

/** Series G: international airline passengers (thousands), January 1949 to December 1960. */
export const AIRLINE_PASSENGERS = [
  112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170,
  170, 158, 133, 114, 140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180,
  193, 181, 183, 218, 230, 242, 209, 191, 172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237,
  211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229, 242, 233, 267, 269,
  270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271,
  306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336, 340, 318, 362, 348, 363, 435,
  491, 505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405, 417,
  391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,
];

type ArimaInstance = {
  train(y: number[]): ArimaInstance;
  predict(h: number): [number[], number[]];
};
type ArimaConstructor = new (options: Record<string, unknown>) => ArimaInstance;

/** AutoARIMA (seasonal with period `s` when given), or undefined when `arima` is not installed. */
function loadArima(): ((y: number[], h: number, s: number) => number[]) | undefined {
  try {
    const ARIMA = createRequire(import.meta.url)('arima') as ArimaConstructor;
    // Its C optimiser prints warnings on stdout whatever `verbose` says: noise, not results.
    return (y, h, s) => {
      const model = new ARIMA({
        auto: true,
        verbose: false,
        ...(s > 1 ? { s, P: 1, D: 1, Q: 1 } : {}),
      });
      return model.train(y).predict(h)[0];
    };
  } catch {
    return undefined;
  }
}

function synthetic(seed: number, length: number): number[] {
  let state = seed;
  const next = () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
  const level = 5 + 40 * next();
  return Array.from({ length }, (_, t) => {
    const mean =
      level *
      (1 + t / length) *
      (1 + 0.3 * Math.sin((2 * Math.PI * t) / 7)) *
      (1 + 0.4 * Math.sin((2 * Math.PI * t) / 365));
    // Poisson-like: normal with variance = mean, floored at 0, whole units.
    const u = Math.max(1e-12, next());
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
  });
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const ms = (value: number) => `${value.toFixed(1)} ms`;
const pct = (value: number | null) => (value === null ? 'n/a' : value.toFixed(2));

function speed() {
  const series = Array.from({ length: 50 }, (_, i) => synthetic(i + 1, 730));
  out('Speed: 50 products x 730 daily points, horizon 30 (backtest + final fit)');
  out('model           per series   per run of 50');
  for (const model of MODELS) {
    const times: number[] = [];
    const runStart = performance.now();
    for (const y of series) {
      const started = performance.now();
      forecastSeries(y, {
        model,
        horizon: 30,
        level: 0.95,
        periods: detectSeasonality(y, SEASONAL_CANDIDATES.DAILY),
        backtestHorizon: BACKTEST_WINDOW.DAILY,
        nonNegative: true,
      });
      times.push(performance.now() - started);
    }
    const run = performance.now() - runStart;
    const mean = times.reduce((sum, value) => sum + value, 0) / times.length;
    out(`${model.padEnd(15)} ${ms(mean).padStart(10)}   ${(run / 1000).toFixed(2).padStart(9)} s`);
  }
  const arima = loadArima();
  if (arima) {
    const started = performance.now();
    for (const y of series.slice(0, 5)) arima(y, 30, 7);
    out(
      `${'AutoARIMA (s=7)'.padEnd(15)} ${ms((performance.now() - started) / 5).padStart(10)}   (5 series)`,
    );
  }
}

type Scores = { mape: number | null; smape: number | null; mase: number | null };

function holdout(
  name: string,
  series: readonly number[][],
  horizon: number,
  candidates: readonly number[],
  window: number,
) {
  const arima = loadArima();
  const rows = new Map<string, Scores[]>();
  const add = (model: string, scores: Scores) =>
    rows.set(model, [...(rows.get(model) ?? []), scores]);
  for (const y of series) {
    const train = y.slice(0, y.length - horizon);
    const test = y.slice(y.length - horizon);
    const periods = detectSeasonality(train, candidates);
    const scale = seasonalScale(train, candidates[0] ?? 1);
    const score = (forecast: readonly number[]): Scores => ({
      mape: mape(test, forecast),
      smape: smape(test, forecast),
      mase: mase(test, forecast, scale),
    });
    for (const model of MODELS) {
      const result = forecastSeries(train, {
        model: model as ModelChoice,
        horizon,
        level: 0.95,
        periods,
        backtestHorizon: Math.min(horizon, window),
        nonNegative: true,
      });
      add(model, score(result.prediction.point));
    }
    if (arima) {
      try {
        add('AutoARIMA', score(arima(train, horizon, candidates[0] ?? 1)));
      } catch {
        // AutoARIMA found no model for this series.
      }
    }
  }
  out(`\n${name}: holdout of ${horizon}, mean over ${series.length} series`);
  out('model           MAPE %   sMAPE %   MASE');
  for (const [model, scores] of rows) {
    out(
      `${model.padEnd(15)} ${pct(meanOf(scores.map((s) => s.mape))).padStart(6)}   ${pct(meanOf(scores.map((s) => s.smape))).padStart(7)}   ${pct(meanOf(scores.map((s) => s.mase))).padStart(5)}`,
    );
  }
}

speed();
const demo = demoDailyUnits('2026-01-31').map((product) => {
  // A product's history starts at its first sale.
  const first = product.units.findIndex((value) => value > 0);
  return product.units.slice(Math.max(0, first));
});
holdout(
  'Demo tenant, daily units',
  demo.filter((y) => y.length > 60),
  28,
  SEASONAL_CANDIDATES.DAILY,
  BACKTEST_WINDOW.DAILY,
);
holdout(
  'Airline passengers 1949-1960, monthly',
  [AIRLINE_PASSENGERS],
  12,
  SEASONAL_CANDIDATES.MONTHLY,
  BACKTEST_WINDOW.MONTHLY,
);
