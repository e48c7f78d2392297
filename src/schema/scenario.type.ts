import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import type { ScenarioRow } from '../data/scenarios.js';
import { GraphQLDateTime, GraphQLJSON } from '../graphql/scalars.js';

export enum ScenarioTypeEnum {
  WHAT_IF = 'WHAT_IF',
  OPTIMIZATION = 'OPTIMIZATION',
  SENSITIVITY = 'SENSITIVITY',
}
registerEnumType(ScenarioTypeEnum, { name: 'ScenarioType', description: 'Kind of scenario.' });

@ObjectType({
  simpleResolvers: true,
  description: 'A what-if, optimization or sensitivity scenario.',
})
export class Scenario {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => ScenarioTypeEnum)
  type!: ScenarioTypeEnum;

  @Field(() => GraphQLJSON, { description: 'The inputs of the scenario (a JSON object).' })
  parameters!: Record<string, unknown>;

  @Field(() => GraphQLJSON, { nullable: true, description: 'What the scenario produced.' })
  results!: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  impactSummary!: unknown;

  @Field(() => ID, { nullable: true, description: 'The scenario this one is compared with.' })
  baselineScenarioId!: string | null;

  @Field(() => ID, { nullable: true, description: 'The user who created it; null for API keys.' })
  createdBy!: string | null;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}

export const scenarioFromRow = (row: ScenarioRow): Scenario => ({
  id: row.id,
  name: row.name,
  description: row.description,
  type: row.scenario_type as ScenarioTypeEnum,
  parameters: row.parameters,
  results: row.results ?? null,
  impactSummary: row.impact_summary ?? null,
  baselineScenarioId: row.baseline_scenario_id,
  createdBy: row.created_by,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
