import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { listApiCredentials, saveApiCredential } from '../data/api-credentials.js';
import { ForbiddenError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { GraphQLJSON } from '../graphql/scalars.js';
import { ApiCredential, apiCredentialFromRow } from '../schema/api-credential.type.js';

@Resolver(() => ApiCredential)
export class ApiCredentialResolver {
  @Query(() => [ApiCredential], {
    description: "The tenant's stored third-party credentials, by service (status only).",
  })
  async apiCredentials(@Ctx() ctx: RequestContext) {
    return (await listApiCredentials(ctx.db)).map(apiCredentialFromRow);
  }

  @Mutation(() => ApiCredential, {
    description:
      "Encrypts and stores a service's credentials (a JSON object, at most 16 KB), replacing any " +
      'stored before. They are never returned.',
  })
  async saveApiCredential(
    @Arg('service', () => String, { description: 'Lowercase letters, digits and _ (1 to 100).' })
    service: string,
    @Arg('credentials', () => GraphQLJSON) credentials: unknown,
    @Ctx() ctx: RequestContext,
  ) {
    if (!ctx.encryptionKey) {
      throw new ForbiddenError(
        'Saving credentials is not configured on this server (ENCRYPTION_KEY).',
      );
    }
    const row = await saveApiCredential(ctx.db, {
      key: ctx.encryptionKey,
      tenantId: ctx.tenantId,
      service,
      credentials,
    });
    await ctx.platform((db) =>
      ctx.audit(db, {
        action: 'credential.saved',
        tenantId: ctx.tenantId,
        resourceType: 'api_credential',
        resourceId: row.id,
        // Which service, never what was saved.
        changes: { service: row.service_name },
      }),
    );
    return apiCredentialFromRow(row);
  }
}
