/**
 * The raw figures of working capital, from the tenant's sales, stock, receipts and entered
 * metrics, for many points (as-of date + window) in ONE statement. src/analytics turns them into
 * the snapshot (balances, day counts, ratios).
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { MAX_TERM_DAYS, type PaymentTerms } from './payment-terms.js';

export type FiguresPoint = { asOf: string; windowDays: number };

const money = z.string();
const maybeMoney = z.string().nullable();

export const FiguresRow = z.object({
  idx: z.number(),
  currency: z.string(),
  company_currency: z.string().nullable(),
  sales: z.number(),
  revenue: money,
  net_revenue: money,
  cost_of_goods_sold: money,
  other_currencies: z.array(z.string()),
  accounts_receivable: money,
  inventory: money,
  inventory_rows_as_now: z.number(),
  accounts_payable: money,
  entered_period_type: z.string().nullable(),
  entered_period_date: z.string().nullable(),
  entered_cash: maybeMoney,
  entered_accounts_receivable: maybeMoney,
  entered_inventory: maybeMoney,
  entered_other_current_assets: maybeMoney,
  entered_accounts_payable: maybeMoney,
  entered_short_term_debt: maybeMoney,
  entered_other_current_liabilities: maybeMoney,
  entered_revenue: maybeMoney,
  entered_cost_of_goods_sold: maybeMoney,
  entered_days_in_period: z.number().nullable(),
});
export type FiguresRow = z.infer<typeof FiguresRow>;

/**
 * One row per point, in point order. Sales in the window (asOf - windowDays, asOf]; revenue,
 * net revenue and receivables in `currency` only (null: the company's currency); cost of goods sold, stock and payables at the
 * products' unit costs (the company's currency, whatever currency the goods sold in). Stock as at
 * asOf is today's on hand less the changes adjusted after asOf; `inventory_rows_as_now` counts the
 * stock rows whose history does not reach back to asOf (valued as now). The entered metrics row
 * is the ENTERED row whose period contains asOf, the shortest period type first.
 */
export async function workingCapitalFigures(
  db: CommonQueryMethods,
  points: readonly FiguresPoint[],
  currency: string | null,
  terms: PaymentTerms,
): Promise<readonly FiguresRow[]> {
  return db.any(sql.type(FiguresRow)`
    /* workingCapitalFigures */
    WITH terms AS (
      SELECT t.channel, t.days FROM ${sql.unnest(
        terms.customerDays.map((each) => [each.channel, each.days]),
        ['text', 'int4'],
      )} AS t(channel, days)
    ), company AS (
      SELECT c.id, c.primary_currency::text AS currency FROM companies c
      ORDER BY c.created_at, c.id LIMIT 1
    ), cur AS (
      SELECT coalesce(${currency}::text, (SELECT currency FROM company), 'GBP') AS code
    )
    SELECT p.idx::int AS idx, (SELECT code FROM cur) AS currency,
      (SELECT currency FROM company) AS company_currency,
      w.sales, w.revenue, w.net_revenue, w.cost_of_goods_sold, w.other_currencies,
      r.accounts_receivable, i.inventory, i.inventory_rows_as_now, ap.accounts_payable,
      e.period_type AS entered_period_type, e.period_date::text AS entered_period_date,
      e.cash::text AS entered_cash, e.accounts_receivable::text AS entered_accounts_receivable,
      e.inventory::text AS entered_inventory,
      e.other_current_assets::text AS entered_other_current_assets,
      e.accounts_payable::text AS entered_accounts_payable,
      e.short_term_debt::text AS entered_short_term_debt,
      e.other_current_liabilities::text AS entered_other_current_liabilities,
      e.revenue::text AS entered_revenue, e.cost_of_goods_sold::text AS entered_cost_of_goods_sold,
      e.days_in_period AS entered_days_in_period
    FROM ${sql.unnest(
      points.map((point) => [point.asOf, point.windowDays]),
      ['date', 'int4'],
    )} WITH ORDINALITY AS p(as_of, window_days, idx)
    CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE s.currency = (SELECT code FROM cur))::int AS sales,
        coalesce(sum(s.total_amount) FILTER (WHERE s.currency = (SELECT code FROM cur)), 0)::text AS revenue,
        coalesce(sum(s.net_revenue) FILTER (WHERE s.currency = (SELECT code FROM cur)), 0)::text AS net_revenue,
        coalesce(sum(s.quantity * pr.unit_cost), 0)::text AS cost_of_goods_sold,
        coalesce(array_agg(DISTINCT s.currency::text ORDER BY s.currency::text)
          FILTER (WHERE s.currency <> (SELECT code FROM cur)), '{}') AS other_currencies
      FROM sales s JOIN products pr ON pr.id = s.product_id
      WHERE s.sale_date > p.as_of - p.window_days AND s.sale_date <= p.as_of
    ) w
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(s.total_amount), 0)::text AS accounts_receivable
      FROM sales s LEFT JOIN terms t ON t.channel = s.channel
      WHERE s.currency = (SELECT code FROM cur)
        AND s.sale_date <= p.as_of AND s.sale_date > p.as_of - ${MAX_TERM_DAYS}::int
        AND s.sale_date + coalesce(t.days, ${terms.defaultCustomerDays}::int) > p.as_of
    ) r
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(greatest(iv.quantity_on_hand - h.after_as_of, 0) * pr.unit_cost), 0)::text
          AS inventory,
        count(*) FILTER (WHERE p.as_of < current_date AND h.all_changes <> iv.quantity_on_hand
          AND NOT h.logged_by_as_of)::int AS inventory_rows_as_now
      FROM inventory iv JOIN products pr ON pr.id = iv.product_id
      CROSS JOIN LATERAL (
        SELECT coalesce(sum(a.on_hand_change) FILTER (WHERE a.adjusted_on > p.as_of), 0) AS after_as_of,
          coalesce(sum(a.on_hand_change), 0) AS all_changes,
          coalesce(bool_or(a.adjusted_on <= p.as_of), false) AS logged_by_as_of
        FROM inventory_adjustments a
        WHERE a.product_id = iv.product_id AND a.location = iv.location
      ) h
    ) i
    CROSS JOIN LATERAL (
      SELECT coalesce(sum(a.quantity * pr.unit_cost), 0)::text AS accounts_payable
      FROM inventory_adjustments a JOIN products pr ON pr.id = a.product_id
      WHERE a.kind = 'RECEIVE' AND a.adjusted_on <= p.as_of
        AND a.adjusted_on + ${terms.supplierDays}::int > p.as_of
    ) ap
    LEFT JOIN LATERAL (
      SELECT m.period_type, m.period_date, m.cash, m.accounts_receivable, m.inventory,
        m.other_current_assets, m.accounts_payable, m.short_term_debt, m.other_current_liabilities,
        m.revenue, m.cost_of_goods_sold, m.days_in_period
      FROM working_capital_metrics m
      WHERE m.source = 'ENTERED' AND m.company_id = (SELECT id FROM company)
        AND m.period_date <= p.as_of
        AND p.as_of < m.period_date + CASE m.period_type
          WHEN 'DAILY' THEN interval '1 day' WHEN 'WEEKLY' THEN interval '7 days'
          WHEN 'MONTHLY' THEN interval '1 month' ELSE interval '3 months' END
      ORDER BY array_position(ARRAY['DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY']::text[],
        m.period_type::text), m.period_date DESC
      LIMIT 1
    ) e ON true
    ORDER BY p.idx`);
}
