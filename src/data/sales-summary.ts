/**
 * Sales summed over the group keys an analyst picks, computed entirely in SQL. Each key is a
 * fixed fragment from the table below: the query is assembled from those fragments only, never
 * from strings.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { isUuid, validChannel } from '../validation.js';
import { productsByIds } from './products.js';
import { SALES_MARKETS, type SalesMarket } from './sales.js';

export const SALES_GROUP_KEYS = [
  'CHANNEL',
  'MARKET',
  'MONTH',
  'WEEK',
  'PRODUCT',
  'CATEGORY',
  'CURRENCY',
] as const;
export type SalesGroupKey = (typeof SALES_GROUP_KEYS)[number];

export const MAX_GROUP_KEYS = 4;
export const MAX_RANGE_YEARS = 3;
/** A summary is one list, not a connection: past this many rows, narrow the question. */
export const MAX_SUMMARY_ROWS = 10_000;

type GroupKeySql = {
  /** The GROUP BY expression. */
  group: ReturnType<typeof sql.fragment>;
  /** Its output columns when grouped by it, and the same columns as NULLs when not. */
  columns: ReturnType<typeof sql.fragment>;
  nulls: ReturnType<typeof sql.fragment>;
  /** How its rows are ordered (PRODUCT by SKU: unique, and readable). */
  order: ReturnType<typeof sql.fragment>;
};

// The sale date is cast to timestamp (not timestamptz) so the session time zone never moves a
// sale to another month or week. date_trunc('week') starts ISO weeks on Monday.
const MONTH = sql.fragment`date_trunc('month', s.sale_date::timestamp)::date`;
const WEEK = sql.fragment`date_trunc('week', s.sale_date::timestamp)::date`;

const GROUP_KEYS: Record<SalesGroupKey, GroupKeySql> = {
  CHANNEL: {
    group: sql.fragment`s.channel`,
    columns: sql.fragment`s.channel AS channel`,
    nulls: sql.fragment`NULL::text AS channel`,
    order: sql.fragment`s.channel`,
  },
  MARKET: {
    group: sql.fragment`s.market`,
    columns: sql.fragment`s.market AS market`,
    nulls: sql.fragment`NULL::text AS market`,
    order: sql.fragment`s.market`,
  },
  MONTH: {
    group: MONTH,
    columns: sql.fragment`${MONTH} AS month`,
    nulls: sql.fragment`NULL::date AS month`,
    order: MONTH,
  },
  WEEK: {
    group: WEEK,
    columns: sql.fragment`${WEEK} AS week`,
    nulls: sql.fragment`NULL::date AS week`,
    order: WEEK,
  },
  PRODUCT: {
    group: sql.fragment`p.id`,
    columns: sql.fragment`p.id AS product_id, p.sku AS sku, p.name AS product_name`,
    nulls: sql.fragment`NULL::uuid AS product_id, NULL::text AS sku, NULL::text AS product_name`,
    order: sql.fragment`p.sku`,
  },
  CATEGORY: {
    group: sql.fragment`p.category`,
    columns: sql.fragment`p.category AS category`,
    nulls: sql.fragment`NULL::text AS category`,
    order: sql.fragment`p.category`,
  },
  CURRENCY: {
    group: sql.fragment`s.currency`,
    columns: sql.fragment`s.currency::text AS currency`,
    nulls: sql.fragment`NULL::text AS currency`,
    order: sql.fragment`s.currency`,
  },
};

export const SalesSummaryRow = z.object({
  channel: z.string().nullable(),
  market: z.enum(SALES_MARKETS).nullable(),
  month: z.string().nullable(),
  week: z.string().nullable(),
  product_id: z.string().nullable(),
  sku: z.string().nullable(),
  product_name: z.string().nullable(),
  category: z.string().nullable(),
  currency: z.string().nullable(),
  quantity: z.number(),
  revenue: z.string(),
  commission: z.string(),
  net_revenue: z.string(),
  orders: z.number(),
});
export type SalesSummaryRow = z.infer<typeof SalesSummaryRow>;

