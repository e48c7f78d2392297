import { sql } from 'slonik';
import {
  ArchiveProductDocument,
  CreateProductDocument,
  CreateTwoProductsDocument,
  ProductBySkuDocument,
  ProductDocument,
  ProductPageDocument,
  ProductSalesTotalsDocument,
  ProductsDocument,
  ProductsWithEverythingDocument,
  UpdateProductDocument,
  type ProductsQuery,
} from './generated/graphql.js';
import {
  failure,
  firstError,
  startApi,
  tenantWithKeys,
  type Api,
  type TenantWithKeys,
} from './support/api.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { statementCounter } from './support/statements.js';

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let beta: TenantWithKeys;
const counter = statementCounter();

/** Inserts n products (with stock in two locations, sales and a forecast each) for a tenant. */
async function seed(tenant: TenantWithKeys, n: number, prefix: string) {
  const t = (table: string) => sql.identifier([tenant.schemaName, table]);
  await db.pool.query(sql.unsafe`
    INSERT INTO ${t('products')} (company_id, sku, name, category, unit_cost, unit_price, reorder_point, reorder_quantity)
    SELECT ${tenant.companyId}, ${prefix} || '-' || lpad(i::text, 3, '0'), ${prefix} || ' product ' || lpad(i::text, 3, '0'),
      CASE WHEN i % 2 = 0 THEN 'Gin' ELSE 'Rum' END, 5.00 + i, 10.00 + i, 50, 100
    FROM generate_series(1, ${n}) i`);
  await db.pool.query(sql.unsafe`
    INSERT INTO ${t('inventory')} (company_id, product_id, location, quantity_on_hand, quantity_reserved)
    SELECT ${tenant.companyId}, p.id, l.location, 20 + length(p.sku), 2
    FROM ${t('products')} p CROSS JOIN (VALUES ('warehouse_uk'), ('fba_usa')) l(location)`);
  await db.pool.query(sql.unsafe`
    INSERT INTO ${t('sales')} (company_id, product_id, sale_date, quantity, unit_price, total_amount, channel, market, commission_rate, commission_amount)
    SELECT ${tenant.companyId}, p.id, d::date, 2, p.unit_price, p.unit_price * 2, 'shopify_uk', 'UK', 0.03, round(p.unit_price * 2 * 0.03, 2)
    FROM ${t('products')} p CROSS JOIN generate_series('2026-01-01'::date, '2026-01-10'::date, interval '1 day') d`);
  await db.pool.query(sql.unsafe`
    INSERT INTO ${t('forecasts')} (company_id, product_id, forecast_date, forecast_type, period_type, model_type, predicted_value)
    SELECT ${tenant.companyId}, p.id, '2026-02-01', 'DEMAND', 'MONTHLY', 'ensemble', 42
    FROM ${t('products')} p`);
}

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  await seed(acme, 120, 'ACME');
  await seed(beta, 3, 'BETA');
  api = await startApi(db, { pool: await db.openPool({ interceptors: [counter.interceptor] }) });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const productCount = (tenant: TenantWithKeys) =>
  db.pool.oneFirst(
    sql.unsafe`SELECT count(*) FROM ${sql.identifier([tenant.schemaName, 'products'])}`,
  );

