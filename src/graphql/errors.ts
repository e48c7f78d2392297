/**
 * Errors as clients see them. Our own errors keep their message and code; GraphQL's own request
 * errors (syntax, validation, variables) pass through; anything else is masked as
 * INTERNAL_SERVER_ERROR, and the log keeps the detail under the request id the response carries.
 */
import { HeaderMap } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { databaseRefusal } from '../db/errors.js';
import { HTTP_STATUS, isAppError, type AppError } from '../errors.js';

const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** What an AppError shows a client besides its message: code, field and public extensions. */
function publicExtensions(error: AppError): Record<string, unknown> {
  const { field, extensions } = error.details;
  return {
    code: error.code,
    ...(typeof field === 'string' ? { field } : {}),
    ...(typeof extensions === 'object' && extensions !== null ? extensions : {}),
  };
}

/**
 * An AppError as a GraphQLError, with the HTTP status (and Retry-After, for a limit) it gives a
 * whole-request failure.
 */
export function toGraphQLError(error: AppError, requestId?: string): GraphQLError {
  const status = HTTP_STATUS[error.code];
  const retryAfter = error.details.retryAfterSeconds;
  const headers =
    typeof retryAfter === 'number'
      ? new HeaderMap([['retry-after', String(Math.max(1, Math.ceil(retryAfter)))]])
      : undefined;
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: {
      ...publicExtensions(error),
      ...(status ? { http: { status, ...(headers ? { headers } : {}) } } : {}),
      // Errors raised before a request has a context (authentication) carry their id here.
      ...(requestId ? { requestId } : {}),
    },
  });
}

export const MASKED_MESSAGE = 'Internal server error';

/** A masked internal error for a request that failed before it had a context (HTTP 500). */
export const internalError = (requestId: string) =>
  new GraphQLError(MASKED_MESSAGE, {
    extensions: { code: 'INTERNAL_SERVER_ERROR', requestId, http: { status: 500 } },
  });

/** graphql-armor words its cost, depth and alias refusals as syntax errors; they are not. */
const ARMOR_PREFIX = 'Syntax Error: ';

/** True for errors whose detail must not reach the client. */
function isInternal(formatted: GraphQLFormattedError, error: unknown): boolean {
  if (isAppError(unwrapResolverError(error))) return false;
  const code = formatted.extensions?.code;
  return !(typeof code === 'string' && (PASS_THROUGH.has(code) || code in HTTP_STATUS));
}

export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError {
  const unwrapped = unwrapResolverError(error);
  // A database failure caused by the request (a timeout, a value out of range) has its own code.
  const original = isAppError(unwrapped) ? unwrapped : (databaseRefusal(unwrapped) ?? unwrapped);
  if (isAppError(original)) {
    return {
      message: original.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: {
        ...publicExtensions(original),
        ...(formatted.extensions?.requestId ? { requestId: formatted.extensions.requestId } : {}),
      },
    };
  }
  if (!isInternal(formatted, error)) {
    const extensions = { ...formatted.extensions };
    delete extensions.stacktrace;
    const message =
      extensions.code === 'GRAPHQL_VALIDATION_FAILED' && formatted.message.startsWith(ARMOR_PREFIX)
        ? formatted.message.slice(ARMOR_PREFIX.length)
        : formatted.message;
    return { ...formatted, message, extensions };
  }
  const requestId = formatted.extensions?.requestId;
  return {
    message: MASKED_MESSAGE,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
  };
}
