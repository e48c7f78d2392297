/**
 * Data for `npm run bench`: the demo tenant plus many small tenants, each filled with a few
 * set-based statements (INSERT ... SELECT generate_series) inside its createTenant transaction,
 * and one read-write API key per tenant. Every value derives from the tenant's number and the row
 * numbers, so two runs hold the same figures (ids and timestamps aside).
 */
import pMap from 'p-map';
import type { DatabaseTransactionConnection } from 'slonik';
import { createApiKey } from '../auth/api-keys.js';
import { sql } from '../db/sql.js';
import { ensureDemoTenant } from '../demo/demo-tenant.js';
import { createTenant, type LifecycleContext, type Tenant } from '../tenants/lifecycle.js';

export const BENCH_PRODUCTS = 50;
export const BENCH_SALES_DAYS = 90;

export type BenchTenant = { tenant: Tenant; key: string };

/**
 * ~50 products, their stock in 3 locations, 90 days of daily sales over 3 channels (about three
 * rows in four: not every product sells every day everywhere), and 3 monthly demand forecasts per
 * product after `today`.
 */
async function seedSmallTenant(
  tx: DatabaseTransactionConnection,
  { companyId, n, today }: { companyId: string; n: number; today: string },
) {
  await tx.query(sql.unsafe`
    /* benchProducts */
    INSERT INTO products (company_id, sku, name, category, unit_cost, unit_price, reorder_point,
      reorder_quantity, lead_time_days, safety_stock)
    SELECT ${companyId}::uuid, 'B-' || lpad(g::text, 3, '0'), 'Product ' || lpad(g::text, 3, '0'),
      (ARRAY['gin', 'vodka', 'rum', 'whisky', 'mixers'])[1 + g % 5],
      round((10 + (g * 7 + ${n}) % 40) * 0.4, 2), 10 + (g * 7 + ${n}) % 40 + 0.5,
      40 + (g * 11) % 60, 100 + (g * 13) % 200, 7 + g % 21, 10 + g % 15
    FROM generate_series(1, ${BENCH_PRODUCTS}) AS g`);
  await tx.query(sql.unsafe`
    /* benchInventory */
    INSERT INTO inventory (company_id, product_id, location, quantity_on_hand, quantity_reserved)
    SELECT p.company_id, p.id, l.location, q.on_hand, q.on_hand % 17
    FROM products p
    CROSS JOIN (VALUES (1, 'warehouse_uk'), (2, 'fba_uk'), (3, 'fba_usa')) AS l(k, location)
    CROSS JOIN LATERAL (
      SELECT 20 + (substr(p.sku, 3)::int * 13 + ${n} * 7 + l.k * 29) % 500 AS on_hand
    ) AS q`);
  await tx.query(sql.unsafe`
    /* benchSales */
    INSERT INTO sales (company_id, product_id, sale_date, quantity, unit_price, total_amount,
      channel, commission_rate, commission_amount, market, currency)
    SELECT p.company_id, p.id, ${today}::date - d, q.quantity, p.unit_price,
      q.quantity * p.unit_price, c.channel, c.rate, round(q.quantity * p.unit_price * c.rate, 2),
      'UK', 'GBP'
    FROM products p
    CROSS JOIN generate_series(0, ${BENCH_SALES_DAYS - 1}) AS d
    CROSS JOIN (VALUES (1, 'amazon_uk', 0.15), (2, 'shopify_uk', 0.03), (3, 'wholesale', 0.0))
      AS c(k, channel, rate)
    CROSS JOIN LATERAL (
      SELECT substr(p.sku, 3)::int AS g,
        1 + (substr(p.sku, 3)::int * 3 + d * 7 + c.k * 11 + ${n}) % 9 AS quantity
    ) AS q
    WHERE (q.g * 7 + d * 3 + c.k + ${n}) % 4 <> 0`);
  await tx.query(sql.unsafe`
    /* benchForecasts */
    INSERT INTO forecasts (company_id, product_id, forecast_date, forecast_type, period_type,
      model_type, predicted_value, lower_bound, upper_bound, confidence_level)
    SELECT p.company_id, p.id,
      (date_trunc('month', ${today}::date::timestamp) + make_interval(months => m))::date,
      'DEMAND', 'MONTHLY', 'bench', v.value, v.value * 0.8, v.value * 1.2, 0.8
    FROM products p
    CROSS JOIN generate_series(1, 3) AS m
    CROSS JOIN LATERAL (
      SELECT (100 + (substr(p.sku, 3)::int * 17 + m * 5 + ${n}) % 400)::numeric(15,2) AS value
    ) AS v`);
}

/**
 * Creates the demo tenant (with `today` as its last day of data) and `count` small tenants, and
 * a read-write key for each. Returns the demo tenant first.
 */
export async function seedBenchTenants(
  ctx: LifecycleContext,
  options: { count: number; today: string; concurrency: number; signal?: AbortSignal },
): Promise<BenchTenant[]> {
  const withKey = async (tenant: Tenant): Promise<BenchTenant> => {
    const { key } = await createApiKey(ctx.pool, {
      tenantId: tenant.id,
      name: 'bench',
      scopes: ['read', 'write'],
      actor: 'bench',
    });
    return { tenant, key };
  };
  const demo = await ensureDemoTenant(ctx, { today: options.today });
  const small = await pMap(
    Array.from({ length: options.count }, (_, n) => n),
    async (n) =>
      withKey(
        await createTenant(
          ctx,
          // Professional: API keys are a Professional feature.
          { slug: `bench-${String(n).padStart(4, '0')}`, name: `Bench ${n}`, tier: 'professional' },
          {
            seed: (tx, { companyId }) =>
              seedSmallTenant(tx, { companyId, n, today: options.today }),
          },
        ),
      ),
    { concurrency: options.concurrency, signal: options.signal },
  );
  return [await withKey(demo.tenant), ...small];
}
