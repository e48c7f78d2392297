/**
 * Metrics periods (DAILY, WEEKLY, MONTHLY, QUARTERLY), each named by its first day, and the point
 * each one is measured at: its last day (today for the period under way), over a window of the
 * days from its first day to that point.
 */
import type { MetricsPeriodType } from '../data/working-capital.js';
import { BadUserInputError } from '../errors.js';
import { addPeriods, periodStart } from '../forecasting/periods.js';

/** Periods one trend or materialisation covers at most. */
export const MAX_PERIODS = 120;

const DAY = 86_400_000;
const toTime = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const toIso = (time: number) => new Date(time).toISOString().slice(0, 10);

function startOf(iso: string, type: MetricsPeriodType): string {
  if (type !== 'QUARTERLY') return periodStart(iso, type);
  const month = periodStart(iso, 'MONTHLY');
  const monthIndex = Number(month.slice(5, 7)) - 1;
  return addPeriods(month, -(monthIndex % 3), 'MONTHLY');
}

const next = (start: string, type: MetricsPeriodType): string =>
  type === 'QUARTERLY' ? addPeriods(start, 3, 'MONTHLY') : addPeriods(start, 1, type);

export type MeasuredPeriod = {
  periodDate: string;
  /** The day the balances are taken: the period's last day, or today if that is sooner. */
  asOf: string;
  /** Days from the period's first day to asOf, both included. */
  windowDays: number;
};

/**
 * The periods from the one containing `from` to the one containing `to`, none starting after
 * today. BAD_USER_INPUT (naming the field) when from > to, to is in a later period than today's,
 * or the range has more than MAX_PERIODS periods.
 */
export function measuredPeriods(
  type: MetricsPeriodType,
  from: string,
  to: string,
  today: string,
): MeasuredPeriod[] {
  if (from > to) {
    throw new BadUserInputError(`Invalid range: from (${from}) is after to (${to}).`, {
      field: 'from',
    });
  }
  const last = startOf(to, type);
  if (last > startOf(today, type)) {
    throw new BadUserInputError(
      `to (${to}) is in a period that has not begun (today is ${today}).`,
      {
        field: 'to',
      },
    );
  }
  const periods: MeasuredPeriod[] = [];
  for (let start = startOf(from, type); start <= last; start = next(start, type)) {
    if (periods.length === MAX_PERIODS) {
      throw new BadUserInputError(
        `The range covers more than ${MAX_PERIODS} ${type.toLowerCase()} periods: narrow from / to.`,
        { field: 'to' },
      );
    }
    const end = toIso(toTime(next(start, type)) - DAY);
    const asOf = end < today ? end : today;
    periods.push({
      periodDate: start,
      asOf,
      windowDays: Math.round((toTime(asOf) - toTime(start)) / DAY) + 1,
    });
  }
  return periods;
}
