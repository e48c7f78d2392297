/**
 * The one module that talks to the time-series library: @bsull/augurs (WASM builds of the augurs
 * crates) for automatic ETS, MSTL and seasonality detection. Everything else in src/forecasting
 * speaks in plain arrays, so the library can be swapped here alone.
 *
 * The WASM modules are instantiated synchronously from the package's .wasm files on first use
 * (initSync): the packages' default loader fetches a URL, which neither Node's ESM loader nor
 * jest's VM modules can do.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ets from '@bsull/augurs/ets';
import * as mstl from '@bsull/augurs/mstl';
import * as seasons from '@bsull/augurs/seasons';

export type Prediction = {
  point: number[];
  /** null when the model gives no interval (e.g. too little history to measure its spread). */
  lower: number[] | null;
  upper: number[] | null;
};

const packageDir = path.dirname(createRequire(import.meta.url).resolve('@bsull/augurs'));
let ready = false;

function init(): void {
  if (ready) return;
  const wasm = (name: string) => readFileSync(path.join(packageDir, `${name}_bg.wasm`));
  ets.initSync({ module: wasm('ets') });
  mstl.initSync({ module: wasm('mstl') });
  seasons.initSync({ module: wasm('seasons') });
  ready = true;
}

/** The library's name and version, stored with every forecast row (model_version). */
export const ENGINE_VERSION = 'augurs-0.10';

/** Cycles of a period the series must cover for the period to be looked for. */
export const MIN_SEASONAL_CYCLES = 3;

/**
 * Seasonal periods of `y` found by augurs' periodogram detection on its first differences, among
 * `candidates` only (the
 * periods that make sense for the period type: 7 and 365 days, 52 weeks, 12 months), each only
 * when the series covers at least three of its cycles. (With two cycles of a year, MSTL cannot
 * tell a yearly pattern from the trend: on 730 synthetic days its forecast with [7, 365] was off
 * by a tenth of the level where [7] alone was not.)
 */
export function detectSeasonality(y: readonly number[], candidates: readonly number[]): number[] {
  init();
  const possible = candidates.filter((period) => y.length >= MIN_SEASONAL_CYCLES * period);
  if (possible.length === 0 || new Set(y).size < 2) return [];
  const kept: number[] = [];
  // On the differences: a strong trend would otherwise drown the periodogram's seasonal peaks.
  const differences = Float64Array.from(y.slice(1).map((value, t) => value - y[t]!));
  // A detected period within one step of a candidate is that candidate (364 or 366 days: 365).
  for (const period of seasons.seasonalities(differences)) {
    const match = possible.find((candidate) => Math.abs(candidate - period) <= 1);
    if (match !== undefined && !kept.includes(match)) kept.push(match);
  }
  return kept;
}

type Model = {
  fit(y: Float64Array): void;
  predict(
    horizon: number,
    level?: number | null,
  ): { point: number[]; intervals?: { lower: number[]; upper: number[] } };
  free(): void;
};

/** Fits `model` on `y` and forecasts; the WASM memory is freed whatever happens. */
function fitAndPredict(
  model: Model,
  y: readonly number[],
  horizon: number,
  level: number,
): Prediction {
  try {
    model.fit(Float64Array.from(y));
    const forecast = model.predict(horizon, level);
    return {
      point: forecast.point,
      lower: forecast.intervals?.lower ?? null,
      upper: forecast.intervals?.upper ?? null,
    };
  } finally {
    model.free();
  }
}

/** Automatic (non-seasonal) ETS: error, trend and damping chosen by AICc. */
export function etsForecast(y: readonly number[], horizon: number, level: number): Prediction {
  init();
  return fitAndPredict(new ets.AutoETS(1, 'ZZN'), y, horizon, level);
}

/**
 * MSTL: the series less each seasonal component (STL, one per period), the rest forecast with
 * automatic ETS, the seasonal components carried forward.
 */
export function mstlForecast(
  y: readonly number[],
  periods: readonly number[],
  horizon: number,
  level: number,
): Prediction {
  init();
  return fitAndPredict(mstl.MSTL.ets(Uint32Array.from(periods)), y, horizon, level);
}
