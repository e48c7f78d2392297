/**
 * Sales of the current tenant: recording a batch (validated row by row, then written with one
 * statement, all or nothing) and reading one product's sales a page at a time. Amounts are
 * computed and rounded by PostgreSQL (numeric), never in JavaScript floats.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { BadUserInputError, ConflictError, NotFoundError } from '../errors.js';
import { isUuid, validChannel } from '../validation.js';
import { guarded, type ConstraintMessages } from './constraint-errors.js';

export const SALES_MARKETS = ['UK', 'EU', 'USA', 'ROW'] as const;
export type SalesMarket = (typeof SALES_MARKETS)[number];

/** The currencies the business trades in; any other is refused. */
export const SALES_CURRENCIES = ['GBP', 'EUR', 'USD'] as const;

export const MAX_SALES_PER_CALL = 1000;
const MAX_INT = 2_147_483_647;
/** numeric(15,2): the largest amount, in pence/cents. */
const MAX_AMOUNT_CENTS = 999_999_999_999_999n;

export const SaleRow = z.object({
  id: z.string(),
  product_id: z.string(),
  sale_date: z.string(),
  quantity: z.number(),
  unit_price: z.string(),
  total_amount: z.string(),
  commission_rate: z.string(),
  commission_amount: z.string(),
  net_revenue: z.string(),
  channel: z.string(),
  channel_order_id: z.string().nullable(),
  market: z.enum(SALES_MARKETS),
  currency: z.string(),
});
export type SaleRow = z.infer<typeof SaleRow>;

export const saleColumns = sql.fragment`
  s.id, s.product_id, s.sale_date, s.quantity, s.unit_price, s.total_amount, s.commission_rate,
  s.commission_amount, s.net_revenue, s.channel, s.channel_order_id, s.market, s.currency`;

/** Backstops: validation below refuses these inputs first, with the row named. */
export const SALE_CONSTRAINTS: ConstraintMessages = {
  sales_channel_order_product_key: {
    field: 'channelOrderId',
    message: 'A sale of this product for this channel order already exists.',
  },
  sales_product_id_fkey: { field: 'productId', message: 'No such product.' },
  sales_quantity_positive: { field: 'quantity', message: 'quantity must be greater than 0.' },
  sales_unit_price_nonnegative: { field: 'unitPrice', message: 'unitPrice must not be negative.' },
  sales_channel_format: {
    field: 'channel',
    message: 'channel must be lowercase letters, digits and _.',
  },
  sales_commission_rate_range: {
    field: 'commissionRate',
    message: 'commissionRate must be between 0 and 1.',
  },
  sales_market_valid: { field: 'market', message: 'market must be UK, EU, USA or ROW.' },
  sales_currency_format: { field: 'currency', message: 'currency must be an ISO 4217 code.' },
};

/** One sale to record; saleDate is 'YYYY-MM-DD', money and rates are decimal strings. */
export type NewSale = {
  productId: string;
  saleDate: string;
  quantity: number;
  unitPrice: string;
  channel: string;
  channelOrderId?: string | null;
  market: SalesMarket;
  currency: string;
  commissionRate?: string | null;
};

const rowField = (index: number, field: string) => `input[${index}].${field}`;

function rowError(index: number, field: string, rule: string): BadUserInputError {
  const path = rowField(index, field);
  return new BadUserInputError(`${path} ${rule}`, { field: path });
}

/** A decimal string as an exact count of hundredths ("12.5" → 1250n); no float on the way. */
function hundredths(value: string): bigint {
  const negative = value.startsWith('-');
  const [whole = '0', fraction = ''] = value.replace(/^-/, '').split('.');
  const cents = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
  return negative ? -cents : cents;
}

const isNegative = (value: string) => value.startsWith('-') && /[1-9]/.test(value);

function checkCommissionRate(index: number, rate: string) {
  const [whole = '0', fraction = ''] = rate.replace(/^-/, '').split('.');
  const significant = fraction.replace(/0+$/, '');
  const aboveOne = BigInt(whole) > 1n || (BigInt(whole) === 1n && significant !== '');
  if (isNegative(rate) || aboveOne) {
    throw rowError(index, 'commissionRate', `must be between 0 and 1 (got ${rate}).`);
  }
  if (significant.length > 4) {
    throw rowError(index, 'commissionRate', `must have at most 4 decimal places (got ${rate}).`);
  }
}

