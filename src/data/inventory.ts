/**
 * Inventory levels per product and location.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { ProductRow, productColumns } from './products.js';

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

export const INVENTORY_ADJUSTMENTS = ['RECEIVE', 'RESERVE', 'RELEASE', 'SHIP', 'COUNT'] as const;
export type InventoryAdjustmentKind = (typeof INVENTORY_ADJUSTMENTS)[number];

const LOCATION = /^[a-z0-9_]{1,100}$/;
const MAX_INT = 2_147_483_647;

function validateAdjustment(kind: InventoryAdjustmentKind, location: string, quantity: number) {
  if (!LOCATION.test(location)) {
    throw new BadUserInputError(
      `Invalid location "${location}": use 1 to 100 lowercase letters, digits and _.`,
      { field: 'location' },
    );
  }
  const minimum = kind === 'COUNT' ? 0 : 1;
  if (!Number.isInteger(quantity) || quantity < minimum) {
    throw new BadUserInputError(
      kind === 'COUNT'
        ? 'Invalid quantity: a count must be 0 or more.'
        : `Invalid quantity: ${kind.toLowerCase()} needs a quantity of 1 or more.`,
      { field: 'quantity' },
    );
  }
}

/**
 * The change each adjustment makes to the stock row. Its WHERE is the rule, checked on the row as
 * locked by the statement itself, so two concurrent adjustments can never both pass on the same
 * stock. A count joins `before` (the row locked as it was), so that lock comes first.
 */
function adjustmentStatement(
  kind: InventoryAdjustmentKind,
  productId: string,
  location: string,
  quantity: number,
) {
  switch (kind) {
    case 'RECEIVE':
      return sql.fragment`
        INSERT INTO inventory AS i (company_id, product_id, location, quantity_on_hand, last_received_at)
        SELECT p.company_id, p.id, ${location}, ${quantity}, now() FROM products p WHERE p.id = ${productId}
        ON CONFLICT (product_id, location) DO UPDATE
          SET quantity_on_hand = i.quantity_on_hand + EXCLUDED.quantity_on_hand,
            last_received_at = EXCLUDED.last_received_at
          WHERE i.quantity_on_hand <= ${MAX_INT - quantity}
        RETURNING ${inventoryColumns}`;
    case 'COUNT':
      return sql.fragment`
        INSERT INTO inventory AS i (company_id, product_id, location, quantity_on_hand, last_counted_at)
        SELECT p.company_id, p.id, ${location}, ${quantity}, now()
        FROM products p LEFT JOIN before ON true WHERE p.id = ${productId}
        ON CONFLICT (product_id, location) DO UPDATE
          SET quantity_on_hand = EXCLUDED.quantity_on_hand, last_counted_at = EXCLUDED.last_counted_at
          WHERE i.quantity_reserved <= EXCLUDED.quantity_on_hand
        RETURNING ${inventoryColumns}`;
    case 'RESERVE':
      return sql.fragment`
        UPDATE inventory AS i SET quantity_reserved = i.quantity_reserved + ${quantity}
        WHERE i.product_id = ${productId} AND i.location = ${location}
          AND i.quantity_on_hand - i.quantity_reserved >= ${quantity}
        RETURNING ${inventoryColumns}`;
    case 'RELEASE':
      return sql.fragment`
        UPDATE inventory AS i SET quantity_reserved = i.quantity_reserved - ${quantity}
        WHERE i.product_id = ${productId} AND i.location = ${location}
          AND i.quantity_reserved >= ${quantity}
        RETURNING ${inventoryColumns}`;
    case 'SHIP':
      return sql.fragment`
        UPDATE inventory AS i
        SET quantity_on_hand = i.quantity_on_hand - ${quantity},
          quantity_reserved = i.quantity_reserved - ${quantity}
        WHERE i.product_id = ${productId} AND i.location = ${location}
          AND i.quantity_reserved >= ${quantity}
        RETURNING ${inventoryColumns}`;
  }
}

const RefusalFacts = z.object({
  product_exists: z.boolean(),
  quantity_on_hand: z.number().nullable(),
  quantity_reserved: z.number().nullable(),
  quantity_available: z.number().nullable(),
});

/**
 * Says why an adjustment changed no row. Read after the refusal, only to word the error: the
 * decision itself was the adjustment's own statement.
 */
