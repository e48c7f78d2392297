import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { createApiKey, listApiKeys, revokeApiKey } from '../auth/api-keys.js';
import { assertUuid } from '../validation.js';
import type { RequestContext } from '../graphql/context.js';
import {
  ApiKey,
  CreateApiKeyInput,
  CreatedApiKey,
  apiKeyFromRecord,
} from '../schema/api-key.type.js';

@Resolver(() => ApiKey)
export class ApiKeyResolver {
  @Query(() => [ApiKey], { description: "The tenant's API keys (never their secrets)." })
  async apiKeys(@Ctx() ctx: RequestContext) {
    const records = await ctx.platform((db) => listApiKeys(db, ctx.tenantId));
    return records.map(apiKeyFromRecord);
  }

  @Mutation(() => CreatedApiKey)
  async createApiKey(
    @Arg('input', () => CreateApiKeyInput) input: CreateApiKeyInput,
    @Ctx() ctx: RequestContext,
  ) {
    const { key, record } = await ctx.platform((db) =>
      createApiKey(db, {
        tenantId: ctx.tenantId,
        name: input.name,
        scopes: input.scopes ?? undefined,
        expiresAt: input.expiresAt ?? null,
        actor: ctx.auditSource(),
      }),
    );
    return { apiKey: apiKeyFromRecord(record), secret: key };
  }

  @Mutation(() => ApiKey)
  async revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    assertUuid(id);
    const record = await ctx.platform((db) =>
      revokeApiKey(db, { id, tenantId: ctx.tenantId, actor: ctx.auditSource() }),
    );
    ctx.afterCommit(() => ctx.authenticator.forget(record.id));
    return apiKeyFromRecord(record);
  }
}
