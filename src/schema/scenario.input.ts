import { Field, ID, InputType } from 'type-graphql';
import { GraphQLJSON } from '../graphql/scalars.js';
import { ScenarioTypeEnum } from './scenario.type.js';

@InputType()
export class CreateScenarioInput {
  @Field(() => String, { description: '1 to 255 characters.' })
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => ScenarioTypeEnum)
  type!: ScenarioTypeEnum;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: 'A JSON object, at most 64 KB serialized (default {}).',
  })
  parameters?: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Any JSON, at most 64 KB serialized.' })
  results?: unknown;

  @Field(() => GraphQLJSON, { nullable: true, description: 'Any JSON, at most 64 KB serialized.' })
  impactSummary?: unknown;

  @Field(() => ID, { nullable: true, description: "One of this tenant's scenarios." })
  baselineScenarioId?: string | null;
}

@InputType({ description: 'Fields to change; those left out keep their value, null clears.' })
export class UpdateScenarioInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => ScenarioTypeEnum, { nullable: true })
  type?: ScenarioTypeEnum | null;

  @Field(() => GraphQLJSON, { nullable: true, description: 'A JSON object; cannot be cleared.' })
  parameters?: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  results?: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  impactSummary?: unknown;

  @Field(() => ID, { nullable: true, description: 'Another scenario of this tenant, not itself.' })
  baselineScenarioId?: string | null;
}