function checkRow(sale: NewSale, index: number) {
  if (!Number.isInteger(sale.quantity) || sale.quantity <= 0) {
    throw rowError(index, 'quantity', 'must be greater than 0.');
  }
  if (isNegative(sale.unitPrice)) throw rowError(index, 'unitPrice', 'must not be negative.');
  if (hundredths(sale.unitPrice) * BigInt(sale.quantity) > MAX_AMOUNT_CENTS) {
    throw rowError(
      index,
      'unitPrice',
      'times quantity exceeds the largest amount (9999999999999.99).',
    );
  }
  try {
    validChannel(sale.channel);
  } catch (error) {
    if (error instanceof BadUserInputError) {
      throw rowError(
        index,
        'channel',
        `is invalid ("${sale.channel}"): use 1 to 50 lowercase letters, digits and _.`,
      );
    }
    throw error;
  }
  const orderId = sale.channelOrderId;
  if (orderId != null && (orderId.trim().length === 0 || orderId.length > 255)) {
    throw rowError(index, 'channelOrderId', 'must be 1 to 255 characters when given.');
  }
  if (!SALES_MARKETS.includes(sale.market)) {
    throw rowError(index, 'market', `must be one of ${SALES_MARKETS.join(', ')}.`);
  }
  if (!(SALES_CURRENCIES as readonly string[]).includes(sale.currency)) {
    throw rowError(
      index,
      'currency',
      `must be one of ${SALES_CURRENCIES.join(', ')} (got ${sale.currency}).`,
    );
  }
  if (sale.commissionRate != null) checkCommissionRate(index, sale.commissionRate);
}

/** Every rule a batch must pass before anything is written (BAD_USER_INPUT naming the row). */
export function validateSales(sales: readonly NewSale[]): void {
  if (sales.length === 0) {
    throw new BadUserInputError('input must have at least 1 sale.', { field: 'input' });
  }
  if (sales.length > MAX_SALES_PER_CALL) {
    throw new BadUserInputError(
      `input must have at most ${MAX_SALES_PER_CALL} sales per call (got ${sales.length}).`,
      { field: 'input' },
    );
  }
  sales.forEach(checkRow);
  const totalQuantity = sales.reduce((sum, sale) => sum + sale.quantity, 0);
  if (totalQuantity > MAX_INT) {
    throw new BadUserInputError(
      `The quantities of one call must add up to at most ${MAX_INT}: split the batch.`,
      { field: 'input' },
    );
  }
}

/** NOT_FOUND naming the first row whose product is not one of this tenant's (one query). */
async function assertProductsExist(db: CommonQueryMethods, sales: readonly NewSale[]) {
  const ids = [...new Set(sales.map((sale) => sale.productId).filter(isUuid))];
  const found = new Set(
    ids.length === 0
      ? []
      : await db.anyFirst(sql.type(z.object({ id: z.string() }))`
          /* salesProductsExist */
          SELECT p.id FROM products p WHERE p.id = ANY(${sql.array(ids, 'uuid')})`),
  );
  const missing = sales.findIndex((sale) => !found.has(sale.productId.toLowerCase()));
  if (missing >= 0) {
    const path = rowField(missing, 'productId');
    throw new NotFoundError(`${path}: no product ${sales[missing]!.productId}.`, { field: path });
  }
}

const orderKey = (sale: NewSale) =>
  JSON.stringify([sale.channel, sale.channelOrderId, sale.productId.toLowerCase()]);

function conflictError(sales: readonly NewSale[], index: number, earlier?: number) {
  const sale = sales[index]!;
  const path = rowField(index, 'channelOrderId');
  const where = earlier === undefined ? 'already exists' : `is also input[${earlier}]`;
  return new ConflictError(
    `${path}: the sale of product ${sale.productId} for ${sale.channel} order "${sale.channelOrderId}" ${where}.`,
    { field: path },
  );
}

/** CONFLICT naming the row when one channel order line appears twice in the batch. */
function assertNoRepeatedOrders(sales: readonly NewSale[]) {
  const seen = new Map<string, number>();
  sales.forEach((sale, index) => {
    if (sale.channelOrderId == null) return;
    const key = orderKey(sale);
    const earlier = seen.get(key);
    if (earlier !== undefined) throw conflictError(sales, index, earlier);
    seen.set(key, index);
  });
}

const RecordSalesRow = z.object({
  count: z.number(),
  total_quantity: z.number(),
  total_revenue: z.string(),
  first_conflict: z.number().nullable(),
});
export type RecordSalesRow = z.infer<typeof RecordSalesRow>;

/**
 * Records a batch: validates every row, checks every product with one query, then inserts all
 * rows with ONE statement (unnest). A row whose channel order line already exists is skipped by
 * ON CONFLICT and reported as a CONFLICT naming it; the thrown error makes the request roll back,
 * so a failed batch writes nothing.
 */
