/**
 * Fitting one series: the four models of the API, their fallbacks for short or sparse series,
 * and rolling-origin backtests on the series' own recent history.
 *
 * - SEASONAL_NAIVE: each period repeats the one a season earlier (the last value without a
 *   season); its intervals come from the spread of its own in-sample errors, widening with each
 *   season ahead. It is the baseline every other model is compared with.
 * - ETS: automatic (non-seasonal) exponential smoothing (engine.ts).
 * - MSTL: seasonal decomposition on the detected periods, ETS on the rest (engine.ts).
 * - AUTO: backtests each candidate that the series allows and keeps the lowest MASE.
 */
import { etsForecast, mstlForecast, type Prediction } from './engine.js';
import { mape, meanOf, seasonalScale, smape } from './metrics.js';
import { twoSidedZ } from './normal.js';

export const MODELS = ['SEASONAL_NAIVE', 'ETS', 'MSTL', 'AUTO'] as const;
export type ModelChoice = (typeof MODELS)[number];
export type FittedModel = Exclude<ModelChoice, 'AUTO'>;

/** Fewest periods ETS is fitted on; shorter series get SEASONAL_NAIVE. */
export const MIN_ETS_PERIODS = 8;
/** Fewest non-zero periods for ETS; a sparser series gets SEASONAL_NAIVE. */
export const MIN_ETS_NONZERO = 4;
/** A series with more zero periods than this share is too sparse to decompose (MSTL → ETS). */
export const MAX_MSTL_ZERO_SHARE = 0.5;
/** Backtest origins (each a window of the backtest horizon, the last ones of the history). */
export const BACKTEST_ORIGINS = 3;

export type Accuracy = {
  mape: number | null;
  smape: number | null;
  mase: number | null;
  /** MAPE of SEASONAL_NAIVE on the same backtest windows. */
  baselineMape: number | null;
};

export type SeriesForecast = {
  model: FittedModel;
  prediction: Prediction;
  /** Why the series got a simpler model than asked for; null when it got what was asked. */
  fallback: string | null;
  /** The backtest of the model that produced the forecast; null when the history is too short. */
  accuracy: Accuracy | null;
};

export type SeriesOptions = {
  model: ModelChoice;
  horizon: number;
  level: number;
  /** Detected seasonal periods, strongest first (engine.detectSeasonality). */
  periods: readonly number[];
  /** The length of each backtest window. */
  backtestHorizon: number;
  /** Units and money are never negative: clamp the forecast and its bounds at 0. */
  nonNegative: boolean;
};

function seasonalNaive(
  y: readonly number[],
  period: number,
  horizon: number,
  level: number,
): Prediction {
  const m = y.length > period ? period : 1;
  const point = Array.from({ length: horizon }, (_, h) => y[y.length - m + (h % m)]!);
  const residuals: number[] = [];
  for (let t = m; t < y.length; t += 1) residuals.push(y[t]! - y[t - m]!);
  if (residuals.length < 2) return { point, lower: null, upper: null };
  const meanResidual = residuals.reduce((sum, value) => sum + value, 0) / residuals.length;
  const sd = Math.sqrt(
    residuals.reduce((sum, value) => sum + (value - meanResidual) ** 2, 0) / (residuals.length - 1),
  );
  const z = twoSidedZ(level);
  const width = (h: number) => z * sd * Math.sqrt(Math.floor(h / m) + 1);
  return {
    point,
    lower: point.map((value, h) => value - width(h)),
    upper: point.map((value, h) => value + width(h)),
  };
}

/** The model the series can take for `wanted`, and why not `wanted` when it cannot. */
function feasible(
  y: readonly number[],
  wanted: FittedModel,
  periods: readonly number[],
): { model: FittedModel; reason: string | null; periods: number[] } {
  const usable = periods.filter((period) => y.length >= 2 * period);
  const zeros = y.filter((value) => value === 0).length;
  if (wanted === 'MSTL') {
    if (usable.length === 0) {
      const next = feasible(y, 'ETS', periods);
      return { ...next, reason: next.reason ?? 'no seasonality detected' };
    }
    if (zeros / y.length > MAX_MSTL_ZERO_SHARE) {
      const next = feasible(y, 'ETS', periods);
      return { ...next, reason: next.reason ?? 'too sparse for MSTL (mostly zero periods)' };
    }
    return { model: 'MSTL', reason: null, periods: usable };
  }
  if (wanted === 'ETS') {
    if (y.length < MIN_ETS_PERIODS) {
      return {
        model: 'SEASONAL_NAIVE',
        reason: `fewer than ${MIN_ETS_PERIODS} periods of history`,
        periods: usable,
      };
    }
    if (y.length - zeros < MIN_ETS_NONZERO) {
      return {
        model: 'SEASONAL_NAIVE',
        reason: `fewer than ${MIN_ETS_NONZERO} periods with sales`,
        periods: usable,
      };
    }
  }
  return { model: wanted, reason: null, periods: usable };
}

