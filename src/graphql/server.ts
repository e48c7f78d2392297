/**
 * Apollo Server on fastify: POST and GET /graphql, Apollo Sandbox for browsers, every request
 * authenticated before anything else (so introspection is for authenticated principals only), no
 * batched requests, no field suggestions, limits from limits.ts.
 */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import type { FastifyInstance } from 'fastify';
import type { DatabasePool } from 'slonik';
import type { RefusalAudit } from '../audit/refusals.js';
import type { Authenticator } from '../auth/authenticate.js';
import { isAppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { RequestContext, type RequestContextOptions } from './context.js';
import { formatError, internalError, toGraphQLError } from './errors.js';
import { armor, LIMITS } from './limits.js';
import { transactionPlugin, type BillingLimits } from './plugins.js';
import { buildApiSchema } from './schema.js';

export const GRAPHQL_PATH = '/graphql';

export type GraphQLOptions = {
  pool: DatabasePool;
  logger: Logger;
  authenticator: Authenticator;
  encryptionKey?: Buffer;
  lifecycle: RequestContextOptions['lifecycle'];
  billing: BillingLimits;
  stripe?: RequestContextOptions['stripe'];
  admission: RequestContextOptions['admission'];
  refusals: RefusalAudit;
  jobs?: RequestContextOptions['jobs'];
};

export async function registerGraphQL(
  app: FastifyInstance,
  options: GraphQLOptions,
): Promise<void> {
  const { pool, logger } = options;
  const { authenticator } = options;
  const protection = armor();
  const apollo = new ApolloServer<RequestContext>({
    schema: await buildApiSchema(),
    allowBatchedHttpRequests: false,
    includeStacktraceInErrorResponses: false,
    // fastify's onClose stops Apollo; Apollo's own signal handlers would re-raise SIGTERM and end
    // the process before the pool and the embedded PostgreSQL are closed.
    stopOnTerminationSignals: false,
    hideSchemaDetailsFromClientErrors: true,
    introspection: true, // every request must authenticate first; see the context below
    validationRules: protection.validationRules,
    parseOptions: { maxTokens: LIMITS.maxTokens },
    formatError,
    logger,
    plugins: [
      // graphql-armor is typed against Apollo's CommonJS build; the hooks are the same.
      ...(protection.plugins as unknown as ApolloServerPlugin<RequestContext>[]),
      ApolloServerPluginLandingPageLocalDefault({ embed: true, includeCookies: false }),
      // Cache control wraps every resolver (12% of requests/s in npm run bench); responses are
      // per-tenant and never cacheable anyway: see the no-store header below.
      ApolloServerPluginCacheControlDisabled(),
      transactionPlugin(options.billing, options.refusals),
    ],
  });
  await apollo.start();

  const handler = fastifyApolloHandler(apollo, {
    context: async (request) => {
      try {
        const principal = await authenticator.authenticate(request.headers);
        return new RequestContext({
          requestId: request.id,
          principal,
          client: { ip: request.ip, userAgent: request.headers['user-agent'] ?? null },
          logger,
          authenticator,
          pool,
          lifecycle: options.lifecycle,
          encryptionKey: options.encryptionKey,
          billing: options.billing,
          stripe: options.stripe,
          admission: options.admission,
          jobs: options.jobs,
        });
      } catch (error) {
        if (isAppError(error)) throw toGraphQLError(error, request.id);
        // Apollo answers 500 for this; the log and the answer share the request id.
        logger.error({ err: error, requestId: request.id }, 'request failed before it ran');
        throw internalError(request.id);
      }
    },
  });
  app.route({
    method: ['GET', 'POST', 'OPTIONS'],
    url: GRAPHQL_PATH,
    handler,
    onSend: async (_request, reply, payload) => {
      if (reply.getHeader('content-type')?.toString().startsWith('application/')) {
        reply.header('cache-control', 'no-store');
      }
      return payload;
    },
  });
  // fastify drains in-flight requests on close; Apollo stops after them.
  app.addHook('onClose', async () => {
    await apollo.stop();
  });
}
