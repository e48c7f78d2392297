/**
 * DataLoaders, created for each request and bound to its transaction: never shared between
 * requests (and so never between tenants). Each batch is one SQL statement; results come back in
 * key order with null or [] for missing keys.
 */
import DataLoader from 'dataloader';
import type { CommonQueryMethods } from 'slonik';
import { firstCompany, type CompanyRow } from '../data/company.js';
import { forecastsByKeys, type ForecastKey, type ForecastRow } from '../data/forecasts.js';
import { inventoryByProductIds, type InventoryRow } from '../data/inventory.js';
import { productsByIds, type ProductRow } from '../data/products.js';
import {
  salesTotalsByKeys,
  type SalesTotalsKey,
  type SalesTotalsRow,
} from '../data/sales-totals.js';

const MAX_BATCH = 500;

function byId<T extends { id: string }>(ids: readonly string[], rows: readonly T[]): (T | null)[] {
  const found = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => found.get(id) ?? null);
}

function groupBy<T>(keys: readonly string[], rows: readonly T[], keyOf: (row: T) => string): T[][] {
  const groups = new Map<string, T[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key) ?? []);
}

export type Loaders = ReturnType<typeof createLoaders>;

export function createLoaders(db: CommonQueryMethods) {
  return {
    productById: new DataLoader<string, ProductRow | null>(
      async (ids) => byId(ids, await productsByIds(db, ids)),
      { maxBatchSize: MAX_BATCH },
    ),
    inventoryByProduct: new DataLoader<string, InventoryRow[]>(
      async (ids) => groupBy(ids, await inventoryByProductIds(db, ids), (row) => row.product_id),
      { maxBatchSize: MAX_BATCH },
    ),
    salesTotals: new DataLoader<SalesTotalsKey, Omit<SalesTotalsRow, 'idx'>, string>(
      async (keys) => {
        const rows = await salesTotalsByKeys(db, keys);
        return keys.map((_, index) => rows[index]!);
      },
      {
        maxBatchSize: MAX_BATCH,
        cacheKeyFn: (key) =>
          `${key.productId}|${key.from}|${key.to}|${key.channel ?? ''}|${key.currency ?? ''}`,
      },
    ),
    forecasts: new DataLoader<ForecastKey, ForecastRow[], string>(
      async (keys) => {
        const rows = await forecastsByKeys(db, keys);
        const grouped: ForecastRow[][] = keys.map(() => []);
        for (const { idx, ...row } of rows) grouped[idx - 1]!.push(row);
        return grouped;
      },
      {
        maxBatchSize: MAX_BATCH,
        cacheKeyFn: (key) => `${key.productId}|${key.type ?? ''}|${key.from ?? ''}|${key.to ?? ''}`,
      },
    ),
    company: new DataLoader<'company', CompanyRow | null>(async (keys) => {
      const company = await firstCompany(db);
      return keys.map(() => company);
    }),
  };
}
