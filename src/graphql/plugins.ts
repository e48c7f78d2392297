/**
 * The request path inside Apollo: once the operation is known (after parsing and validation, so
 * an invalid or over-limit operation never costs SQL), check the principal may run it, open the
 * one tenant transaction (READ ONLY for queries), and end it before the response leaves: commit,
 * or roll back a mutation that had any error. Every error carries the request id.
 */
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import { recordAudit } from '../audit/audit-log.js';
import { authorize, OPERATIONS } from '../auth/permissions.js';
import type { DatabasePool } from 'slonik';
import { isAppError, type ForbiddenError } from '../errors.js';
import type { RequestContext } from './context.js';
import { MASKED_MESSAGE, toGraphQLError } from './errors.js';
import { argumentText, rootFieldSelections } from './root-fields.js';

/** Longest resource id a refusal records: the argument is the caller's text, not a known id. */
const MAX_REFUSED_RESOURCE_ID = 255;

/**
 * Checks every root field against the permission table. A refusal of a sensitive operation is
 * audited (success false) on its own, outside any transaction: the request writes nothing else.
 * Each attempt is one entry, against the resource its argument names (a revokeApiKey of key X),
 * and never with any other argument (a refused saveApiCredential's credentials stay unrecorded).
 */
async function guard(
  pool: DatabasePool,
  context: RequestContext,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): Promise<void> {
  const fields = rootFieldSelections(document, operation);
  let refusal: ForbiddenError | undefined;
  for (const key of new Set(fields.map((field) => field.key))) {
    const refused = authorize(context.principal, key);
    if (!refused) continue;
    refusal ??= refused;
    const { audit: action, resource } = OPERATIONS[key] ?? {};
    if (action === undefined) continue;
    const attempts = new Set<string | undefined>();
    for (const field of fields) {
      if (field.key !== key) continue;
      const id = resource?.idArgument
        ? argumentText(field.node, resource.idArgument, variables)
        : undefined;
      attempts.add(id !== undefined && id.length <= MAX_REFUSED_RESOURCE_ID ? id : undefined);
    }
    for (const resourceId of attempts) {
      try {
        await recordAudit(pool, {
          ...context.auditSource(),
          tenantId: context.principal.tenant?.id ?? null,
          action,
          resourceType: resource?.type,
          resourceId,
          success: false,
          errorMessage: refused.message,
          metadata: { requestId: context.requestId, operation: key },
        });
      } catch (error) {
        context.logger.error(
          { err: error, requestId: context.requestId },
          'could not record a refused operation in the audit log',
        );
      }
    }
  }
  if (refusal) throw toGraphQLError(refusal);
}

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

export function transactionPlugin(pool: DatabasePool): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      let mutation = false;
      return {
        async didResolveOperation({ contextValue, operation, document, request }) {
          const kind = operation?.operation ?? 'query';
          if (kind === 'subscription') {
            throw new GraphQLError('Subscriptions are not supported.', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          if (operation) {
            await guard(pool, contextValue, document, operation, request.variables);
          }
          mutation = kind === 'mutation';
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