export async function recordSales(
  db: CommonQueryMethods,
  sales: readonly NewSale[],
): Promise<Omit<RecordSalesRow, 'first_conflict'>> {
  validateSales(sales);
  await assertProductsExist(db, sales);
  assertNoRepeatedOrders(sales);
  const rows = sales.map((sale) => [
    sale.productId,
    sale.saleDate,
    sale.quantity,
    sale.unitPrice,
    sale.channel,
    sale.channelOrderId ?? null,
    sale.market,
    sale.currency,
    sale.commissionRate ?? '0',
  ]);
  const result = await guarded(SALE_CONSTRAINTS, () =>
    db.one(sql.type(RecordSalesRow)`
      /* recordSales */
      WITH input AS (
        SELECT i.idx, i.product_id, i.sale_date, i.quantity, i.unit_price, i.channel,
          i.channel_order_id, i.market, i.currency, i.commission_rate,
          round(i.quantity * i.unit_price, 2) AS total_amount
        FROM ${sql.unnest(rows, [
          'uuid',
          'date',
          'int4',
          'numeric',
          'text',
          'text',
          'text',
          'text',
          'numeric',
        ])} WITH ORDINALITY AS i(product_id, sale_date, quantity, unit_price, channel,
          channel_order_id, market, currency, commission_rate, idx)
      ),
      inserted AS (
        INSERT INTO sales AS s (company_id, product_id, sale_date, quantity, unit_price,
          total_amount, channel, channel_order_id, commission_rate, commission_amount, market,
          currency)
        SELECT p.company_id, i.product_id, i.sale_date, i.quantity, i.unit_price, i.total_amount,
          i.channel, i.channel_order_id, i.commission_rate,
          round(i.total_amount * i.commission_rate, 2), i.market, i.currency
        -- the sale belongs to its product's company
        FROM input i JOIN products p ON p.id = i.product_id
        ON CONFLICT (channel, channel_order_id, product_id) WHERE channel_order_id IS NOT NULL
          DO NOTHING
        RETURNING s.product_id, s.channel, s.channel_order_id, s.quantity, s.total_amount
      )
      SELECT
        (SELECT count(*) FROM inserted)::int AS count,
        (SELECT coalesce(sum(x.quantity), 0) FROM inserted x)::bigint AS total_quantity,
        (SELECT coalesce(sum(x.total_amount), 0) FROM inserted x)::numeric(20,2)::text
          AS total_revenue,
        (SELECT min(i.idx) FROM input i
          WHERE i.channel_order_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM inserted x
            WHERE x.product_id = i.product_id AND x.channel = i.channel
              AND x.channel_order_id = i.channel_order_id))::int AS first_conflict`),
  );
  if (result.first_conflict !== null) throw conflictError(sales, result.first_conflict - 1);
  return {
    count: result.count,
    total_quantity: result.total_quantity,
    total_revenue: result.total_revenue,
  };
}

export type SalesPageFilter = {
  productId: string;
  from: string;
  to: string;
  channel: string | null;
};

function salesWhere(filter: SalesPageFilter) {
  const conditions = [
    sql.fragment`s.product_id = ${filter.productId}`,
    sql.fragment`s.sale_date BETWEEN ${filter.from}::date AND ${filter.to}::date`,
  ];
  if (filter.channel !== null) conditions.push(sql.fragment`s.channel = ${filter.channel}`);
  return sql.join(conditions, sql.fragment` AND `);
}

/** One product's sales, newest first, after a (sale_date, id) keyset cursor. */
export async function listProductSales(
  db: CommonQueryMethods,
  options: {
    filter: SalesPageFilter;
    limit: number;
    after: { saleDate: string; id: string } | null;
  },
) {
  const { after } = options;
  const seek = after
    ? sql.fragment`AND (s.sale_date, s.id) < (${after.saleDate}::date, ${after.id}::uuid)`
    : sql.fragment``;
  return db.any(sql.type(SaleRow)`
    /* listProductSales */
    SELECT ${saleColumns} FROM sales s
    WHERE ${salesWhere(options.filter)} ${seek}
    ORDER BY s.sale_date DESC, s.id DESC
    LIMIT ${options.limit}`);
}

export async function countProductSales(
  db: CommonQueryMethods,
  filter: SalesPageFilter,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    /* countProductSales */ SELECT count(*)::int AS count FROM sales s WHERE ${salesWhere(filter)}`);
}
