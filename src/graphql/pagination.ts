/**
 * Relay connections with keyset cursors. A cursor is opaque to clients: base64url of the sort
 * key and the row id, so the next page continues after that row whatever rows were added.
 */
import { sql } from '../db/sql.js';
import { BadUserInputError } from '../errors.js';
import { isUuid } from '../validation.js';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export type Cursor = { key: string | number | null; id: string };

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.key, cursor.id])).toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      (value[0] === null || typeof value[0] === 'string' || typeof value[0] === 'number') &&
      typeof value[1] === 'string' &&
      /^[0-9a-f-]{36}$/.test(value[1])
    ) {
      return { key: value[0], id: value[1] };
    }
  } catch {
    // reported below
  }
  throw new BadUserInputError('Invalid cursor: pass an endCursor from a previous page.', {
    field: 'after',
  });
}

export function pageSize(first: number | null | undefined): number {
  const size = first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(size) || size < 0 || size > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`Invalid first: it must be between 0 and ${MAX_PAGE_SIZE}.`, {
      field: 'first',
    });
  }
  return size;
}

export type Page<T> = {
  edges: { cursor: string; node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    endCursor: string | null;
    hasPreviousPage: boolean;
    startCursor: string | null;
  };
  /** Counts all matching rows; called only when a client asks for totalCount. */
  count: () => Promise<number>;
};

/** Builds a page from `size + 1` rows fetched after the cursor. */
export function toPage<T>(
  rows: readonly T[],
  size: number,
  cursorOf: (row: T) => Cursor,
  count: () => Promise<number>,
  hasPreviousPage: boolean,
): Page<T> {
  const hasNextPage = rows.length > size;
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(cursorOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    count,
  };
}

/**
 * A timestamp as a cursor key, to the microsecond (a JavaScript Date keeps milliseconds only, so
 * rows written within one millisecond would be skipped or repeated across pages).
 */
export const microsecondKey = (column: ReturnType<typeof sql.identifier>) =>
  sql.fragment`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const MICROSECOND_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The place a cursor of a list ordered by (timestamp, id) names; BAD_USER_INPUT otherwise. */
export function timestampPosition(cursor: Cursor): { key: string; id: string } {
  const key = cursor.key;
  if (
    typeof key !== 'string' ||
    !MICROSECOND_KEY.test(key) ||
    Number.isNaN(Date.parse(key)) ||
    !isUuid(cursor.id)
  ) {
    throw new BadUserInputError('Invalid cursor: pass an endCursor from a previous page.', {
      field: 'after',
    });
  }
  return { key, id: cursor.id };
}
