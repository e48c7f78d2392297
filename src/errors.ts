/**
 * Errors that are part of the product's contract. Each carries a literal code (the GraphQL
 * `extensions.code` later, an exit status in the CLI). Anything else is an internal error.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'UNAUTHENTICATED'
  | 'QUOTA_EXCEEDED'
  | 'RATE_LIMITED'
  | 'TENANT_SUSPENDED'
  | 'PAYMENT_REQUIRED'
  | 'BILLING_UNAVAILABLE'
  | 'DATABASE_UNAVAILABLE'
  | 'SERVICE_UNAVAILABLE'
  | 'TIMEOUT'
  | 'MIGRATION_FAILED';

export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadUserInputError extends AppError {
  readonly code = 'BAD_USER_INPUT';
}

export class NotFoundError extends AppError {
  readonly code = 'NOT_FOUND';
}

export class ConflictError extends AppError {
  readonly code = 'CONFLICT';
}

export class UnauthenticatedError extends AppError {
  readonly code = 'UNAUTHENTICATED';
}

export class ForbiddenError extends AppError {
  readonly code = 'FORBIDDEN';
}

export class TenantSuspendedError extends AppError {
  readonly code = 'TENANT_SUSPENDED';
}

/** The tenant's billing state forbids this (a write while read-only, a feature of a higher plan). */
export class PaymentRequiredError extends AppError {
  readonly code = 'PAYMENT_REQUIRED';
}

/**
 * Stripe could not be reached or refused a billing call; nothing was changed and trying again
 * later may work. The message never carries Stripe's own (the log has it, under the request id).
 */
export class BillingUnavailableError extends AppError {
  readonly code = 'BILLING_UNAVAILABLE';
}

/**
 * A plan limit is reached. `details.extensions` ({ metric, limit, used }) reach the client;
 * `details.retryAfterSeconds`, when set, becomes a Retry-After header.
 */
export class QuotaExceededError extends AppError {
  readonly code = 'QUOTA_EXCEEDED';
}

/** Too many requests for one key or user; `details.retryAfterSeconds` becomes Retry-After. */
export class RateLimitedError extends AppError {
  readonly code = 'RATE_LIMITED';
}

/** The database cannot be reached or used; the message says what to do about it. */
export class DatabaseUnavailableError extends AppError {
  readonly code = 'DATABASE_UNAVAILABLE';
}

/**
 * The server cannot take the request now (no pooled connection within DB_ACQUIRE_TIMEOUT_MS);
 * nothing ran. `details.retryAfterSeconds` becomes Retry-After.
 */
export class ServiceUnavailableError extends AppError {
  readonly code = 'SERVICE_UNAVAILABLE';
}

/** A statement ran past the statement timeout and was cancelled; the request's writes rolled back. */
export class TimeoutError extends AppError {
  readonly code = 'TIMEOUT';
}

/** A migration file or run is not acceptable (edited after it was applied, missing down file, ...). */
export class MigrationError extends AppError {
  readonly code = 'MIGRATION_FAILED';
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/** The HTTP status a request gets when it fails as a whole with this code. */
export const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  TENANT_SUSPENDED: 403,
  PAYMENT_REQUIRED: 402,
  QUOTA_EXCEEDED: 429,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};
