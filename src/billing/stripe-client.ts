/**
 * The server's one Stripe client, built from STRIPE_SECRET_KEY. Billing calls run while the
 * request's transaction is open, so a call is bounded well inside the database's
 * idle-in-transaction timeout: a short timeout and one retry (POSTs carry our own idempotency
 * keys, so a retried create cannot create twice). The key is handed to the SDK and never logged.
 */
import Stripe from 'stripe';
import type { StripeConfig } from '../config.js';

/** How long one Stripe call may take before it counts as failed (the SDK's default is 80 s). */
export const STRIPE_TIMEOUT_MS = 4_000;

export function createStripeClient(config: Pick<StripeConfig, 'secretKey'>): Stripe {
  return new Stripe(config.secretKey, {
    maxNetworkRetries: 1,
    timeout: STRIPE_TIMEOUT_MS,
    appInfo: { name: 'CapLiquify API' },
  });
}
