/**
 * Forecast periods: DAILY (a day), WEEKLY (an ISO week, Monday to Sunday) and MONTHLY (a calendar
 * month). A period is named by its first day, as an ISO date (YYYY-MM-DD, UTC).
 */
export const FORECAST_PERIOD_TYPES = ['DAILY', 'WEEKLY', 'MONTHLY'] as const;
export type ForecastPeriodType = (typeof FORECAST_PERIOD_TYPES)[number];

/** The most periods one run may forecast, per period type (about a year, two years, three years). */
export const MAX_HORIZON: Readonly<Record<ForecastPeriodType, number>> = {
  DAILY: 366,
  WEEKLY: 104,
  MONTHLY: 36,
};

/** Seasonal periods looked for: a week and a year of days, a year of weeks, a year of months. */
export const SEASONAL_CANDIDATES: Readonly<Record<ForecastPeriodType, readonly number[]>> = {
  DAILY: [7, 365],
  WEEKLY: [52],
  MONTHLY: [12],
};

/** The length of each backtest window: four weeks of days, eight weeks, a year of months. */
export const BACKTEST_WINDOW: Readonly<Record<ForecastPeriodType, number>> = {
  DAILY: 28,
  WEEKLY: 8,
  MONTHLY: 12,
};

/** PostgreSQL's date_trunc field for the period type. */
export const TRUNC_FIELD: Readonly<Record<ForecastPeriodType, 'day' | 'week' | 'month'>> = {
  DAILY: 'day',
  WEEKLY: 'week',
  MONTHLY: 'month',
};

/** Days of a period on average, to turn payment terms in days into periods. */
export const DAYS_PER_PERIOD: Readonly<Record<ForecastPeriodType, number>> = {
  DAILY: 1,
  WEEKLY: 7,
  MONTHLY: 365.25 / 12,
};

const toDate = (iso: string) => new Date(`${iso}T00:00:00Z`);
const toIso = (date: Date) => date.toISOString().slice(0, 10);

/** The first day of the period that contains `iso`. */
export function periodStart(iso: string, type: ForecastPeriodType): string {
  const date = toDate(iso);
  if (type === 'WEEKLY') date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
  if (type === 'MONTHLY') date.setUTCDate(1);
  return toIso(date);
}

/** The first day of the period `count` periods after the one starting on `start`. */
export function addPeriods(start: string, count: number, type: ForecastPeriodType): string {
  const date = toDate(start);
  if (type === 'DAILY') date.setUTCDate(date.getUTCDate() + count);
  if (type === 'WEEKLY') date.setUTCDate(date.getUTCDate() + 7 * count);
  if (type === 'MONTHLY') date.setUTCMonth(date.getUTCMonth() + count);
  return toIso(date);
}

/** Period starts from `from` (inclusive) to `to` (exclusive), both period starts. */
export function periodsBetween(from: string, to: string, type: ForecastPeriodType): string[] {
  const starts: string[] = [];
  for (let start = from; start < to; start = addPeriods(start, 1, type)) starts.push(start);
  return starts;
}

/** Today (UTC) as an ISO date. */
export const todayIso = (now: Date = new Date()) => toIso(now);