async function refusal(
  db: CommonQueryMethods,
  kind: InventoryAdjustmentKind,
  productId: string,
  location: string,
  quantity: number,
): Promise<never> {
  const facts = await db.one(sql.type(RefusalFacts)`
    /* inventoryRefusal */
    SELECT EXISTS (SELECT 1 FROM products p WHERE p.id = ${productId}) AS product_exists,
      i.quantity_on_hand, i.quantity_reserved, i.quantity_available
    FROM (SELECT 1) AS one
    LEFT JOIN inventory i ON i.product_id = ${productId} AND i.location = ${location}`);
  if (!facts.product_exists) {
    throw new NotFoundError(`No product ${productId}.`, { field: 'productId' });
  }
  if (facts.quantity_on_hand === null) {
    throw new BadUserInputError(
      `No stock of this product at ${location}: receive or count it there first.`,
      { field: 'location' },
    );
  }
  const verb = kind.toLowerCase();
  const reason =
    kind === 'RESERVE'
      ? `only ${facts.quantity_available} available`
      : kind === 'COUNT'
        ? `${facts.quantity_reserved} are reserved there`
        : kind === 'RECEIVE'
          ? `${facts.quantity_on_hand} are on hand and stock cannot exceed ${MAX_INT}`
          : `only ${facts.quantity_reserved} reserved`;
  throw new BadUserInputError(`Cannot ${verb} ${quantity} at ${location}: ${reason}.`, {
    field: 'quantity',
  });
}

/** Applies one adjustment atomically and returns the stock level it leaves. */
export async function adjustInventory(
  db: CommonQueryMethods,
  adjustment: {
    productId: string;
    location: string;
    kind: InventoryAdjustmentKind;
    quantity: number;
  },
): Promise<InventoryRow> {
  const { productId, location, kind, quantity } = adjustment;
  validateAdjustment(kind, location, quantity);
  const row = await db.maybeOne(adjustmentWithHistory(kind, productId, location, quantity));
  return row ?? refusal(db, kind, productId, location, quantity);
}

/** The leading comment that names each adjustment's statement. */
const STATEMENT_NAMES = {
  RECEIVE: sql.fragment`/* receiveInventory */`,
  RESERVE: sql.fragment`/* reserveInventory */`,
  RELEASE: sql.fragment`/* releaseInventory */`,
  SHIP: sql.fragment`/* shipInventory */`,
  COUNT: sql.fragment`/* countInventory */`,
} as const satisfies Record<InventoryAdjustmentKind, unknown>;

/**
 * One statement: for a count, the stock row locked as it was (`before`); the adjustment; and its
 * entry in inventory_adjustments with the change to on-hand stock it made (a count: the new
 * figure less the old), so stock can later be valued as at any day.
 */
function adjustmentWithHistory(
  kind: InventoryAdjustmentKind,
  productId: string,
  location: string,
  quantity: number,
) {
  const change =
    kind === 'RECEIVE'
      ? sql.fragment`${quantity}::int`
      : kind === 'SHIP'
        ? sql.fragment`${-quantity}::int`
        : kind === 'COUNT'
          ? sql.fragment`a.quantity_on_hand - coalesce((SELECT b.quantity_on_hand FROM before b), 0)`
          : sql.fragment`0`;
  const before =
    kind === 'COUNT'
      ? sql.fragment`before AS (
          SELECT i.quantity_on_hand FROM inventory i
          WHERE i.product_id = ${productId} AND i.location = ${location} FOR UPDATE
        ),`
      : sql.fragment``;
  return sql.type(InventoryRow)`
    ${STATEMENT_NAMES[kind]}
    WITH ${before} adjusted AS (${adjustmentStatement(kind, productId, location, quantity)}
    ), logged AS (
      INSERT INTO inventory_adjustments (product_id, location, kind, quantity, on_hand_change)
      SELECT a.product_id, a.location, ${kind}, ${quantity}, ${change} FROM adjusted a
    )
    SELECT a.id, a.product_id, a.location, a.quantity_on_hand, a.quantity_reserved,
      a.quantity_available, a.last_counted_at, a.last_received_at, a.updated_at
    FROM adjusted a`;
}

export const InventoryAlertRow = ProductRow.extend({
  available: z.number(),
  suggested_order_quantity: z.number(),
});
export type InventoryAlertRow = z.infer<typeof InventoryAlertRow>;

/**
 * Active products whose available stock (all locations) is below the reorder point, the
 * largest shortfall first. One statement.
 */
export async function inventoryAlerts(db: CommonQueryMethods) {
  return db.any(sql.type(InventoryAlertRow)`
    /* inventoryAlerts */
    SELECT ${productColumns}, s.available::int AS available,
      least(greatest(p.reorder_quantity::bigint,
        p.reorder_point::bigint + p.safety_stock - s.available), ${MAX_INT})::int AS suggested_order_quantity
    FROM products p
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(i.quantity_available), 0)::bigint AS available
      FROM inventory i WHERE i.product_id = p.id
    ) s
    WHERE p.is_active AND s.available < p.reorder_point
    ORDER BY p.reorder_point - s.available DESC, p.sku`);
}
