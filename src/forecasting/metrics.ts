/**
 * Forecast errors, as percentages where the name says so. Periods whose actual is 0 have no
 * percentage error and are left out of MAPE (and of sMAPE when the forecast is 0 too); MASE scales
 * the absolute error by the mean absolute seasonal difference of the training series, so it is
 * defined for zeros and compares across series (below 1: better than the in-sample seasonal
 * naive).
 */
export type Errors = { mape: number | null; smape: number | null; mase: number | null };

const mean = (values: readonly number[]) =>
  values.length === 0 ? null : values.reduce((sum, value) => sum + value, 0) / values.length;

export function mape(actual: readonly number[], forecast: readonly number[]): number | null {
  const terms: number[] = [];
  actual.forEach((value, i) => {
    if (value !== 0) terms.push((Math.abs(value - forecast[i]!) / Math.abs(value)) * 100);
  });
  return mean(terms);
}

export function smape(actual: readonly number[], forecast: readonly number[]): number | null {
  const terms: number[] = [];
  actual.forEach((value, i) => {
    const denominator = Math.abs(value) + Math.abs(forecast[i]!);
    if (denominator !== 0) terms.push(((2 * Math.abs(value - forecast[i]!)) / denominator) * 100);
  });
  return mean(terms);
}

/** Mean absolute difference between values `period` apart (the seasonal naive's in-sample error). */
export function seasonalScale(train: readonly number[], period: number): number | null {
  const lag = train.length > period ? period : 1;
  const terms: number[] = [];
  for (let t = lag; t < train.length; t += 1) terms.push(Math.abs(train[t]! - train[t - lag]!));
  const scale = mean(terms);
  return scale === null || scale === 0 ? null : scale;
}

export function mase(
  actual: readonly number[],
  forecast: readonly number[],
  scale: number | null,
): number | null {
  if (scale === null) return null;
  return mean(actual.map((value, i) => Math.abs(value - forecast[i]!) / scale));
}

/** 100 − APE floored at 0; an actual of 0 scores 100 when the forecast is 0 too, else 0. */
export function accuracyPercentage(actual: number, forecast: number): number {
  if (actual === 0) return forecast === 0 ? 100 : 0;
  return Math.max(0, 100 - (Math.abs(actual - forecast) / Math.abs(actual)) * 100);
}

/** The mean of the values that are not null; null when none is. */
export function meanOf(values: readonly (number | null)[]): number | null {
  return mean(values.filter((value): value is number => value !== null && Number.isFinite(value)));
}
