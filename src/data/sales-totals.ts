/**
 * Sales totals per (product, date range, channel, currency), many keys in one statement.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';

export type SalesTotalsKey = {
  productId: string;
  from: string;
  to: string;
  channel: string | null;
  /** Amounts in different currencies add up only when this is null. */
  currency: string | null;
};

export const SalesTotalsRow = z.object({
  idx: z.number(),
  quantity: z.number(),
  revenue: z.string(),
  commission: z.string(),
  net_revenue: z.string(),
  orders: z.number(),
});
export type SalesTotalsRow = z.infer<typeof SalesTotalsRow>;

/** One row per key, in key order (ordinality), zeros where nothing was sold. */
export async function salesTotalsByKeys(db: CommonQueryMethods, keys: readonly SalesTotalsKey[]) {
  return db.any(sql.type(SalesTotalsRow)`
    /* salesTotalsByKeys */
    SELECT k.idx::int AS idx,
      coalesce(sum(s.quantity), 0)::int AS quantity,
      coalesce(sum(s.total_amount), 0)::numeric(15,2)::text AS revenue,
      coalesce(sum(s.commission_amount), 0)::numeric(15,2)::text AS commission,
      coalesce(sum(s.net_revenue), 0)::numeric(15,2)::text AS net_revenue,
      count(s.id)::int AS orders
    FROM ${sql.unnest(
      keys.map((key) => [key.productId, key.from, key.to, key.channel, key.currency]),
      ['uuid', 'date', 'date', 'text', 'text'],
    )} WITH ORDINALITY AS k(product_id, from_date, to_date, channel, currency, idx)
    LEFT JOIN sales s ON s.product_id = k.product_id
      AND s.sale_date BETWEEN k.from_date AND k.to_date
      AND (k.channel IS NULL OR s.channel = k.channel)
      AND (k.currency IS NULL OR s.currency = k.currency)
    GROUP BY k.idx
    ORDER BY k.idx`);
}
