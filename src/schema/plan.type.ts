import { Field, Int, ObjectType } from 'type-graphql';
import type { Plan } from '../billing/plans.js';
import { TierEnum } from './enums.js';

@ObjectType('PlanLimits', {
  simpleResolvers: true,
  description: 'What a plan allows; null: unlimited.',
})
export class PlanLimitsType {
  @Field(() => Int, { nullable: true, description: 'Active users.' })
  maxUsers!: number | null;

  @Field(() => Int, { nullable: true, description: 'Active products (SKUs).' })
  maxProducts!: number | null;

  @Field(() => Int)
  maxStorageMb!: number;

  @Field(() => Int, { description: 'GraphQL requests per calendar month (UTC).' })
  monthlyApiRequests!: number;

  @Field(() => Int, { description: 'Requests per minute for one API key or signed-in user.' })
  requestsPerMinute!: number;

  @Field(() => Int, { description: 'Forecast runs (generateForecasts) per calendar month (UTC).' })
  monthlyForecastRuns!: number;
}

@ObjectType('Plan', { simpleResolvers: true, description: 'A subscription plan.' })
export class PlanType {
  @Field(() => TierEnum)
  tier!: TierEnum;

  @Field(() => String)
  name!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'Monthly price in US cents; null: priced by contract (contact sales).',
  })
  monthlyPriceCents!: number | null;

  @Field(() => Int, { nullable: true, description: 'Annual price in US cents; null: by contract.' })
  annualPriceCents!: number | null;

  @Field(() => String, { description: 'ISO 4217 code of the prices.' })
  currency!: string;

  @Field(() => PlanLimitsType)
  limits!: PlanLimitsType;

  @Field(() => [String], {
    description:
      'Features: basic_forecasting, shopify_integration, ai_forecasting, multi_channel, api_keys, custom_integrations, sso.',
  })
  features!: string[];
}

export const planFromCatalogue = (plan: Plan): PlanType => ({
  tier: plan.tier as TierEnum,
  name: plan.name,
  monthlyPriceCents: plan.prices.monthly,
  annualPriceCents: plan.prices.annual,
  currency: 'USD',
  limits: { ...plan.limits },
  features: [...plan.features],
});