describe('reading products', () => {
  test('a page of products with its total, and the next page from the cursor', async () => {
    const client = api.client(acme.readKey);
    const first = await client.request(ProductsDocument, { first: 50 });
    expect(first.products.totalCount).toBe(120);
    expect(first.products.edges).toHaveLength(50);
    expect(first.products.edges[0]!.node).toMatchObject({
      sku: 'ACME-001',
      unitPrice: '11.00',
      unitCost: '6.00',
    });
    expect(first.products.pageInfo.hasNextPage).toBe(true);

    const seen = new Set(first.products.edges.map((edge) => edge.node.sku));
    let after = first.products.pageInfo.endCursor;
    let pages = 1;
    while (after) {
      const next = await client.request(ProductPageDocument, { first: 50, after });
      for (const edge of next.products.edges) seen.add(edge.node.sku);
      after = next.products.pageInfo.hasNextPage ? next.products.pageInfo.endCursor : null;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen.size).toBe(120);
  });

  test('filters and orders', async () => {
    const client = api.client(acme.readKey);
    const gin = await client.request(ProductsDocument, {
      first: 100,
      filter: { category: 'Gin', search: 'product 01' },
    });
    expect(gin.products.edges.map((edge) => edge.node.sku)).toEqual([
      'ACME-010',
      'ACME-012',
      'ACME-014',
      'ACME-016',
      'ACME-018',
    ]);
    expect(gin.products.totalCount).toBe(5);
    const priciest = await client.request(ProductsDocument, {
      first: 2,
      orderBy: 'UNIT_PRICE_DESC',
    });
    expect(priciest.products.edges.map((edge) => edge.node.unitPrice)).toEqual([
      '130.00',
      '129.00',
    ]);
    const next = await client.request(ProductsDocument, {
      first: 2,
      orderBy: 'UNIT_PRICE_DESC',
      after: priciest.products.pageInfo.endCursor,
    });
    expect(next.products.edges.map((edge) => edge.node.unitPrice)).toEqual(['128.00', '127.00']);
    // Available stock is 2 x (20 + 8 - 2) = 52 >= 50 for every product: none below its reorder point.
    const low = await client.request(ProductsDocument, {
      first: 10,
      filter: { belowReorderPoint: true },
    });
    expect(low.products.totalCount).toBe(0);
  });

  test('newest first, a page at a time: products created within one millisecond are neither skipped nor repeated', async () => {
    const tenant = await tenantWithKeys(db, 'same-milli');
    // Four products whose created_at differ by microseconds inside one millisecond, one a moment later.
    await db.pool.query(sql.unsafe`
      INSERT INTO ${sql.identifier([tenant.schemaName, 'products'])} (company_id, sku, name, created_at)
      SELECT ${tenant.companyId}, 'MS-' || g, 'Milli ' || g,
        CASE WHEN g = 5 THEN '2026-03-01T10:00:00.124Z'::timestamptz
             ELSE '2026-03-01T10:00:00.123Z'::timestamptz + make_interval(secs => g / 1000000.0) END
      FROM generate_series(1, 5) AS g`);
    const client = api.client(tenant.readKey);
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const result: ProductsQuery = await client.request(ProductsDocument, {
        first: 1,
        orderBy: 'CREATED_AT_DESC',
        after,
      });
      seen.push(...result.products.edges.map((edge) => edge.node.sku));
      if (!result.products.pageInfo.hasNextPage) break;
      after = result.products.pageInfo.endCursor ?? null;
    }
    expect(seen[0]).toBe('MS-5');
    expect([...seen].sort()).toEqual(['MS-1', 'MS-2', 'MS-3', 'MS-4', 'MS-5']);
  });

  test('product, productBySku and nested stock, sales totals and forecasts', async () => {
    const client = api.client(acme.readKey);
    const bySku = await client.request(ProductBySkuDocument, { sku: 'ACME-007' });
    const id = bySku.productBySku!.id;
    expect((await client.request(ProductDocument, { id })).product?.sku).toBe('ACME-007');
    const totals = await client.request(ProductSalesTotalsDocument, {
      id,
      from: '2026-01-01',
      to: '2026-01-05',
    });
    // 5 days x 2 units at 17.00, 3% commission.
    expect(totals.product?.salesTotals).toEqual({
      quantity: 10,
      revenue: '170.00',
      netRevenue: '164.90',
      orders: 5,
    });
    const shopifyEu = await client.request(ProductSalesTotalsDocument, {
      id,
      from: '2026-01-01',
      to: '2026-01-05',
      channel: 'shopify_eu',
    });
    expect(shopifyEu.product?.salesTotals).toEqual({
      quantity: 0,
      revenue: '0.00',
      netRevenue: '0.00',
      orders: 0,
    });
  });

  test('salesTotals in one currency leaves the others out', async () => {
    const client = api.client(acme.readKey);
    const id = (await client.request(ProductBySkuDocument, { sku: 'ACME-009' })).productBySku!.id;
    await db.pool.query(sql.unsafe`
      INSERT INTO ${sql.identifier([acme.schemaName, 'sales'])}
        (company_id, product_id, sale_date, quantity, unit_price, total_amount, channel, market, currency)
      VALUES (${acme.companyId}, ${id}, '2026-01-03', 1, 25.00, 25.00, 'shopify_eu', 'EU', 'EUR')`);
    const range = { id, from: '2026-01-01', to: '2026-01-05' };
    const all = await client.request(ProductSalesTotalsDocument, range);
    const pounds = await client.request(ProductSalesTotalsDocument, { ...range, currency: 'GBP' });
    const euros = await client.request(ProductSalesTotalsDocument, { ...range, currency: 'EUR' });
    // 5 days x 2 units at 19.00 in GBP, and the one EUR sale.
    expect(pounds.product?.salesTotals).toMatchObject({
      quantity: 10,
      revenue: '190.00',
      orders: 5,
    });
    expect(euros.product?.salesTotals).toMatchObject({ quantity: 1, revenue: '25.00', orders: 1 });
    expect(all.product?.salesTotals).toMatchObject({ quantity: 11, orders: 6 });
  });

  test('a page of 100 products with inventory, stock, salesTotals and forecasts costs the same statements as a page of 5', async () => {
    const client = api.client(acme.readKey);
    const run = async (first: number) => {
      counter.reset();
      const result = await client.request(ProductsWithEverythingDocument, {
        first,
        from: '2026-01-01',
        to: '2026-01-31',
      });
      expect(result.products.edges).toHaveLength(first);
      const node = result.products.edges[0]!.node;
      expect(node.inventory).toHaveLength(2);
      expect(node.stock).toEqual({
        onHand: 2 * (20 + 8),
        reserved: 4,
        available: 2 * (20 + 8) - 4,
      });
      expect(node.salesTotals.orders).toBe(10);
      expect(node.forecasts).toEqual([{ date: '2026-02-01', predictedValue: '42.00' }]);
      return counter.statements.filter(
        (statement) => !/findApiKeysByHash|refreshApiKeys|recordApiKeyUse/.test(statement),
      );
    };
    const five = await run(5);
    const hundred = await run(100);
    expect(hundred.length).toBe(five.length);
    // enterTenant, the page, inventory (shared by inventory and stock), sales totals, forecasts.
    expect(five.map((statement) => /\/\* (\w+) \*\//.exec(statement)?.[1])).toEqual([
      'enterTenant',
      'listProducts',
      'inventoryByProductIds',
      'salesTotalsByKeys',
      'forecastsByKeys',
    ]);
  });

  test('the same nested query for two tenants at once returns each its own data', async () => {
    const query = (tenant: TenantWithKeys) =>
      api.client(tenant.readKey).request(ProductsWithEverythingDocument, {
        first: 100,
        from: '2026-01-01',
        to: '2026-01-31',
      });
    const results = await Promise.all([query(acme), query(beta), query(acme), query(beta)]);
    for (const [index, result] of results.entries()) {
      const prefix = index % 2 === 0 ? 'ACME-' : 'BETA-';
      const skus = result.products.edges.map((edge) => edge.node.sku);
      expect(skus.length).toBe(index % 2 === 0 ? 100 : 3);
      expect(skus.every((sku) => sku.startsWith(prefix))).toBe(true);
    }
  });

  test.each([
    [{ first: 101 }, 'Invalid first: it must be between 0 and 100.'],
    [{ first: -1 }, 'Invalid first: it must be between 0 and 100.'],
    [
      { first: 10, after: 'not-a-cursor' },
      'Invalid cursor: pass an endCursor from a previous page.',
    ],
  ])('bad paging arguments %j are BAD_USER_INPUT', async (variables, message) => {
    expect(
      firstError(await failure(api.client(acme.readKey), ProductsDocument, variables)),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      message,
    });
  });

  test('from after to is BAD_USER_INPUT', async () => {
    const id = (await api.client(acme.readKey).request(ProductBySkuDocument, { sku: 'ACME-001' }))
      .productBySku!.id;
    expect(
      firstError(
        await failure(api.client(acme.readKey), ProductSalesTotalsDocument, {
          id,
          from: '2026-02-01',
          to: '2026-01-01',
        }),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'Invalid range: from (2026-02-01) is after to (2026-01-01).',
    });
  });
});