export type SalesSummaryFilter = {
  channel?: string | null;
  market?: SalesMarket | null;
  productId?: string | null;
  category?: string | null;
  currency?: string | null;
};

export type SalesSummaryQuery = {
  from: string;
  to: string;
  groupBy: readonly SalesGroupKey[];
  filter: SalesSummaryFilter;
};

/** The day MAX_RANGE_YEARS after a 'YYYY-MM-DD' date (29 February → 1 March). */
function yearsAfter(date: string, years: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year + years, month - 1, day)).toISOString().slice(0, 10);
}

function validateQuery(query: SalesSummaryQuery) {
  const { groupBy } = query;
  if (groupBy.length < 1 || groupBy.length > MAX_GROUP_KEYS) {
    throw new BadUserInputError(
      `groupBy must have 1 to ${MAX_GROUP_KEYS} keys (got ${groupBy.length}).`,
      { field: 'groupBy' },
    );
  }
  const repeated = groupBy.find((key, index) => groupBy.indexOf(key) !== index);
  if (repeated) {
    throw new BadUserInputError(`groupBy must not repeat a key: ${repeated} is given twice.`, {
      field: 'groupBy',
    });
  }
  const limit = yearsAfter(query.from, MAX_RANGE_YEARS);
  if (query.to >= limit) {
    throw new BadUserInputError(
      `Invalid range: at most ${MAX_RANGE_YEARS} years, so to must be before ${limit}.`,
      { field: 'to' },
    );
  }
  validChannel(query.filter.channel);
}

function whereClause(query: SalesSummaryQuery) {
  const { filter } = query;
  const conditions = [sql.fragment`s.sale_date BETWEEN ${query.from}::date AND ${query.to}::date`];
  if (filter.channel != null) conditions.push(sql.fragment`s.channel = ${filter.channel}`);
  if (filter.market != null) conditions.push(sql.fragment`s.market = ${filter.market}`);
  if (filter.productId != null) {
    conditions.push(sql.fragment`s.product_id = ${filter.productId}::uuid`);
  }
  if (filter.category != null) conditions.push(sql.fragment`p.category = ${filter.category}`);
  if (filter.currency != null) conditions.push(sql.fragment`s.currency = ${filter.currency}`);
  return sql.join(conditions, sql.fragment` AND `);
}

/** Rows ordered by the group keys in the order given; columns not grouped by are NULL. */
export async function salesSummary(db: CommonQueryMethods, query: SalesSummaryQuery) {
  validateQuery(query);
  const productId = query.filter.productId;
  if (productId != null) {
    const found = isUuid(productId) ? await productsByIds(db, [productId]) : [];
    if (found.length === 0) {
      throw new NotFoundError(`No product ${productId}.`, { field: 'filter.productId' });
    }
  }
  const grouped = new Set(query.groupBy);
  const columns = SALES_GROUP_KEYS.map((key) =>
    grouped.has(key) ? GROUP_KEYS[key].columns : GROUP_KEYS[key].nulls,
  );
  const rows = await db.any(sql.type(SalesSummaryRow)`
    /* salesSummary */
    SELECT ${sql.join(columns, sql.fragment`, `)},
      sum(s.quantity)::int AS quantity,
      sum(s.total_amount)::text AS revenue,
      sum(s.commission_amount)::text AS commission,
      sum(s.net_revenue)::text AS net_revenue,
      count(*)::int AS orders
    FROM sales s JOIN products p ON p.id = s.product_id
    WHERE ${whereClause(query)}
    GROUP BY ${sql.join(
      query.groupBy.map((key) => GROUP_KEYS[key].group),
      sql.fragment`, `,
    )}
    ORDER BY ${sql.join(
      query.groupBy.map((key) => GROUP_KEYS[key].order),
      sql.fragment`, `,
    )}
    LIMIT ${MAX_SUMMARY_ROWS + 1}`);
  if (rows.length > MAX_SUMMARY_ROWS) {
    throw new BadUserInputError(
      `The summary has more than ${MAX_SUMMARY_ROWS} rows: narrow the range or the filter, or group by fewer keys.`,
      { field: 'groupBy' },
    );
  }
  return rows;
}
