/**
 * Checks of identifiers and codes shared by the data layer and the GraphQL resolvers.
 */
import { BadUserInputError, NotFoundError } from './errors.js';

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