describe('writing products', () => {
  test('create, update and archive', async () => {
    const client = api.client(acme.key);
    const created = await client.request(CreateProductDocument, {
      input: {
        sku: 'NEW-1',
        name: 'New gin',
        category: 'Gin',
        unitCost: '7.25',
        unitPrice: '19.99',
        reorderPoint: 10,
      },
    });
    expect(created.createProduct).toMatchObject({
      sku: 'NEW-1',
      unitPrice: '19.99',
      isActive: true,
      reorderPoint: 10,
    });
    const updated = await client.request(UpdateProductDocument, {
      id: created.createProduct.id,
      input: { unitPrice: '21.50', name: 'New gin 70cl' },
    });
    expect(updated.updateProduct).toMatchObject({
      unitPrice: '21.50',
      name: 'New gin 70cl',
      unitCost: '7.25',
    });
    const archived = await client.request(ArchiveProductDocument, { id: created.createProduct.id });
    expect(archived.archiveProduct).toEqual({ id: created.createProduct.id, isActive: false });
  });

  test('a duplicate SKU is CONFLICT naming the field, and nothing is written', async () => {
    const before = await productCount(acme);
    const result = await failure(api.client(acme.key), CreateProductDocument, {
      input: { sku: 'ACME-001', name: 'Again' },
    });
    expect(result.errors[0]).toMatchObject({
      message: 'A product with this SKU already exists.',
      extensions: { code: 'CONFLICT', field: 'sku' },
    });
    expect(await productCount(acme)).toBe(before);
  });

  test.each([
    [{ sku: 'NEG-1', name: 'X', unitPrice: '-1.00' }, 'unitPrice must not be negative.'],
    [{ sku: 'NEG-2', name: 'X', reorderPoint: -5 }, 'reorderPoint must not be negative.'],
    [{ sku: ' ', name: 'X' }, 'Invalid sku: it must be 1 to 100 characters.'],
    [{ sku: 'BAD-1', name: 'X', unitPrice: '12.345' }, /Money must be a decimal string/],
  ])('invalid input %j is BAD_USER_INPUT and nothing is written', async (input, message) => {
    const before = await productCount(acme);
    const error = firstError(await failure(api.client(acme.key), CreateProductDocument, { input }));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.message).toMatch(message);
    expect(await productCount(acme)).toBe(before);
  });

  test('a mutation is all or nothing: when its second field fails, the first is rolled back', async () => {
    const before = await productCount(acme);
    const result = await failure(api.client(acme.key), CreateTwoProductsDocument, {
      first: { sku: 'PAIR-1', name: 'First of a pair' },
      second: { sku: 'ACME-002', name: 'Duplicate' },
    });
    expect(result.errors[0]?.extensions.code).toBe('CONFLICT');
    expect(await productCount(acme)).toBe(before);
    expect(
      await db.pool.exists(sql.unsafe`
      SELECT 1 FROM ${sql.identifier([acme.schemaName, 'products'])} WHERE sku = 'PAIR-1'`),
    ).toBe(false);
  });

  test('a read-only key may not run mutations: FORBIDDEN (403), nothing written, no tenant SQL', async () => {
    const before = await productCount(acme);
    counter.reset();
    const result = await failure(api.client(acme.readKey), CreateProductDocument, {
      input: { sku: 'RO-1', name: 'Read only' },
    });
    expect(firstError(result)).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message: 'This API key is read-only: createProduct needs the write scope.',
    });
    expect(counter.statements.filter((statement) => /enterTenant/.test(statement))).toEqual([]);
    expect(await productCount(acme)).toBe(before);
  });
});

