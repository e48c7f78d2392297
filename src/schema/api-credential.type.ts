import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { ApiCredentialRow } from '../data/api-credentials.js';
import { GraphQLDateTime } from '../graphql/scalars.js';

export enum CredentialSyncStatusEnum {
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
  PENDING = 'PENDING',
}
registerEnumType(CredentialSyncStatusEnum, {
  name: 'CredentialSyncStatus',
  description: 'Outcome of the last synchronisation with the service.',
});

@ObjectType({
  simpleResolvers: true,
  description: "A third-party service's stored credentials: their status only, never the secret.",
})
export class ApiCredential {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'e.g. xero, shopify_uk, amazon_eu.' })
  service!: string;

  @Field(() => String, { nullable: true, description: 'accounting, ecommerce, or null.' })
  serviceType!: string | null;

  @Field(() => Boolean)
  isActive!: boolean;

  @Field(() => String, {
    nullable: true,
    description: 'Last four characters of the secret, to recognise it; null for short secrets.',
  })
  lastFour!: string | null;

  @Field(() => Int, { description: 'Version of the server key that encrypted the credentials.' })
  keyVersion!: number;

  @Field(() => GraphQLDateTime, { nullable: true })
  lastSyncAt!: Date | null;

  @Field(() => CredentialSyncStatusEnum, { nullable: true })
  lastSyncStatus!: CredentialSyncStatusEnum | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  tokenExpiresAt!: Date | null;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}

export const apiCredentialFromRow = (row: ApiCredentialRow): ApiCredential => ({
  id: row.id,
  service: row.service_name,
  serviceType: row.service_type,
  isActive: row.is_active,
  lastFour: row.last_four,
  keyVersion: row.key_version,
  lastSyncAt: row.last_sync_at,
  lastSyncStatus: row.last_sync_status as CredentialSyncStatusEnum | null,
  tokenExpiresAt: row.token_expires_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});
