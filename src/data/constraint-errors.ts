/**
 * Constraint violations become domain errors at the data layer: a unique violation is a CONFLICT
 * naming the field, a check violation is BAD_USER_INPUT with a readable rule, a foreign key points
 * at something that does not exist. Anything else is rethrown untouched.
 */
import {
  CheckIntegrityConstraintViolationError,
  ForeignKeyIntegrityConstraintViolationError,
  NotNullIntegrityConstraintViolationError,
  UniqueIntegrityConstraintViolationError,
} from 'slonik';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors.js';

export type ConstraintMessages = Record<string, { field: string; message: string }>;

export function translateConstraint(error: unknown, messages: ConstraintMessages): never {
  if (
    error instanceof UniqueIntegrityConstraintViolationError ||
    error instanceof CheckIntegrityConstraintViolationError ||
    error instanceof ForeignKeyIntegrityConstraintViolationError ||
    error instanceof NotNullIntegrityConstraintViolationError
  ) {
    const known = error.constraint ? messages[error.constraint] : undefined;
    const details = { field: known?.field, constraint: error.constraint };
    if (error instanceof UniqueIntegrityConstraintViolationError) {
      throw new ConflictError(
        known?.message ?? 'A record with these values already exists.',
        details,
      );
    }
    if (error instanceof ForeignKeyIntegrityConstraintViolationError) {
      throw new NotFoundError(known?.message ?? 'A referenced record does not exist.', details);
    }
    throw new BadUserInputError(
      known?.message ?? `The input breaks the rule ${error.constraint ?? 'of a column'}.`,
      details,
    );
  }
  throw error;
}

/** Runs a write and translates the constraint violations it may raise. */
export async function guarded<T>(
  messages: ConstraintMessages,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    return translateConstraint(error, messages);
  }
}
