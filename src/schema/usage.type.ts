import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { Usage as UsageData, UsagePeriod as UsagePeriodData } from '../billing/usage.js';
import { GraphQLDateTime } from '../graphql/scalars.js';

export enum UsageMetricEnum {
  API_REQUESTS = 'API_REQUESTS',
  API_ERRORS = 'API_ERRORS',
  USERS = 'USERS',
  PRODUCTS = 'PRODUCTS',
  STORAGE_MB = 'STORAGE_MB',
  FORECASTS_GENERATED = 'FORECASTS_GENERATED',
  EXPORTS = 'EXPORTS',
}
registerEnumType(UsageMetricEnum, {
  name: 'UsageMetric',
  description: 'What a tenant uses, and what its plan may limit.',
  valuesConfig: {
    API_REQUESTS: {
      description: 'GraphQL requests this period (limit: the plan’s monthly requests).',
    },
    API_ERRORS: { description: 'Requests this period whose response carried errors.' },
    USERS: { description: 'Active users, counted now (limit: the plan’s users).' },
    PRODUCTS: { description: 'Active products (SKUs), counted now (limit: the plan’s products).' },
    STORAGE_MB: {
      description: 'Size of the tenant’s data in MB, as last measured (every few minutes).',
    },
    FORECASTS_GENERATED: {
      description:
        'Forecast runs (generateForecasts) this period (limit: the plan’s monthly forecast runs).',
    },
    EXPORTS: { description: 'Reports exported this period.' },
  },
});

@ObjectType({ simpleResolvers: true, description: 'One figure of usage against its limit.' })
export class UsageItem {
  @Field(() => UsageMetricEnum)
  metric!: UsageMetricEnum;

  @Field(() => Float)
  used!: number;

  @Field(() => Float, { nullable: true, description: 'The plan’s limit; null: unlimited.' })
  limit!: number | null;

  @Field(() => Float, {
    nullable: true,
    description:
      'used / limit x 100, to one decimal (over 100 when over the limit); null without a limit.',
  })
  percent!: number | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'What the tenant uses in the current billing period (a calendar month, UTC).',
})
export class Usage {
  @Field(() => GraphQLDateTime)
  periodStart!: Date;

  @Field(() => GraphQLDateTime, { description: 'The start of the next period (exclusive).' })
  periodEnd!: Date;

  @Field(() => [UsageItem])
  items!: UsageItem[];
}

@ObjectType({
  simpleResolvers: true,
  description:
    'One billing period (a calendar month, UTC) of usage: request counts, and the figures last measured in it.',
})
export class UsagePeriod {
  @Field(() => GraphQLDateTime)
  periodStart!: Date;

  @Field(() => GraphQLDateTime, { description: 'The start of the next period (exclusive).' })
  periodEnd!: Date;

  @Field(() => Float)
  apiRequests!: number;

  @Field(() => Float)
  apiErrors!: number;

  @Field(() => Int, { description: 'Active users who signed in during the period.' })
  activeUsers!: number;

  @Field(() => Int, { description: 'Active products when last counted.' })
  products!: number;

  @Field(() => Int)
  storageMb!: number;

  @Field(() => Int)
  forecastsGenerated!: number;

  @Field(() => Int)
  exports!: number;
}

export const usageFromData = (usage: UsageData): Usage => ({
  periodStart: usage.periodStart,
  periodEnd: usage.periodEnd,
  items: usage.items.map((item) => ({
    metric: UsageMetricEnum[item.metric],
    used: item.used,
    limit: item.limit,
    percent: item.percent,
  })),
});

export const usagePeriodFromData = (period: UsagePeriodData): UsagePeriod => ({
  periodStart: period.periodStart,
  periodEnd: period.periodEnd,
  apiRequests: period.apiRequests,
  apiErrors: period.apiErrors,
  activeUsers: period.activeUsers,
  products: period.products,
  storageMb: period.storageMb,
  forecastsGenerated: period.forecastsGenerated,
  exports: period.exports,
});