/** Fits `model` (falling back as `feasible` says) and forecasts `horizon` periods. */
function fit(
  y: readonly number[],
  wanted: FittedModel,
  periods: readonly number[],
  horizon: number,
  level: number,
): { model: FittedModel; reason: string | null; prediction: Prediction } {
  const choice = feasible(y, wanted, periods);
  if (choice.model === 'MSTL') {
    try {
      return { ...choice, prediction: mstlForecast(y, choice.periods, horizon, level) };
    } catch (error) {
      const next = fit(y, 'ETS', periods, horizon, level);
      return { ...next, reason: next.reason ?? `MSTL could not fit: ${messageOf(error)}` };
    }
  }
  if (choice.model === 'ETS') {
    try {
      return { ...choice, prediction: etsForecast(y, horizon, level) };
    } catch (error) {
      const next = fit(y, 'SEASONAL_NAIVE', periods, horizon, level);
      return { ...next, reason: `ETS could not fit: ${messageOf(error)}` };
    }
  }
  return { ...choice, prediction: seasonalNaive(y, choice.periods[0] ?? 1, horizon, level) };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

type Backtest = { accuracy: Accuracy; model: FittedModel };

/**
 * Rolling origin: the model is fitted on the history up to each of the last BACKTEST_ORIGINS
 * windows of `window` periods and scored on the window (pooled over windows). Null when the
 * history cannot hold a window after MIN_ETS_PERIODS of training.
 */
export function backtest(
  y: readonly number[],
  model: FittedModel,
  periods: readonly number[],
  window: number,
): Backtest | null {
  const actual: number[] = [];
  const forecast: number[] = [];
  const baseline: number[] = [];
  const scaled: number[] = [];
  let used: FittedModel = model;
  for (let origin = BACKTEST_ORIGINS; origin >= 1; origin -= 1) {
    const cut = y.length - origin * window;
    if (cut < MIN_ETS_PERIODS) continue;
    const train = y.slice(0, cut);
    const test = y.slice(cut, cut + window);
    const fitted = fit(train, model, periods, window, 0.95);
    used = fitted.model;
    const naive = seasonalNaive(train, periods[0] ?? 1, window, 0.95).point;
    const scale = seasonalScale(train, periods[0] ?? 1);
    test.forEach((value, i) => {
      actual.push(value);
      forecast.push(fitted.prediction.point[i]!);
      baseline.push(naive[i]!);
      if (scale !== null) scaled.push(Math.abs(value - fitted.prediction.point[i]!) / scale);
    });
  }
  if (actual.length === 0) return null;
  return {
    model: used,
    accuracy: {
      mape: mape(actual, forecast),
      smape: smape(actual, forecast),
      mase: meanOf(scaled),
      baselineMape: mape(actual, baseline),
    },
  };
}

const clamp = (prediction: Prediction): Prediction => {
  const atZero = (values: number[] | null) => values && values.map((value) => Math.max(0, value));
  return {
    point: atZero(prediction.point)!,
    lower: atZero(prediction.lower),
    upper: atZero(prediction.upper),
  };
};

/** Forecasts one series with the model asked for (AUTO: the backtest's best). */
export function forecastSeries(y: readonly number[], options: SeriesOptions): SeriesForecast {
  const { horizon, level, periods, backtestHorizon } = options;
  let wanted: FittedModel;
  let accuracy: Accuracy | null;
  let autoReason: string | null = null;
  if (options.model === 'AUTO') {
    const candidates: FittedModel[] = ['SEASONAL_NAIVE', 'ETS'];
    if (feasible(y, 'MSTL', periods).model === 'MSTL') candidates.push('MSTL');
    const scored = candidates
      .map((candidate) => ({ candidate, result: backtest(y, candidate, periods, backtestHorizon) }))
      .filter((entry) => entry.result !== null && entry.result.model === entry.candidate);
    const best = scored.reduce<(typeof scored)[number] | undefined>(
      (current, entry) =>
        current === undefined || score(entry.result!.accuracy) < score(current.result!.accuracy)
          ? entry
          : current,
      undefined,
    );
    if (best) {
      wanted = best.candidate;
      accuracy = best.result!.accuracy;
    } else {
      wanted = feasible(y, 'ETS', periods).model;
      accuracy = null;
      autoReason = 'too short to backtest';
    }
  } else {
    wanted = options.model;
    accuracy = backtest(y, wanted, periods, backtestHorizon)?.accuracy ?? null;
  }
  const fitted = fit(y, wanted, periods, horizon, level);
  const prediction = options.nonNegative ? clamp(fitted.prediction) : fitted.prediction;
  return {
    model: fitted.model,
    prediction,
    fallback: autoReason ?? fitted.reason,
    accuracy,
  };
}

/** Lower is better: MASE, then sMAPE; a model without either never wins. */
const score = (accuracy: Accuracy) =>
  accuracy.mase ?? (accuracy.smape !== null ? 1e6 + accuracy.smape : Infinity);
