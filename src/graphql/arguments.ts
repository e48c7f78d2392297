/**
 * Checks shared by several resolvers' arguments.
 */
import { BadUserInputError } from '../errors.js';
import { isoDate } from './scalars.js';

export type DateRange = { from: string; to: string };

/** A date range with from <= to, as 'YYYY-MM-DD' strings. */
export function dateRange(from: Date, to: Date): DateRange {
  const range = { from: isoDate(from), to: isoDate(to) };
  if (range.from > range.to) {
    throw new BadUserInputError(`Invalid range: from (${range.from}) is after to (${range.to}).`, {
      field: 'from',
    });
  }
  return range;
}

/** The same, for optional bounds. */
export function optionalDateRange(from: Date | null | undefined, to: Date | null | undefined) {
  const range = { from: from ? isoDate(from) : null, to: to ? isoDate(to) : null };
  if (range.from && range.to && range.from > range.to) {
    throw new BadUserInputError(`Invalid range: from (${range.from}) is after to (${range.to}).`, {
      field: 'from',
    });
  }
  return range;
}
