/**
 * Products of the current tenant (the transaction's search_path names its schema).
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { lockQuota, productQuota, quotaExceeded, roomForProduct } from '../billing/quotas.js';
import { sql } from '../db/sql.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { guarded, type ConstraintMessages } from './constraint-errors.js';

export const ProductRow = z.object({
  id: z.string(),
  sku: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  category: z.string().nullable(),
  unit_cost: z.string(),
  unit_price: z.string(),
  reorder_point: z.number(),
  reorder_quantity: z.number(),
  lead_time_days: z.number(),
  safety_stock: z.number(),
  is_active: z.boolean(),
  created_at: z.date(),
  updated_at: z.date(),
});
export type ProductRow = z.infer<typeof ProductRow>;

export const productColumns = sql.fragment`
  p.id, p.sku, p.name, p.description, p.category, p.unit_cost, p.unit_price, p.reorder_point,
  p.reorder_quantity, p.lead_time_days, p.safety_stock, p.is_active, p.created_at, p.updated_at`;

export const PRODUCT_CONSTRAINTS: ConstraintMessages = {
  products_sku_key: { field: 'sku', message: 'A product with this SKU already exists.' },
  products_unit_cost_nonnegative: { field: 'unitCost', message: 'unitCost must not be negative.' },
  products_unit_price_nonnegative: {
    field: 'unitPrice',
    message: 'unitPrice must not be negative.',
  },
  products_reorder_point_nonnegative: {
    field: 'reorderPoint',
    message: 'reorderPoint must not be negative.',
  },
  products_reorder_quantity_nonnegative: {
    field: 'reorderQuantity',
    message: 'reorderQuantity must not be negative.',
  },
  products_lead_time_days_nonnegative: {
    field: 'leadTimeDays',
    message: 'leadTimeDays must not be negative.',
  },
  products_safety_stock_nonnegative: {
    field: 'safetyStock',
    message: 'safetyStock must not be negative.',
  },
};

export async function productsByIds(db: CommonQueryMethods, ids: readonly string[]) {
  return db.any(sql.type(ProductRow)`
    /* productsByIds */
    SELECT ${productColumns} FROM products p WHERE p.id = ANY(${sql.array(ids, 'uuid')})`);
}

export async function productBySku(db: CommonQueryMethods, sku: string) {
  return db.maybeOne(sql.type(ProductRow)`
    /* productBySku */ SELECT ${productColumns} FROM products p WHERE p.sku = ${sku}`);
}

export type ProductFilter = {
  category?: string | null;
  isActive?: boolean | null;
  search?: string | null;
  belowReorderPoint?: boolean | null;
};

export const PRODUCT_ORDERS = [
  'NAME_ASC',
  'SKU_ASC',
  'CREATED_AT_DESC',
  'UNIT_PRICE_DESC',
] as const;
export type ProductOrder = (typeof PRODUCT_ORDERS)[number];

const available = sql.fragment`
  (SELECT coalesce(sum(i.quantity_available), 0) FROM inventory i WHERE i.product_id = p.id)`;

function whereClause(filter: ProductFilter) {
  const conditions = [];
  if (filter.category != null) conditions.push(sql.fragment`p.category = ${filter.category}`);
  if (filter.isActive != null) conditions.push(sql.fragment`p.is_active = ${filter.isActive}`);
  if (filter.search != null && filter.search.trim() !== '') {
    const pattern = `%${filter.search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(sql.fragment`(p.name ILIKE ${pattern} OR p.sku ILIKE ${pattern})`);
  }
  if (filter.belowReorderPoint === true)
    conditions.push(sql.fragment`${available} < p.reorder_point`);
  if (filter.belowReorderPoint === false)
    conditions.push(sql.fragment`${available} >= p.reorder_point`);
  return conditions.length > 0
    ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}`
    : sql.fragment``;
}

/** The sort key of each order; a cursor carries the key of its row. */
export const orderKey: Record<ProductOrder, (row: ProductRow) => string | number> = {
  NAME_ASC: (row) => row.name,
  SKU_ASC: (row) => row.sku,
  CREATED_AT_DESC: (row) => row.created_at.toISOString(),
  UNIT_PRICE_DESC: (row) => row.unit_price,
};

function orderClauses(
  order: ProductOrder,
  after: { key: string | number | null; id: string } | null,
) {
  const key = after?.key ?? null;
  switch (order) {
    case 'NAME_ASC':
      return {
        seek: after && sql.fragment`(p.name, p.id) > (${String(key)}, ${after.id})`,
        orderBy: sql.fragment`p.name, p.id`,
      };
    case 'SKU_ASC':
      return {
        seek: after && sql.fragment`(p.sku, p.id) > (${String(key)}, ${after.id})`,
        orderBy: sql.fragment`p.sku, p.id`,
      };
    case 'CREATED_AT_DESC':
      // Ordered by the millisecond, as far as the cursor (a JavaScript Date) can say it: rows
      // created within one millisecond follow by id, none skipped or repeated across pages.
      return {
        seek:
          after &&
          sql.fragment`(date_trunc('milliseconds', p.created_at), p.id) < (${String(key)}::timestamptz, ${after.id})`,
        orderBy: sql.fragment`date_trunc('milliseconds', p.created_at) DESC, p.id DESC`,
      };
    case 'UNIT_PRICE_DESC':
      return {
        seek: after && sql.fragment`(p.unit_price, p.id) < (${String(key)}::numeric, ${after.id})`,
        orderBy: sql.fragment`p.unit_price DESC, p.id DESC`,
      };
  }
}

export async function listProducts(
  db: CommonQueryMethods,
  options: {
    limit: number;
    after: { key: string | number | null; id: string } | null;
    filter: ProductFilter;
    order: ProductOrder;
  },
) {
  const { seek, orderBy } = orderClauses(options.order, options.after);
  const where = whereClause(options.filter);
  const seekClause = seek
    ? where.sql
      ? sql.fragment`AND ${seek}`
      : sql.fragment`WHERE ${seek}`
    : sql.fragment``;
  return db.any(sql.type(ProductRow)`
    /* listProducts */
    SELECT ${productColumns} FROM products p ${where} ${seekClause}
    ORDER BY ${orderBy} LIMIT ${options.limit}`);
}

export async function countProducts(
  db: CommonQueryMethods,
  filter: ProductFilter,
): Promise<number> {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`
    /* countProducts */ SELECT count(*)::int AS count FROM products p ${whereClause(filter)}`);
}

export type ProductInput = {
  sku?: string;
  name?: string;
  description?: string | null;
  category?: string | null;
  unitCost?: string;
  unitPrice?: string;
  reorderPoint?: number;
  reorderQuantity?: number;
  leadTimeDays?: number;
  safetyStock?: number;
  isActive?: boolean;
};

function validateProduct(input: ProductInput) {
  const text = (
    field: string,
    value: string | null | undefined,
    max: number,
    required: boolean,
  ) => {
    if (value === undefined || value === null) return;
    const trimmed = value.trim();
    if ((required && trimmed.length === 0) || trimmed.length > max) {
      throw new BadUserInputError(
        `Invalid ${field}: it must be ${required ? 1 : 0} to ${max} characters.`,
        { field },
      );
    }
  };
  text('sku', input.sku, 100, true);
  text('name', input.name, 255, true);
  text('category', input.category, 100, false);
  for (const [field, value] of Object.entries({
    unitCost: input.unitCost,
    unitPrice: input.unitPrice,
  })) {
    if (value != null && value.startsWith('-')) {
      throw new BadUserInputError(`${field} must not be negative.`, { field });
    }
  }
  for (const [field, value] of Object.entries({
    reorderPoint: input.reorderPoint,
    reorderQuantity: input.reorderQuantity,
    leadTimeDays: input.leadTimeDays,
    safetyStock: input.safetyStock,
  })) {
    if (value !== undefined && value < 0)
      throw new BadUserInputError(`${field} must not be negative.`, { field });
  }
}

export async function createProduct(
  db: CommonQueryMethods,
  input: ProductInput & { sku: string; name: string },
) {
  validateProduct(input);
  const active = input.isActive ?? true;
  // An active product counts against the plan's SKU limit (billing/quotas.ts).
  if (active) await lockQuota(db, 'PRODUCTS');
  const row = await guarded(PRODUCT_CONSTRAINTS, () =>
    db.maybeOne(sql.type(ProductRow)`
      /* createProduct */
      INSERT INTO products AS p (company_id, sku, name, description, category, unit_cost, unit_price,
        reorder_point, reorder_quantity, lead_time_days, safety_stock, is_active)
      SELECT c.id, ${input.sku.trim()}, ${input.name.trim()}, ${input.description ?? null}, ${input.category?.trim() ?? null},
        ${input.unitCost ?? '0'}, ${input.unitPrice ?? '0'}, ${input.reorderPoint ?? 0}, ${input.reorderQuantity ?? 0},
        ${input.leadTimeDays ?? 0}, ${input.safetyStock ?? 0}, ${active}
      FROM companies c WHERE ${active ? roomForProduct : sql.fragment`true`}
      ORDER BY c.created_at LIMIT 1
      RETURNING ${productColumns}`),
  );
  if (!row) throw await productQuotaExceeded(db);
  return row;
}

async function productQuotaExceeded(db: CommonQueryMethods) {
  const { limit, used } = await productQuota(db);
  return quotaExceeded('PRODUCTS', limit ?? used, used);
}

const COLUMNS: Record<keyof ProductInput, string> = {
  sku: 'sku',
  name: 'name',
  description: 'description',
  category: 'category',
  unitCost: 'unit_cost',
  unitPrice: 'unit_price',
  reorderPoint: 'reorder_point',
  reorderQuantity: 'reorder_quantity',
  leadTimeDays: 'lead_time_days',
  safetyStock: 'safety_stock',
  isActive: 'is_active',
};

/** Fields an update may clear with null; the others keep their value when left out. */
const CLEARABLE: ReadonlySet<keyof ProductInput> = new Set(['description', 'category']);

export async function updateProduct(db: CommonQueryMethods, id: string, patch: ProductInput) {
  validateProduct(patch);
  for (const field of Object.keys(COLUMNS) as (keyof ProductInput)[]) {
    if (patch[field] === null && !CLEARABLE.has(field)) {
      throw new BadUserInputError(`${field} cannot be null: leave it out to keep it as it is.`, {
        field,
      });
    }
  }
  const sets = (Object.keys(COLUMNS) as (keyof ProductInput)[])
    .filter((field) => patch[field] !== undefined)
    .map((field) => {
      const value = patch[field];
      const cleaned = typeof value === 'string' && field !== 'description' ? value.trim() : value;
      return sql.fragment`${sql.identifier([COLUMNS[field]])} = ${cleaned ?? null}`;
    });
  if (sets.length === 0) throw new BadUserInputError('Nothing to update: give at least one field.');
  // Making an archived product active again counts against the SKU limit, as creating one does.
  const activating = patch.isActive === true;
  if (activating) await lockQuota(db, 'PRODUCTS');
  const row = await guarded(PRODUCT_CONSTRAINTS, () =>
    db.maybeOne(sql.type(ProductRow)`
      /* updateProduct */
      UPDATE products AS p SET ${sql.join(sets, sql.fragment`, `)}
      WHERE p.id = ${id} ${activating ? sql.fragment`AND (p.is_active OR ${roomForProduct})` : sql.fragment``}
      RETURNING ${productColumns}`),
  );
  if (!row) {
    const exists =
      activating &&
      (await db.exists(sql.unsafe`/* productExists */ SELECT 1 FROM products WHERE id = ${id}`));
    if (exists) throw await productQuotaExceeded(db);
    throw new NotFoundError(`No product ${id}.`, { field: 'id' });
  }
  return row;
}
