/**
 * Period-over-period change of a series of snapshots, for the charts a front end draws.
 */
import { divideScaled, formatScaled, toScaled } from './decimal.js';
import type { Snapshot } from './working-capital.js';

/** The figures a trend reports the change of, with their decimal places. */
export const TREND_METRICS = {
  revenue: 2,
  netRevenue: 2,
  costOfGoodsSold: 2,
  inventory: 2,
  accountsReceivable: 2,
  accountsPayable: 2,
  workingCapital: 2,
  daysSalesOutstanding: 2,
  daysInventoryOutstanding: 2,
  daysPayablesOutstanding: 2,
  cashConversionCycle: 2,
  currentRatio: 4,
  quickRatio: 4,
} as const satisfies Partial<Record<keyof Snapshot, number>>;

export type MetricChange = {
  metric: string;
  previous: string;
  current: string;
  change: string;
  changePercent: string | null;
};

/** Each metric of `current` against `previous`; empty without a previous snapshot. */
export function changesBetween(previous: Snapshot | undefined, current: Snapshot): MetricChange[] {
  if (!previous) return [];
  return Object.entries(TREND_METRICS).map(([metric, places]) => {
    const key = metric as keyof typeof TREND_METRICS;
    const before = toScaled(previous[key], places);
    const after = toScaled(current[key], places);
    const change = after - before;
    return {
      metric,
      previous: previous[key],
      current: current[key],
      change: formatScaled(change, places),
      changePercent:
        before === 0n
          ? null
          : formatScaled(divideScaled(change * 100n, before < 0n ? -before : before, 2), 2),
    };
  });
}
