import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Principal } from '../auth/principal.js';
import { preferencesOf, upsertPreferences } from '../data/preferences.js';
import type { RequestContext } from '../graphql/context.js';
import { PreferencesInput } from '../schema/preferences.input.js';
import { Preferences, preferencesFromRow } from '../schema/preferences.type.js';

/**
 * Whose preferences a request reads and writes (user_preferences.user_id): a session's user
 * (public.users.id in this tenant), or an API key, whose id stands in for a user so each key has
 * its own. The permission guard lets only principals with a tenant (and so a user) get here.
 */
function preferenceOwner(principal: Principal): string {
  switch (principal.kind) {
    case 'api_key':
      return principal.keyId;
    case 'user':
      if (principal.userId === null) throw new Error('a user without a tenant has no preferences');
      return principal.userId;
    case 'platform_key':
      throw new Error('a platform key has no preferences');
  }
}

@Resolver(() => Preferences)
export class PreferencesResolver {
  @Query(() => Preferences, {
    nullable: true,
    description: "The caller's preferences; null until they are first saved.",
  })
  async preferences(@Ctx() ctx: RequestContext) {
    const row = await preferencesOf(ctx.db, preferenceOwner(ctx.principal));
    return row && preferencesFromRow(row);
  }

  @Mutation(() => Preferences, { description: "Creates or changes the caller's preferences." })
  async updatePreferences(
    @Arg('input', () => PreferencesInput) input: PreferencesInput,
    @Ctx() ctx: RequestContext,
  ) {
    return preferencesFromRow(
      await upsertPreferences(ctx.db, preferenceOwner(ctx.principal), input),
    );
  }
}
