/**
 * The request path inside Apollo: once the operation is known (after parsing and validation, so
 * an invalid or over-limit operation never costs SQL), count it against the caller's rate, check
 * every input (operation-inputs.ts), check the principal may run it and the plan allows it, take
 * one of the tenant's turns and open the one tenant transaction (READ ONLY for queries), and end
 * it before the response leaves: commit, or roll back a mutation that had any error. Every error
 * carries the request id.
 */
import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import type { DocumentNode, OperationDefinitionNode } from 'graphql';
import type { RefusalAudit, RefusedAttempt } from '../audit/refusals.js';
import { authorize, OPERATIONS, type Permission } from '../auth/permissions.js';
import { accessOf } from '../billing/access.js';
import { periodOf, type UsageMeter } from '../billing/metering.js';
import { PLANS } from '../billing/plans.js';
import type { RequestLimiter } from '../billing/rate-limits.js';
import {
  isAppError,
  PaymentRequiredError,
  QuotaExceededError,
  type ForbiddenError,
} from '../errors.js';
import type { RequestContext } from './context.js';
import { MASKED_MESSAGE, toGraphQLError } from './errors.js';
import { checkOperationInputs } from './operation-inputs.js';
import { argumentText, rootFieldSelections } from './root-fields.js';

/**
 * Checks every root field against the permission table. A request with refused sensitive
 * operations is audited (success false) as one entry listing each attempt, against the resource
 * its argument names (a revokeApiKey of key X), never with any other argument (a refused
 * saveApiCredential's credentials stay unrecorded); refusals.ts bounds how many entries an actor
 * writes.
 */
async function guard(
  refusals: RefusalAudit,
  context: RequestContext,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): Promise<string[]> {
  const fields = rootFieldSelections(document, operation);
  let refusal: ForbiddenError | undefined;
  let audited: { action: string; resourceType?: string } | undefined;
  const attempts: RefusedAttempt[] = [];
  const seen = new Set<string>();
  const keys = [...new Set(fields.map((field) => field.key))];
  for (const key of keys) {
    const refused = authorize(context.principal, key);
    if (!refused) continue;
    refusal ??= refused;
    const { audit: action, resource } = OPERATIONS[key] ?? {};
    if (action === undefined) continue;
    audited ??= { action, resourceType: resource?.type };
    for (const field of fields) {
      if (field.key !== key) continue;
      const resourceId = resource?.idArgument
        ? argumentText(field.node, resource.idArgument, variables)
        : undefined;
      const attempt = `${key}|${resourceId ?? ''}`;
      if (seen.has(attempt)) continue;
      seen.add(attempt);
      attempts.push({ operation: key, resourceId });
    }
  }
  if (!refusal) return keys;
  if (audited) {
    await refusals.record({
      source: context.auditSource(),
      tenantId: context.principal.tenant?.id ?? null,
      requestId: context.requestId,
      action: audited.action,
      resourceType: audited.resourceType,
      attempts,
      message: refusal.message,
    });
  }
  throw toGraphQLError(refusal);
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

/** Permissions that change the tenant: refused while its billing state makes it read-only. */
const WRITES: ReadonlySet<Permission> = new Set([
  'write',
  'preferences',
  'manage_access',
  'settings',
]);

export type BillingLimits = {
  /** false: no plan limits and no metering (only `npm run bench`, to measure what they cost). */
  enforce: boolean;
  /**
   * 'memory': counted per server and flushed in batches (the default); 'transaction': counted in
   * each request's first statement (the alternative `npm run bench` compares).
   */
  metering: 'memory' | 'transaction';
  meter: UsageMeter;
  limiter: RequestLimiter;
  /** Days a PAST_DUE tenant keeps writing (BILLING_GRACE_DAYS). */
  graceDays: number;
};

/**
 * The plan's per-key rate (RATE_LIMITED, Retry-After), counted first for every operation, so a
 * request that is refused later (FORBIDDEN, BAD_USER_INPUT) costs its caller like any other.
 */
async function consumeRate(context: RequestContext, billing: BillingLimits): Promise<void> {
  if (!context.principal.tenant) return;
  try {
    await billing.limiter.consume(context.principal);
  } catch (error) {
    if (isAppError(error)) throw toGraphQLError(error);
    throw error;
  }
}

/**
 * The plan's other limits on a tenant principal's request, checked in memory before any SQL:
 * writes while read-only (PAYMENT_REQUIRED) and the monthly request cap (QUOTA_EXCEEDED until the
 * period ends, with Retry-After).
 */
async function enforcePlan(
  context: RequestContext,
  billing: BillingLimits,
  keys: readonly string[],
): Promise<void> {
  const tenant = context.principal.tenant;
  if (!tenant) return;
  const now = new Date();
  const access = accessOf(tenant, now, billing.graceDays);
  if (access.mode === 'read_only') {
    const write = keys.find((key) => {
      const permission = OPERATIONS[key]?.permission;
      return permission !== undefined && WRITES.has(permission);
    });
    if (write) {
      throw toGraphQLError(
        new PaymentRequiredError(
          `${write.slice(write.indexOf('.') + 1)} changes data, and this tenant is read-only. ${access.message}`,
        ),
      );
    }
  }
  const plan = PLANS[tenant.tier];
  const limit = plan.limits.monthlyApiRequests;
  const used = billing.meter.used(tenant.id, now);
  if (used >= limit) {
    const { end } = periodOf(now);
    throw toGraphQLError(
      new QuotaExceededError(
        `Monthly API requests used up: the ${plan.name} plan includes ${limit}; the count starts again on ${end.toISOString().slice(0, 10)}.`,
        {
          retryAfterSeconds: (end.getTime() - now.getTime()) / 1000,
          extensions: { metric: 'API_REQUESTS', limit, used },
        },
      ),
    );
  }
}

export function transactionPlugin(
  billing: BillingLimits,
  refusals: RefusalAudit,
): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      let mutation = false;
      let metered = false;
      return {
        async didResolveOperation({ contextValue, operation, document, request, schema }) {
          const kind = operation?.operation ?? 'query';
          if (kind === 'subscription') {
            throw new GraphQLError('Subscriptions are not supported.', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          if (operation) {
            // In memory, in this order, before the first statement: the rate, every input, the
            // permissions (whose refusal may write one audit entry), the plan.
            if (billing.enforce) await consumeRate(contextValue, billing);
            checkOperationInputs(schema, document, operation, request.variables);
            const keys = await guard(
              refusals,
              contextValue,
              document,
              operation,
              request.variables,
            );
            if (billing.enforce) await enforcePlan(contextValue, billing, keys);
          }
          mutation = kind === 'mutation';
          // Counted from here: a request refused above costs the tenant's monthly quota nothing.
          metered =
            billing.enforce &&
            billing.metering === 'memory' &&
            contextValue.principal.tenant !== null;
          try {
            await contextValue.begin({ readOnly: !mutation });
          } catch (error) {
            if (isAppError(error)) throw toGraphQLError(error);
            throw error;
          }
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
          const tenant = request.contextValue.principal.tenant;
          if (metered && tenant) billing.meter.record(tenant.id, failed);
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
