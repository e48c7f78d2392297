import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { InventoryAlertRow } from '../data/inventory.js';
import { Product, productFromRow } from './product.type.js';

export enum InventoryAdjustmentEnum {
  RECEIVE = 'RECEIVE',
  RESERVE = 'RESERVE',
  RELEASE = 'RELEASE',
  SHIP = 'SHIP',
  COUNT = 'COUNT',
}
registerEnumType(InventoryAdjustmentEnum, {
  name: 'InventoryAdjustment',
  description: 'A change to the stock of one product at one location.',
  valuesConfig: {
    RECEIVE: { description: 'Goods arrived: on hand grows by the quantity.' },
    RESERVE: { description: 'Set aside for an order: reserved grows, up to what is available.' },
    RELEASE: { description: 'A reservation is cancelled: reserved shrinks, never below 0.' },
    SHIP: { description: 'Reserved goods leave: on hand and reserved both shrink.' },
    COUNT: { description: 'A stock count: on hand becomes the quantity (not below reserved).' },
  },
});

@ObjectType({
  simpleResolvers: true,
  description: 'An active product whose available stock is below its reorder point.',
})
export class InventoryAlert {
  @Field(() => Product)
  product!: Product;

  @Field(() => Int, { description: 'Available stock summed over all locations.' })
  available!: number;

  @Field(() => Int)
  reorderPoint!: number;

  @Field(() => Int, {
    description: 'max(reorderQuantity, reorderPoint + safetyStock - available).',
  })
  suggestedOrderQuantity!: number;
}

export const inventoryAlertFromRow = (row: InventoryAlertRow): InventoryAlert => ({
  product: productFromRow(row),
  available: row.available,
  reorderPoint: row.reorder_point,
  suggestedOrderQuantity: row.suggested_order_quantity,
});
