import { Field, ID, InputType, ObjectType } from 'type-graphql';
import type { ApiKeyRecord } from '../auth/api-keys.js';
import { GraphQLDateTime } from '../graphql/scalars.js';
import { ScopeEnum } from './enums.js';

@ObjectType({ simpleResolvers: true, description: 'An API key, without its secret.' })
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The first characters of the key, to recognise it.' })
  prefix!: string;

  @Field(() => [ScopeEnum])
  scopes!: ScopeEnum[];

  @Field(() => GraphQLDateTime, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true, description: 'Updated at most once a minute.' })
  lastUsedAt!: Date | null;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;
}

export const apiKeyFromRecord = (record: ApiKeyRecord): ApiKey => ({
  id: record.id,
  name: record.name,
  prefix: record.prefix,
  scopes: record.scopes as ScopeEnum[],
  expiresAt: record.expiresAt,
  revokedAt: record.revokedAt,
  lastUsedAt: record.lastUsedAt,
  createdAt: record.createdAt,
});

@ObjectType({
  simpleResolvers: true,
  description: 'A new key: the secret is shown here once and never again.',
})
export class CreatedApiKey {
  @Field(() => ApiKey)
  apiKey!: ApiKey;

  @Field(() => String)
  secret!: string;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => String)
  name!: string;

  @Field(() => [ScopeEnum], { nullable: true, description: 'Default: [READ].' })
  scopes?: ScopeEnum[] | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  expiresAt?: Date | null;
}