describe("another tenant's ids", () => {
  let betaProductId: string;
  beforeAll(async () => {
    betaProductId = (
      await api.client(beta.readKey).request(ProductBySkuDocument, { sku: 'BETA-001' })
    ).productBySku!.id;
  });

  test('reads find nothing', async () => {
    const client = api.client(acme.readKey);
    expect((await client.request(ProductDocument, { id: betaProductId })).product).toBeNull();
    expect(
      (await client.request(ProductBySkuDocument, { sku: 'BETA-001' })).productBySku,
    ).toBeNull();
    expect(
      (
        await client.request(ProductSalesTotalsDocument, {
          id: betaProductId,
          from: '2026-01-01',
          to: '2026-12-31',
        })
      ).product,
    ).toBeNull();
    expect((await client.request(ProductDocument, { id: 'not-a-uuid' })).product).toBeNull();
  });

  test('writes are NOT_FOUND and change nothing', async () => {
    const client = api.client(acme.key);
    for (const [document, variables] of [
      [UpdateProductDocument, { id: betaProductId, input: { name: 'Hijacked' } }],
      [ArchiveProductDocument, { id: betaProductId }],
    ] as const) {
      const error = firstError(
        await failure(
          client,
          document as typeof ArchiveProductDocument,
          variables as { id: string },
        ),
      );
      expect(error).toMatchObject({ code: 'NOT_FOUND', message: `No product ${betaProductId}.` });
    }
    const beta001 = await api.client(beta.readKey).request(ProductDocument, { id: betaProductId });
    expect(beta001.product).toMatchObject({ name: 'BETA product 001', isActive: true });
  });
});
