/**
 * Checks shared by several resolvers' arguments.
 */
import { BadUserInputError, NotFoundError } from '../errors.js';
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

const CHANNEL = /^[a-z0-9_]{1,50}$/;

export function validChannel(channel: string | null | undefined): string | null {
  if (channel == null) return null;
  if (!CHANNEL.test(channel)) {
    throw new BadUserInputError(
      `Invalid channel "${channel}": use lowercase letters, digits and _.`,
      { field: 'channel' },
    );
  }
  return channel;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (id: string): boolean => UUID.test(id);

/** An id that is not a UUID names nothing: NOT_FOUND, exactly like another tenant's id. */
export function assertUuid(id: string): void {
  if (!isUuid(id)) throw new NotFoundError(`No record ${id}.`, { field: 'id' });
}
