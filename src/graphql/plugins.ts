/**
 * The request path inside Apollo: once the operation is known (after parsing and validation, so
 * an invalid or over-limit operation never costs SQL), check the principal may run it, open the
 * one tenant transaction (READ ONLY for queries), and end it before the response leaves: commit,
 * or roll back a mutation that had any error. Every error carries the request id.
 */
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import { canWrite } from '../auth/principal.js';
import { ForbiddenError, isAppError } from '../errors.js';
import type { RequestContext } from './context.js';
import { MASKED_MESSAGE, toGraphQLError } from './errors.js';

function finishResponse(
  request: GraphQLRequestContextWillSendResponse<RequestContext>,
  rolledBack: boolean,
) {
  const body = request.response.body;
  if (body.kind !== 'single') return;
  const result = body.singleResult;
  if (rolledBack) result.data = null;
  if (result.errors) {
    result.errors = result.errors.map((error) => ({
      ...error,
      extensions: { ...error.extensions, requestId: request.contextValue.requestId },
    }));
  }
}

export function transactionPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      let mutation = false;
      return {
        async didResolveOperation({ contextValue, operation }) {
          const kind = operation?.operation ?? 'query';
          if (kind === 'subscription') {
            throw new GraphQLError('Subscriptions are not supported.', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          mutation = kind === 'mutation';
          if (mutation && !canWrite(contextValue.principal)) {
            throw toGraphQLError(
              new ForbiddenError('This API key is read-only: mutations need the write scope.'),
            );
          }
          await contextValue.begin({ readOnly: !mutation });
        },

        async didEncounterErrors({ contextValue, errors }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (
              !isAppError(original) &&
              !(original instanceof GraphQLError && original.extensions.code)
            ) {
              contextValue.logger.error(
                { err: original, requestId: contextValue.requestId },
                'request failed',
              );
            }
          }
        },

        async willSendResponse(request) {
          const body = request.response.body;
          const failed = body.kind === 'single' && (body.singleResult.errors?.length ?? 0) > 0;
          const rollback = mutation && failed;
          try {
            await request.contextValue.finish(rollback ? 'rollback' : 'commit');
          } catch (error) {
            request.contextValue.logger.error(
              { err: error, requestId: request.contextValue.requestId },
              'could not end the request transaction',
            );
            if (body.kind === 'single') {
              body.singleResult.errors = [
                ...(body.singleResult.errors ?? []),
                { message: MASKED_MESSAGE, extensions: { code: 'INTERNAL_SERVER_ERROR' } },
              ];
            }
            finishResponse(request, true);
            return;
          }
          finishResponse(request, rollback);
        },
      };
    },
  };
}
