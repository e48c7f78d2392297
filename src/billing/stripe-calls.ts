/**
 * What the GraphQL billing fields need to call Stripe, and how a failed call reaches a client: as
 * BILLING_UNAVAILABLE with our own message (Stripe's goes to the log with the request id).
 */
import type { CommonQueryMethods, DatabasePool } from 'slonik';
import type Stripe from 'stripe';
import type { AuditEntry, AuditSource } from '../audit/audit-log.js';
import type { TenantInfo } from '../auth/principal.js';
import { BillingUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';

/** The server's billing settings; undefined on a server without STRIPE_SECRET_KEY. */
export type StripeBilling = {
  stripe: Stripe;
  /** For the Stripe customer id, stored outside the request's transaction. */
  pool: DatabasePool;
  logger: Logger;
  /** The front end's base URL (APP_URL), without a trailing slash. */
  appUrl: string;
};

/** The request a billing call is made for. */
export type BillingRequest = {
  requestId: string;
  tenant: Pick<TenantInfo, 'id' | 'slug' | 'name'>;
  /** Platform work in the request's transaction (RequestContext.platform). */
  platform: <T>(fn: (db: CommonQueryMethods) => Promise<T>) => Promise<T>;
  /** Who acts, for audit entries written outside the request's transaction. */
  source: AuditSource;
  /** Records an audit entry in the request's transaction (RequestContext.audit). */
  audit: (db: CommonQueryMethods, entry: Omit<AuditEntry, 'actor'>) => Promise<void>;
};

/** Stripe's error as the log keeps it: what happened, never the request's parameters. */
function describeStripeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const { type, code, statusCode, requestId } = error as {
    type?: unknown;
    code?: unknown;
    statusCode?: unknown;
    requestId?: unknown;
  };
  return {
    type: type ?? error.name,
    code,
    statusCode,
    stripeRequestId: requestId,
    message: error.message,
  };
}

/**
 * Runs one Stripe call; a Stripe error (network, timeout, 4xx, 5xx) becomes
 * BILLING_UNAVAILABLE, logged with what was attempted.
 */
export async function callStripe<T>(
  billing: StripeBilling,
  request: Pick<BillingRequest, 'requestId' | 'tenant'>,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof billing.stripe.errors.StripeError)) throw error;
    billing.logger.error(
      {
        err: describeStripeError(error),
        requestId: request.requestId,
        tenantId: request.tenant.id,
      },
      `Stripe call failed: ${what}`,
    );
    throw new BillingUnavailableError(
      `Stripe could not ${what}: nothing was changed. Try again in a moment (request ${request.requestId}).`,
    );
  }
}
