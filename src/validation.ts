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

/**
 * Text PostgreSQL can store: its text and jsonb types refuse U+0000, and UTF-8 cannot encode a
 * lone UTF-16 surrogate (a JavaScript string may hold one; `"\ud800"` in JSON makes one).
 */
export const isStorableText = (text: string): boolean =>
  !text.includes('\u0000') && text.isWellFormed();

export type InputLimits = {
  /** Levels of objects and lists; a scalar at the top is depth 0. */
  maxDepth: number;
  /** Values (objects, lists, keys, scalars) in all. */
  maxNodes: number;
};

export type InputProblem = {
  kind: 'text' | 'depth' | 'size';
  /** Where, from the top: object keys and list indexes. */
  path: (string | number)[];
};

type Pending = {
  value: unknown;
  depth: number;
  key: string | number | null;
  parent: Pending | null;
};

function pathOf(node: Pending): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: Pending | null = node; at && at.key !== null; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * The first problem of a JSON-like input (parsed JSON, GraphQL argument values): text that cannot
 * be stored (values and object keys), nesting deeper than `maxDepth`, more than `maxNodes` values.
 * Walks without recursion, so input nested 100,000 levels deep costs `maxDepth` steps, never the
 * stack.
 */
export function findInputProblem(value: unknown, limits: InputLimits): InputProblem | undefined {
  const pending: Pending[] = [{ value, depth: 0, key: null, parent: null }];
  let nodes = 0;
  while (pending.length > 0) {
    const node = pending.pop()!;
    nodes += 1;
    if (nodes > limits.maxNodes) return { kind: 'size', path: pathOf(node) };
    const current = node.value;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return { kind: 'text', path: pathOf(node) };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (node.depth >= limits.maxDepth) return { kind: 'depth', path: pathOf(node) };
    const depth = node.depth + 1;
    if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1) {
        pending.push({ value: current[index], depth, key: index, parent: node });
      }
    } else {
      for (const [key, child] of Object.entries(current)) {
        // The key itself is not repeated: a message must not carry unstorable text.
        if (!isStorableText(key)) return { kind: 'text', path: pathOf(node) };
        pending.push({ value: child, depth, key, parent: node });
      }
    }
  }
  return undefined;
}

/** A path as clients write it: `input.lines[2].sku`. */
export const formatPath = (path: readonly (string | number)[]): string =>
  path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`,
    )
    .join('');
