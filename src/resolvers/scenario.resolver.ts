import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { Principal } from '../auth/principal.js';
import {
  createScenario,
  deleteScenario,
  listScenarios,
  scenarioById,
  updateScenario,
} from '../data/scenarios.js';
import { NotFoundError } from '../errors.js';
import { assertUuid, isUuid } from '../validation.js';
import type { RequestContext } from '../graphql/context.js';
import { CreateScenarioInput, UpdateScenarioInput } from '../schema/scenario.input.js';
import { Scenario, scenarioFromRow } from '../schema/scenario.type.js';

/** A baseline id that is not a UUID names nothing, like another tenant's scenario. */
function assertBaselineId(id: string | null | undefined): void {
  if (id != null && !isUuid(id)) {
    throw new NotFoundError(`No scenario ${id} to use as the baseline.`, {
      field: 'baselineScenarioId',
    });
  }
}

/**
 * scenarios.created_by holds a user id (public.users): a session's user. API keys are not users,
 * so their scenarios have none.
 */
const createdByOf = (principal: Principal): string | null =>
  principal.kind === 'user' ? principal.userId : null;

@Resolver(() => Scenario)
export class ScenarioResolver {
  @Query(() => [Scenario], { description: 'All scenarios, newest first.' })
  async scenarios(@Ctx() ctx: RequestContext) {
    return (await listScenarios(ctx.db)).map(scenarioFromRow);
  }

  @Query(() => Scenario, { nullable: true })
  async scenario(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    if (!isUuid(id)) return null;
    const row = await scenarioById(ctx.db, id);
    return row && scenarioFromRow(row);
  }

  @Mutation(() => Scenario)
  async createScenario(
    @Arg('input', () => CreateScenarioInput) input: CreateScenarioInput,
    @Ctx() ctx: RequestContext,
  ) {
    assertBaselineId(input.baselineScenarioId);
    return scenarioFromRow(await createScenario(ctx.db, input, createdByOf(ctx.principal)));
  }

  @Mutation(() => Scenario)
  async updateScenario(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateScenarioInput) input: UpdateScenarioInput,
    @Ctx() ctx: RequestContext,
  ) {
    assertUuid(id);
    assertBaselineId(input.baselineScenarioId);
    return scenarioFromRow(await updateScenario(ctx.db, id, input));
  }

  @Mutation(() => ID, { description: 'Deletes a scenario; those based on it lose their baseline.' })
  async deleteScenario(@Arg('id', () => ID) id: string, @Ctx() ctx: RequestContext) {
    assertUuid(id);
    return deleteScenario(ctx.db, id);
  }
}
