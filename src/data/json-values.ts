/**
 * Checks for JSON values that clients send through the JSON scalar before they are stored:
 * bounded size and nesting, only what PostgreSQL's jsonb accepts, and (where asked) an object.
 * Messages name the field and the rule, never the value (it may be a secret).
 */
import type { SerializableValue } from 'slonik';
import { sql } from '../db/sql.js';
import { BadUserInputError } from '../errors.js';
import { findInputProblem } from '../validation.js';

export const JSON_MAX_DEPTH = 32;

export type JsonRules = {
  /** Largest size of the value serialized as JSON, in UTF-8 bytes. */
  maxBytes: number;
  /** Only a JSON object ({...}) is accepted. */
  object?: boolean;
  /** The object must have at least one key. */
  nonEmpty?: boolean;
  /** Refuse strings jsonb cannot hold (U+0000, unpaired surrogates); not needed for encrypted text. */
  jsonb?: boolean;
};

export const isJsonObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks depth and text without recursion (no stack overflow on deep input). */
function checkTree(field: string, value: unknown, jsonb: boolean): void {
  const problem = findInputProblem(value, { maxDepth: JSON_MAX_DEPTH, maxNodes: Infinity });
  if (problem?.kind === 'depth') {
    throw new BadUserInputError(
      `${field} is nested too deeply: at most ${JSON_MAX_DEPTH} levels.`,
      {
        field,
      },
    );
  }
  if (problem?.kind === 'text' && jsonb) {
    throw new BadUserInputError(
      `${field} contains a string with U+0000 or an unpaired surrogate, which cannot be stored.`,
      { field },
    );
  }
}

/** Checks a JSON input and returns its serialized size in bytes. */
export function checkJson(field: string, value: unknown, rules: JsonRules): number {
  if (rules.object && !isJsonObject(value)) {
    throw new BadUserInputError(`${field} must be a JSON object ({...}).`, { field });
  }
  if (rules.nonEmpty && isJsonObject(value) && Object.keys(value).length === 0) {
    throw new BadUserInputError(`${field} must not be empty.`, { field });
  }
  checkTree(field, value, rules.jsonb ?? true);
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');
  if (bytes > rules.maxBytes) {
    throw new BadUserInputError(
      `${field} is too large: at most ${rules.maxBytes} bytes as JSON (got ${bytes}).`,
      { field },
    );
  }
  return bytes;
}

/** A checked JSON value as a jsonb parameter; null (SQL NULL) for null or undefined. */
export const jsonbOrNull = (value: unknown) =>
  value === null || value === undefined ? null : sql.jsonb(value as SerializableValue);
