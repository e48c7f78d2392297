import { Query, Resolver } from 'type-graphql';
import { PLANS } from '../billing/plans.js';
import { TIERS } from '../tenants/tiers.js';
import { PlanType, planFromCatalogue } from '../schema/plan.type.js';

@Resolver()
export class PlanResolver {
  @Query(() => [PlanType], { description: 'The plans, cheapest first.' })
  plans(): PlanType[] {
    return TIERS.map((tier) => planFromCatalogue(PLANS[tier]));
  }
}
