/**
 * POST /webhooks/clerk: Clerk's organisation, membership and user events, delivered by Svix.
 *
 * - Verified exactly as Svix signs: HMAC over the raw body bytes with the endpoint's secret, and
 *   the svix-timestamp within 5 minutes of now (the svix package does both). Anything that does
 *   not verify or parse gets 400 with one line of JSON and changes nothing.
 * - Each svix-id has one effect: the id is recorded in public.clerk_events in the same
 *   transaction as the effect, so a redelivery is answered "duplicate", and a failed effect rolls
 *   the id back too (500), leaving Svix's retry another go.
 * - Off (404) unless CLERK_WEBHOOK_SECRET is set. Neither the secret nor the body is ever logged.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CommonQueryMethods, DatabasePool } from 'slonik';
import { Webhook, WebhookVerificationError } from 'svix';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticate.js';
import type { ClerkConfig } from '../config.js';
import { sql } from '../db/sql.js';
import { loggableError, type Logger } from '../logger.js';
import type { LifecycleContext } from '../tenants/lifecycle.js';
import { applyClerkEvent, parseClerkEvent, type EffectOutcome } from './clerk-events.js';

export const CLERK_WEBHOOK_PATH = '/webhooks/clerk';

/** The actor of every audit row a Clerk webhook writes. */
export const CLERK_WEBHOOK_ACTOR = 'clerk_webhook';

export type ClerkWebhookOptions = {
  pool: DatabasePool;
  logger: Logger;
  authenticator: Pick<Authenticator, 'forgetTenant' | 'forgetUser'>;
  lifecycle: Omit<LifecycleContext, 'pool' | 'actor'>;
  /** config.clerk; without a webhookSecret the route is not registered (404). */
  clerk: ClerkConfig | undefined;
};

const SVIX_HEADERS = ['svix-id', 'svix-timestamp', 'svix-signature'] as const;
type SvixHeaders = Record<(typeof SVIX_HEADERS)[number], string>;

type Result = Omit<EffectOutcome, 'status'> & { status: EffectOutcome['status'] | 'duplicate' };
const DUPLICATE: Result = { status: 'duplicate', forgetTenants: [], forgetUsers: [] };

/** What Svix's verification errors mean, as one line for the sender. */
function verificationProblem(error: WebhookVerificationError): string {
  switch (error.message) {
    case 'Message timestamp too old':
      return 'Stale delivery: svix-timestamp is more than 5 minutes in the past.';
    case 'Message timestamp too new':
      return 'Invalid svix-timestamp: it is more than 5 minutes in the future.';
    case 'Invalid Signature Headers':
      return 'Invalid svix-timestamp: it must be a Unix time in seconds.';
    case 'No matching signature found':
      return 'Invalid signature: svix-signature does not match the body.';
    default:
      return `Webhook verification failed: ${error.message}.`;
  }
}

/** Records a svix-id; false when it was already recorded (a redelivery). */
async function recordClerkEvent(db: CommonQueryMethods, id: string, type: string) {
  const recorded = await db.maybeOneFirst(sql.type(z.object({ id: z.string() }))`
    /* recordClerkEvent */
    INSERT INTO public.clerk_events (id, type) VALUES (${id}, ${type.slice(0, 200)})
    ON CONFLICT (id) DO NOTHING
    RETURNING id`);
  return recorded !== null;
}

export async function registerClerkWebhooks(
  app: FastifyInstance,
  options: ClerkWebhookOptions,
): Promise<void> {
  const secret = options.clerk?.webhookSecret;
  if (!options.clerk || !secret) return;
  const { pool, logger, authenticator, lifecycle } = options;
  const { roleMap } = options.clerk;
  const webhook = new Webhook(secret);

  const refuse = (reply: FastifyReply, request: FastifyRequest, problem: string) => {
    logger.warn(
      { requestId: request.id, svixId: request.headers['svix-id'], problem },
      'Clerk webhook refused',
    );
    return reply.code(400).send({ error: problem });
  };

  // Its own scope: the body stays the bytes Svix signed, while /graphql keeps parsing JSON.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body);
    });

    scope.post(CLERK_WEBHOOK_PATH, async (request, reply) => {
      const headers: Partial<SvixHeaders> = {};
      for (const name of SVIX_HEADERS) {
        const value = request.headers[name];
        const first = Array.isArray(value) ? value[0] : value;
        if (!first) return refuse(reply, request, `Missing ${name} header.`);
        headers[name] = first;
      }
      const svixId = headers['svix-id']!;
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);

      let payload: unknown;
      try {
        payload = webhook.verify(body, headers as SvixHeaders);
      } catch (error) {
        if (error instanceof WebhookVerificationError) {
          return refuse(reply, request, verificationProblem(error));
        }
        if (error instanceof SyntaxError) {
          return refuse(reply, request, 'Invalid JSON body.');
        }
        throw error;
      }
      const event = parseClerkEvent(payload);
      if ('problem' in event) return refuse(reply, request, event.problem);

      let result: Result;
      try {
        result = await pool.transaction(async (tx) => {
          if (!(await recordClerkEvent(tx, svixId, event.type))) {
            return DUPLICATE;
          }
          return applyClerkEvent(tx, event, {
            lifecycle,
            roleMap,
            svixId,
            source: {
              actor: CLERK_WEBHOOK_ACTOR,
              ipAddress: request.ip,
              userAgent: request.headers['user-agent'] ?? null,
            },
          });
        }, 0);
      } catch (error) {
        logger.error(
          { err: loggableError(error), requestId: request.id, svixId, type: event.type },
          'Clerk webhook failed',
        );
        return reply.code(500).send({
          error: 'Internal error: the event was not processed; a redelivery can retry it.',
          requestId: request.id,
        });
      }
      // After the commit: a request on this server must not re-cache the old state meanwhile.
      for (const tenantId of result.forgetTenants) authenticator.forgetTenant(tenantId);
      for (const userId of result.forgetUsers) authenticator.forgetUser(userId);
      logger.info(
        { requestId: request.id, svixId, type: event.type, status: result.status },
        'Clerk webhook',
      );
      return reply.code(200).send({ status: result.status });
    });
  });
}
