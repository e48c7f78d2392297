/**
 * POST /webhooks/stripe: Stripe's billing events (checkout completed, subscriptions, invoices).
 *
 * - Verified as Stripe signs: HMAC over the raw body bytes with the endpoint's signing secret,
 *   and the stripe-signature timestamp at most 5 minutes old (stripe.webhooks.constructEvent)
 *   and at most 5 minutes ahead (futureTimestamp: the SDK only checks age). Values our tables
 *   cannot hold (a `created` past 9999, text with U+0000) are refused with a reason too.
 *   Anything that does not verify or parse gets 400 with one line of JSON and changes nothing.
 * - Each event id has one effect: the id is recorded in public.stripe_events in the same
 *   transaction as the effect, so a redelivery (or a concurrent duplicate, which waits for the
 *   first to commit) is answered "duplicate", and a failed effect rolls the id back too (500),
 *   leaving Stripe's retry another go.
 * - Off (404) unless Stripe is configured with a webhook secret. Neither the secret nor the body
 *   is ever logged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommonQueryMethods, DatabasePool } from 'slonik';
import type Stripe from 'stripe';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticate.js';
import { sql } from '../db/sql.js';
import { loggableError, type Logger } from '../logger.js';
import { applyStripeEvent, parseStripeEvent, type StripeEffectOutcome } from './stripe-events.js';

export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/** The actor of every audit row a Stripe webhook writes. */
export const STRIPE_WEBHOOK_ACTOR = 'stripe_webhook';

/** How old a delivery's signature timestamp may be, in seconds (Stripe's own default). */
export const STRIPE_TOLERANCE_SECONDS = 300;

export type StripeWebhookOptions = {
  pool: DatabasePool;
  logger: Logger;
  authenticator: Pick<Authenticator, 'forgetTenant'>;
  /** The server's Stripe client (for its webhook verification); undefined: route off (404). */
  stripe: Stripe | undefined;
  /** The endpoint's signing secret (whsec_…); undefined: route off (404). */
  webhookSecret: string | undefined;
};

type Result = { status: StripeEffectOutcome['status'] | 'duplicate'; tenantId: string | null };
const DUPLICATE: Result = { status: 'duplicate', tenantId: null };

/** What Stripe's verification errors mean, as one line for the sender. */
function verificationProblem(message: string): string {
  if (message.startsWith('Timestamp outside the tolerance zone')) {
    return 'Stale delivery: the stripe-signature timestamp is more than 5 minutes old.';
  }
  if (message.startsWith('No signatures found matching')) {
    return 'Invalid signature: stripe-signature does not match the body.';
  }
  if (message.startsWith('Unable to extract') || message.startsWith('No signatures found with')) {
    return 'Invalid stripe-signature header: it needs t=<timestamp> and a v1 signature.';
  }
  if (message.startsWith('No webhook payload')) return 'Empty body.';
  return 'Webhook verification failed.';
}

/**
 * A problem when any `t=` of the stripe-signature header is more than the tolerance ahead of this
 * server's clock (a signature made to stay "fresh" for longer than Stripe's window).
 */
export function futureTimestamp(header: string, nowSeconds: number): string | undefined {
  for (const part of header.split(',')) {
    const [name, value] = part.split('=');
    if (name?.trim() !== 't') continue;
    const seconds = Number(value);
    if (Number.isFinite(seconds) && seconds > nowSeconds + STRIPE_TOLERANCE_SECONDS) {
      return 'Delivery from the future: the stripe-signature timestamp is more than 5 minutes ahead.';
    }
  }
  return undefined;
}

/** Records an event id; false when it was already recorded (a redelivery). */
async function recordStripeEvent(
  db: CommonQueryMethods,
  event: { id: string; type: string; created: number },
) {
  const recorded = await db.maybeOneFirst(sql.type(z.object({ id: z.string() }))`
    /* recordStripeEvent */
    INSERT INTO public.stripe_events (id, type, stripe_created_at)
    VALUES (${event.id}, ${event.type.slice(0, 200)}, to_timestamp(${event.created}))
    ON CONFLICT (id) DO NOTHING
    RETURNING id`);
  return recorded !== null;
}

export async function registerStripeWebhooks(
  app: FastifyInstance,
  options: StripeWebhookOptions,
): Promise<void> {
  const { pool, logger, authenticator, stripe, webhookSecret } = options;
  if (!stripe || !webhookSecret) return;

  const refuse = (reply: FastifyReply, request: FastifyRequest, problem: string) => {
    logger.warn({ requestId: request.id, problem }, 'Stripe webhook refused');
    return reply.code(400).send({ error: problem });
  };

  // Its own scope: the body stays the bytes Stripe signed, while /graphql keeps parsing JSON.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body);
    });

    scope.post(STRIPE_WEBHOOK_PATH, async (request, reply) => {
      const header = request.headers['stripe-signature'];
      const signature = Array.isArray(header) ? header[0] : header;
      if (!signature) return refuse(reply, request, 'Missing stripe-signature header.');
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);

      // The SDK checks only that the timestamp is not too old; one from the future is refused too.
      const future = futureTimestamp(signature, Date.now() / 1000);
      if (future) return refuse(reply, request, future);

      let payload: unknown;
      try {
        payload = stripe.webhooks.constructEvent(
          body,
          signature,
          webhookSecret,
          STRIPE_TOLERANCE_SECONDS,
        );
      } catch (error) {
        if (error instanceof SyntaxError) return refuse(reply, request, 'Invalid JSON body.');
        if (error instanceof stripe.errors.StripeSignatureVerificationError) {
          return refuse(reply, request, verificationProblem(error.message));
        }
        throw error;
      }
      const event = parseStripeEvent(payload);
      if ('problem' in event) return refuse(reply, request, event.problem);

      let result: Result;
      try {
        result = await pool.transaction(async (tx) => {
          if (!(await recordStripeEvent(tx, event))) return DUPLICATE;
          return applyStripeEvent(tx, event, {
            source: {
              actor: STRIPE_WEBHOOK_ACTOR,
              ipAddress: request.ip,
              userAgent: request.headers['user-agent'] ?? null,
            },
          });
        }, 0);
      } catch (error) {
        logger.error(
          {
            err: loggableError(error),
            requestId: request.id,
            eventId: event.id,
            type: event.type,
          },
          'Stripe webhook failed',
        );
        return reply.code(500).send({
          error: 'Internal error: the event was not processed; a redelivery can retry it.',
          requestId: request.id,
        });
      }
      // After the commit: a request on this server must not re-cache the old state meanwhile.
      if (result.tenantId) authenticator.forgetTenant(result.tenantId);
      const level = result.status === 'unknown_tenant' ? 'warn' : 'info';
      logger[level](
        {
          requestId: request.id,
          eventId: event.id,
          type: event.type,
          status: result.status,
          tenantId: result.tenantId,
        },
        'Stripe webhook',
      );
      return reply.code(200).send({ status: result.status });
    });
  });
}
