import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { adjustInventory, inventoryAlerts } from '../data/inventory.js';
import { NotFoundError } from '../errors.js';
import { isUuid } from '../validation.js';
import type { RequestContext } from '../graphql/context.js';
import {
  InventoryAdjustmentEnum,
  InventoryAlert,
  inventoryAlertFromRow,
} from '../schema/inventory.type.js';
import { InventoryLevel, inventoryLevelFromRow } from '../schema/product.type.js';

@Resolver()
export class InventoryResolver {
  @Query(() => [InventoryAlert], {
    description:
      'Active products whose available stock (all locations) is below their reorder point, largest shortfall first.',
  })
  async inventoryAlerts(@Ctx() ctx: RequestContext): Promise<InventoryAlert[]> {
    return (await inventoryAlerts(ctx.db)).map(inventoryAlertFromRow);
  }

  @Mutation(() => InventoryLevel, {
    description:
      'Changes the stock of a product at one location in one atomic step; available stock never goes negative.',
  })
  async adjustInventory(
    @Arg('productId', () => ID) productId: string,
    @Arg('location', () => String, { description: 'Lowercase letters, digits and _.' })
    location: string,
    @Arg('kind', () => InventoryAdjustmentEnum) kind: InventoryAdjustmentEnum,
    @Arg('quantity', () => Int, { description: 'More than 0 (0 or more for COUNT).' })
    quantity: number,
    @Ctx() ctx: RequestContext,
  ): Promise<InventoryLevel> {
    // An id that is not a UUID names nothing: the same answer as another tenant's product.
    if (!isUuid(productId)) {
      throw new NotFoundError(`No product ${productId}.`, { field: 'productId' });
    }
    const row = await adjustInventory(ctx.db, { productId, location, kind, quantity });
    return inventoryLevelFromRow(row);
  }
}
