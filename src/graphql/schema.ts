/**
 * The executable schema, built from the type-graphql resolver classes. Every @Field names its type
 * explicitly, so the schema never depends on emitted decorator metadata.
 */
import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ApiKeyResolver } from '../resolvers/api-key.resolver.js';
import { BillingResolver } from '../resolvers/billing.resolver.js';
import { ProductConnectionResolver, ProductResolver } from '../resolvers/product.resolver.js';
import { ViewerResolver } from '../resolvers/viewer.resolver.js';
import {
  ProductSalesResolver,
  SaleConnectionResolver,
} from '../resolvers/product-sales.resolver.js';
import { SalesResolver } from '../resolvers/sales.resolver.js';
import { ForecastResolver } from '../resolvers/forecast.resolver.js';
import {
  ForecastRunConnectionResolver,
  ForecastRunResolver,
} from '../resolvers/forecast-run.resolver.js';
import { InventoryResolver } from '../resolvers/inventory.resolver.js';
import { WorkingCapitalResolver } from '../resolvers/working-capital.resolver.js';
import { WorkingCapitalAnalyticsResolver } from '../resolvers/working-capital-analytics.resolver.js';
import { PaymentTermsResolver } from '../resolvers/payment-terms.resolver.js';
import { ApiCredentialResolver } from '../resolvers/api-credential.resolver.js';
import { AuditLogConnectionResolver, AuditLogResolver } from '../resolvers/audit-log.resolver.js';
import { PlanResolver } from '../resolvers/plan.resolver.js';
import { TenantSettingsResolver } from '../resolvers/tenant-settings.resolver.js';
import { PreferencesResolver } from '../resolvers/preferences.resolver.js';
import { ScenarioResolver } from '../resolvers/scenario.resolver.js';
import {
  PlatformResolver,
  PlatformTenantConnectionResolver,
  TenantUsageResolver,
} from '../resolvers/platform.resolver.js';
import { UsageResolver } from '../resolvers/usage.resolver.js';

export const resolvers = [
  SalesResolver,
  ProductSalesResolver,
  SaleConnectionResolver,
  ViewerResolver,
  ProductResolver,
  ProductConnectionResolver,
  ApiKeyResolver,
  InventoryResolver,
  WorkingCapitalResolver,
  WorkingCapitalAnalyticsResolver,
  PaymentTermsResolver,
  ForecastResolver,
  ForecastRunResolver,
  ForecastRunConnectionResolver,
  ScenarioResolver,
  PreferencesResolver,
  ApiCredentialResolver,
  AuditLogResolver,
  AuditLogConnectionResolver,
  PlatformResolver,
  PlatformTenantConnectionResolver,
  TenantUsageResolver,
  PlanResolver,
  TenantSettingsResolver,
  BillingResolver,
  UsageResolver,
] as const;

let built: Promise<GraphQLSchema> | undefined;

export function buildApiSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({ resolvers, validate: false, emitSchemaFile: false });
  return built;
}

/** The schema as committed in schema.graphql. */
export async function printApiSchema(): Promise<string> {
  return `${printSchema(lexicographicSortSchema(await buildApiSchema()))}\n`;
}
