import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Principal } from '../auth/principal.js';
import { preferencesOf, upsertPreferences } from '../data/preferences.js';
import type { RequestContext } from '../graphql/context.js';
import { PreferencesInput } from '../schema/preferences.input.js';
import { Preferences, preferencesFromRow } from '../schema/preferences.type.js';

/**
 * Whose preferences a request reads and writes (user_preferences.user_id). Today every principal is
 * an API key, so the key's id stands in for the user: each key has its own preferences. When user
 * sessions arrive, a session principal uses its user's id (public.users.id) here.
 */
function preferenceOwner(principal: Principal): string {
  switch (principal.kind) {
    case 'api_key':
      return principal.keyId;
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
