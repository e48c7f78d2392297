/**
 * Inventory levels per product and location.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';

export const InventoryRow = z.object({
  id: z.string(),
  product_id: z.string(),
  location: z.string(),
  quantity_on_hand: z.number(),
  quantity_reserved: z.number(),
  quantity_available: z.number(),
  last_counted_at: z.date().nullable(),
  last_received_at: z.date().nullable(),
  updated_at: z.date(),
});
export type InventoryRow = z.infer<typeof InventoryRow>;

export const inventoryColumns = sql.fragment`
  i.id, i.product_id, i.location, i.quantity_on_hand, i.quantity_reserved, i.quantity_available,
  i.last_counted_at, i.last_received_at, i.updated_at`;

export async function inventoryByProductIds(db: CommonQueryMethods, productIds: readonly string[]) {
  return db.any(sql.type(InventoryRow)`
    /* inventoryByProductIds */
    SELECT ${inventoryColumns} FROM inventory i
    WHERE i.product_id = ANY(${sql.array(productIds, 'uuid')})
    ORDER BY i.product_id, i.location`);
}
