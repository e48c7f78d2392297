import { sql } from 'slonik';
import { z } from 'zod';
import {
  ProductSalesDocument,
  ProductSalesPageDocument,
  ProductsWithSalesDocument,
  RecordSalesDocument,
  SalesByCurrencyDocument,
  SalesSummaryDocument,
  type ProductSalesPageQuery,
  type SaleInput,
  type SalesGroupBy,
  type SalesSummaryFilter,
  type SalesSummaryQuery,
  type SalesSummaryQueryVariables,
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
/** Writes sales through the API in most tests. */
let acme: TenantWithKeys;
/** The other tenant, whose ids must never reach acme's data or the reverse. */
let beta: TenantWithKeys;
/** Read-only: a fixed set of sales for Product.sales and salesSummary. */
let gamma: TenantWithKeys;
const counter = statementCounter();

const table = (tenant: TenantWithKeys, name: string) => sql.identifier([tenant.schemaName, name]);

/** Inserts products and returns their ids by SKU. */
async function addProducts(
  tenant: TenantWithKeys,
  products: { sku: string; category: string | null }[],
): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const product of products) {
    ids[product.sku] = (await db.pool.oneFirst(sql.unsafe`
      INSERT INTO ${table(tenant, 'products')} (company_id, sku, name, category, unit_price)
      VALUES (${tenant.companyId}, ${product.sku}, ${`Product ${product.sku}`}, ${product.category}, 10)
      RETURNING id`)) as string;
  }
  return ids;
}

const salesCount = async (tenant: TenantWithKeys) =>
  Number(await db.pool.oneFirst(sql.unsafe`SELECT count(*) FROM ${table(tenant, 'sales')}`));

/** A valid sale line; tests override what they are about. */
const sale = (productId: string, overrides: Partial<SaleInput> = {}): SaleInput => ({
  productId,
  saleDate: '2026-03-02',
  quantity: 1,
  unitPrice: '10.00',
  channel: 'amazon',
  market: 'UK',
  currency: 'GBP',
  ...overrides,
});

/** Statements the API sent whose text contains a query name. */
const statementsNamed = (name: string) =>
  counter.statements.filter((text) => text.includes(`/* ${name} */`));

let acmeIds: Record<string, string>;
let betaIds: Record<string, string>;
let gammaIds: Record<string, string>;

/** gamma's sales, as stored (amounts rounded by PostgreSQL). */
const StoredSale = z.object({
  id: z.string(),
  productId: z.string(),
  sku: z.string(),
  name: z.string(),
  category: z.string().nullable(),
  saleDate: z.string(),
  channel: z.string(),
  market: z.string(),
  quantity: z.number(),
  totalAmount: z.string(),
  commissionAmount: z.string(),
  netRevenue: z.string(),
});
type StoredSale = z.infer<typeof StoredSale>;
let gammaSales: StoredSale[];

const GAMMA_CHANNELS = ['amazon', 'ebay', 'shopify'] as const;
const GAMMA_MARKETS = ['UK', 'EU', 'USA', 'ROW'] as const;

/** 90 sales over the end of 2024 and 2025 for 3 products, through recordSales. */
function gammaBatch(): SaleInput[] {
  const skus = ['G-1', 'G-2', 'G-3'];
  return Array.from({ length: 90 }, (_, i) => {
    const day = new Date(Date.UTC(2024, 11, 20 + i * 4));
    return sale(gammaIds[skus[i % 3]!]!, {
      saleDate: day.toISOString().slice(0, 10),
      quantity: 1 + (i % 7),
      unitPrice: `${3 + (i % 11)}.${String((i * 37) % 100).padStart(2, '0')}`,
      channel: GAMMA_CHANNELS[i % 3 === 0 ? 0 : i % 5 === 0 ? 1 : 2],
      market: GAMMA_MARKETS[i % 4]!,
      currency: i % 2 === 0 ? 'GBP' : 'EUR',
      commissionRate: ['0', '0.15', '0.0333', '0.125'][i % 4]!,
      channelOrderId: `G${i}`,
    });
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  gamma = await tenantWithKeys(db, 'gamma');
  acmeIds = await addProducts(acme, [
    { sku: 'A-1', category: 'Gin' },
    { sku: 'A-2', category: 'Rum' },
  ]);
  betaIds = await addProducts(beta, [{ sku: 'B-1', category: 'Gin' }]);
  gammaIds = await addProducts(gamma, [
    { sku: 'G-1', category: 'Gin' },
    { sku: 'G-2', category: 'Rum' },
    { sku: 'G-3', category: null },
  ]);
  api = await startApi(db, { pool: await db.openPool({ interceptors: [counter.interceptor] }) });

  await api.client(gamma.key).request(RecordSalesDocument, { input: gammaBatch() });
  // beta sells the same channels on the same days: none of it may show up for gamma.
  await api.client(beta.key).request(RecordSalesDocument, {
    input: [sale(betaIds['B-1']!, { saleDate: '2025-03-03', quantity: 500, unitPrice: '99.99' })],
  });
  gammaSales = [
    ...(await db.pool.any(sql.type(StoredSale)`
      SELECT s.id, s.product_id AS "productId", p.sku, p.name, p.category,
        s.sale_date::text AS "saleDate", s.channel, s.market, s.quantity,
        s.total_amount::text AS "totalAmount", s.commission_amount::text AS "commissionAmount",
        s.net_revenue::text AS "netRevenue"
      FROM ${table(gamma, 'sales')} s JOIN ${table(gamma, 'products')} p ON p.id = s.product_id`)),
  ];
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('recordSales', () => {
  test('writes a batch with one INSERT, amounts computed and rounded to 2 places in SQL', async () => {
    const before = await salesCount(acme);
    counter.reset();
    const result = await api.client(acme.key).request(RecordSalesDocument, {
      input: [
        // 3 × 0.10 is 0.30000000000000004 in a float; 0.30 in numeric.
        sale(acmeIds['A-1']!, { quantity: 3, unitPrice: '0.10', channelOrderId: 'R-1' }),
        // 9.99 × 0.1234 = 1.232766 → 1.23
        sale(acmeIds['A-1']!, {
          quantity: 3,
          unitPrice: '3.33',
          commissionRate: '0.1234',
          channelOrderId: 'R-2',
          market: 'EU',
          currency: 'EUR',
        }),
        // 1.05 × 0.025 = 0.02625 → 0.03 (half away from zero)
        sale(acmeIds['A-2']!, {
          quantity: 7,
          unitPrice: '0.15',
          commissionRate: '0.025',
          channel: 'shopify_uk',
          saleDate: '2026-02-28',
          market: 'USA',
          currency: 'USD',
        }),
      ],
    });
    expect(result.recordSales).toEqual({ count: 3, totalQuantity: 13, totalRevenue: '11.34' });
    expect(await salesCount(acme)).toBe(before + 3);

    const rows = await db.pool.any(sql.unsafe`
      SELECT channel_order_id, sale_date::text AS sale_date, market, currency,
        total_amount::text AS total, commission_rate::text AS rate,
        commission_amount::text AS commission, net_revenue::text AS net
      FROM ${table(acme, 'sales')} WHERE channel_order_id IN ('R-1', 'R-2') OR channel = 'shopify_uk'
      ORDER BY total`);
    expect(rows).toEqual([
      {
        channel_order_id: 'R-1',
        sale_date: '2026-03-02',
        market: 'UK',
        currency: 'GBP',
        total: '0.30',
        rate: '0.0000',
        commission: '0.00',
        net: '0.30',
      },
      {
        channel_order_id: null,
        sale_date: '2026-02-28',
        market: 'USA',
        currency: 'USD',
        total: '1.05',
        rate: '0.0250',
        commission: '0.03',
        net: '1.02',
      },
      {
        channel_order_id: 'R-2',
        sale_date: '2026-03-02',
        market: 'EU',
        currency: 'EUR',
        total: '9.99',
        rate: '0.1234',
        commission: '1.23',
        net: '8.76',
      },
    ]);
    expect(statementsNamed('salesProductsExist')).toHaveLength(1);
    expect(statementsNamed('recordSales')).toHaveLength(1);
    expect(counter.statements.filter((text) => /INSERT INTO sales/.test(text))).toHaveLength(1);
  });

  test('1,000 rows is the most one call takes, still one INSERT statement', async () => {
    const before = await salesCount(acme);
    counter.reset();
    const input = Array.from({ length: 1000 }, (_, i) =>
      sale(acmeIds[i % 2 ? 'A-1' : 'A-2']!, { unitPrice: '1.25', channelOrderId: `BULK-${i}` }),
    );
    const result = await api.client(acme.key).request(RecordSalesDocument, { input });
    expect(result.recordSales).toEqual({
      count: 1000,
      totalQuantity: 1000,
      totalRevenue: '1250.00',
    });
    expect(await salesCount(acme)).toBe(before + 1000);
    expect(statementsNamed('recordSales')).toHaveLength(1);
  });

  test('1,001 rows → BAD_USER_INPUT, no SQL for sales and nothing written', async () => {
    const before = await salesCount(acme);
    counter.reset();
    const input = Array.from({ length: 1001 }, () => sale(acmeIds['A-1']!));
    const result = await failure(api.client(acme.key), RecordSalesDocument, { input });
    expect(firstError(result)).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'input must have at most 1000 sales per call (got 1001).',
    });
    expect(result.errors[0]!.extensions.field).toBe('input');
    expect(statementsNamed('salesProductsExist')).toHaveLength(0);
    expect(statementsNamed('recordSales')).toHaveLength(0);
    expect(await salesCount(acme)).toBe(before);
  });

  test('no rows → BAD_USER_INPUT', async () => {
    const result = await failure(api.client(acme.key), RecordSalesDocument, { input: [] });
    expect(firstError(result)).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'input must have at least 1 sale.',
    });
  });

  const badRows: [string, Partial<SaleInput>, string, string][] = [
    [
      'quantity 0',
      { quantity: 0 },
      'input[3].quantity',
      'input[3].quantity must be greater than 0.',
    ],
    [
      'a negative quantity',
      { quantity: -2 },
      'input[3].quantity',
      'input[3].quantity must be greater than 0.',
    ],
    [
      'a negative unit price',
      { unitPrice: '-0.01' },
      'input[3].unitPrice',
      'input[3].unitPrice must not be negative.',
    ],
    [
      'an amount beyond numeric(15,2)',
      { unitPrice: '9999999999999.99', quantity: 2 },
      'input[3].unitPrice',
      'input[3].unitPrice times quantity exceeds the largest amount (9999999999999.99).',
    ],
    [
      'a channel with capitals and a space',
      { channel: 'Amazon UK' },
      'input[3].channel',
      'input[3].channel is invalid ("Amazon UK"): use 1 to 50 lowercase letters, digits and _.',
    ],
    [
      'a channel of 51 characters',
      { channel: 'a'.repeat(51) },
      'input[3].channel',
      `input[3].channel is invalid ("${'a'.repeat(51)}"): use 1 to 50 lowercase letters, digits and _.`,
    ],
    [
      'a currency the business does not trade in',
      { currency: 'JPY' },
      'input[3].currency',
      'input[3].currency must be one of GBP, EUR, USD (got JPY).',
    ],
    [
      'a commission rate above 1',
      { commissionRate: '1.5' },
      'input[3].commissionRate',
      'input[3].commissionRate must be between 0 and 1 (got 1.5).',
    ],
    [
      'a negative commission rate',
      { commissionRate: '-0.1' },
      'input[3].commissionRate',
      'input[3].commissionRate must be between 0 and 1 (got -0.1).',
    ],
    [
      'a commission rate with 5 decimal places',
      { commissionRate: '0.12345' },
      'input[3].commissionRate',
      'input[3].commissionRate must have at most 4 decimal places (got 0.12345).',
    ],
    [
      'an empty channel order id',
      { channelOrderId: ' ' },
      'input[3].channelOrderId',
      'input[3].channelOrderId must be 1 to 255 characters when given.',
    ],
  ];

  test.each(badRows)(
    'a bad row in the middle of a valid batch (%s) → BAD_USER_INPUT naming it, nothing written',
    async (_, bad, field, message) => {
      const before = await salesCount(acme);
      counter.reset();
      const input = Array.from({ length: 7 }, (_, i) =>
        sale(acmeIds['A-1']!, i === 3 ? bad : { channelOrderId: `MID-${i}` }),
      );
      const result = await failure(api.client(acme.key), RecordSalesDocument, { input });
      expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', message });
      expect(result.errors[0]!.extensions.field).toBe(field);
      expect(statementsNamed('recordSales')).toHaveLength(0);
      expect(await salesCount(acme)).toBe(before);
    },
  );

  test('a commission rate of exactly 1 or with trailing zeros is accepted', async () => {
    const result = await api.client(acme.key).request(RecordSalesDocument, {
      input: [
        sale(acmeIds['A-2']!, { commissionRate: '1.000000', unitPrice: '4.00' }),
        sale(acmeIds['A-2']!, { commissionRate: '0.250000', unitPrice: '4.00' }),
      ],
    });
    expect(result.recordSales).toEqual({ count: 2, totalQuantity: 2, totalRevenue: '8.00' });
  });

  test('a code that is not a currency at all is refused with the row and field named', async () => {
    const before = await salesCount(acme);
    const input = [
      sale(acmeIds['A-1']!),
      sale(acmeIds['A-1']!),
      sale(acmeIds['A-1']!, { currency: 'XYZ' }),
    ];
    const result = await failure(api.client(acme.key), RecordSalesDocument, { input });
    expect(firstError(result).code).toBe('BAD_USER_INPUT');
    expect(firstError(result).message).toContain('input[2].currency');
    expect(firstError(result).message).toContain('XYZ');
    expect(await salesCount(acme)).toBe(before);
  });

  test('money as a float is refused: Money is a decimal string', async () => {
    const before = await salesCount(acme);
    const input = [sale(acmeIds['A-1']!, { unitPrice: 12.5 as unknown as string })];
    const result = await failure(api.client(acme.key), RecordSalesDocument, { input });
    expect(firstError(result).code).toBe('BAD_USER_INPUT');
    expect(firstError(result).message).toContain('input[0].unitPrice');
    expect(await salesCount(acme)).toBe(before);
  });

  test('the read-only key → FORBIDDEN (403) and nothing written', async () => {
    const before = await salesCount(acme);
    const result = await failure(api.client(acme.readKey), RecordSalesDocument, {
      input: [sale(acmeIds['A-1']!)],
    });
    expect(firstError(result)).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await salesCount(acme)).toBe(before);
  });

  test("another tenant's product id → NOT_FOUND naming the row; nothing written on either side", async () => {
    const [acmeBefore, betaBefore] = [await salesCount(acme), await salesCount(beta)];
    counter.reset();
    const input = [
      sale(acmeIds['A-1']!),
      sale(acmeIds['A-2']!),
      sale(betaIds['B-1']!),
      sale(acmeIds['A-1']!),
    ];
    const result = await failure(api.client(acme.key), RecordSalesDocument, { input });
    expect(firstError(result)).toMatchObject({
      code: 'NOT_FOUND',
      message: `input[2].productId: no product ${betaIds['B-1']}.`,
    });
    expect(result.errors[0]!.extensions.field).toBe('input[2].productId');
    // One query checks every distinct product id; the INSERT never runs.
    expect(statementsNamed('salesProductsExist')).toHaveLength(1);
    expect(statementsNamed('recordSales')).toHaveLength(0);
    expect(await salesCount(acme)).toBe(acmeBefore);
    expect(await salesCount(beta)).toBe(betaBefore);
  });

  test('a product id that is not a UUID, or no product at all → NOT_FOUND naming the row', async () => {
    const before = await salesCount(acme);
    for (const [id, index] of [
      ['not-a-uuid', 1],
      ['00000000-0000-4000-8000-000000000000', 0],
    ] as const) {
      const input = index === 1 ? [sale(acmeIds['A-1']!), sale(id)] : [sale(id)];
      const result = await failure(api.client(acme.key), RecordSalesDocument, { input });
      expect(firstError(result)).toMatchObject({
        code: 'NOT_FOUND',
        message: `input[${index}].productId: no product ${id}.`,
      });
    }
    expect(await salesCount(acme)).toBe(before);
  });

  test('the same channel order line twice → CONFLICT naming the row; nothing written', async () => {
    const client = api.client(acme.key);
    const line = { channel: 'ebay', channelOrderId: 'EB-100' };
    await client.request(RecordSalesDocument, { input: [sale(acmeIds['A-1']!, line)] });
    // Another product on the same order, or the same order id on another channel, is no conflict.
    await client.request(RecordSalesDocument, {
      input: [
        sale(acmeIds['A-2']!, line),
        sale(acmeIds['A-1']!, { ...line, channel: 'shopify_uk' }),
      ],
    });
    const before = await salesCount(acme);

    const again = await failure(client, RecordSalesDocument, {
      input: [
        sale(acmeIds['A-2']!, { channel: 'ebay', channelOrderId: 'EB-101' }),
        sale(acmeIds['A-1']!, { channel: 'ebay', channelOrderId: 'EB-102' }),
        sale(acmeIds['A-1']!, line),
      ],
    });
    expect(firstError(again)).toMatchObject({
      code: 'CONFLICT',
      message: `input[2].channelOrderId: the sale of product ${acmeIds['A-1']} for ebay order "EB-100" already exists.`,
    });
    expect(again.errors[0]!.extensions.field).toBe('input[2].channelOrderId');

    const twice = await failure(client, RecordSalesDocument, {
      input: [
        sale(acmeIds['A-1']!, { channel: 'ebay', channelOrderId: 'EB-200' }),
        sale(acmeIds['A-2']!, { channel: 'ebay', channelOrderId: 'EB-200' }),
        sale(acmeIds['A-1']!, { channel: 'ebay', channelOrderId: 'EB-200' }),
      ],
    });
    expect(firstError(twice)).toMatchObject({
      code: 'CONFLICT',
      message: `input[2].channelOrderId: the sale of product ${acmeIds['A-1']} for ebay order "EB-200" is also input[0].`,
    });
    expect(await salesCount(acme)).toBe(before);
  });

  test('channel order ids are per tenant: beta may use the one acme used', async () => {
    const result = await api.client(beta.key).request(RecordSalesDocument, {
      input: [sale(betaIds['B-1']!, { channel: 'ebay', channelOrderId: 'EB-100' })],
    });
    expect(result.recordSales.count).toBe(1);
  });
});

describe('Product.sales', () => {
  const byNewest = (a: StoredSale, b: StoredSale) =>
    b.saleDate.localeCompare(a.saleDate) || b.id.localeCompare(a.id);

  test('pages newest first by (saleDate, id), with the total and every field', async () => {
    const client = api.client(gamma.readKey);
    const id = gammaIds['G-1']!;
    const expected = gammaSales
      .filter((row) => row.productId === id && row.saleDate >= '2025-01-01')
      .sort(byNewest);
    const first = await client.request(ProductSalesDocument, {
      id,
      from: '2025-01-01',
      to: '2025-12-31',
      first: 7,
    });
    const sales = first.product!.sales;
    expect(sales.totalCount).toBe(expected.length);
    expect(sales.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const top = expected[0]!;
    expect(sales.edges[0]!.node).toEqual({
      id: top.id,
      productId: id,
      saleDate: top.saleDate,
      quantity: top.quantity,
      unitPrice: expect.stringMatching(/^\d+\.\d{2}$/),
      totalAmount: top.totalAmount,
      commissionRate: expect.stringMatching(/^0\.\d{4}$/),
      commissionAmount: top.commissionAmount,
      netRevenue: top.netRevenue,
      channel: top.channel,
      channelOrderId: expect.stringMatching(/^G\d+$/),
      market: top.market,
      currency: expect.stringMatching(/^(GBP|EUR)$/),
    });

    const seen = sales.edges.map((edge) => edge.node.id);
    let after = sales.pageInfo.endCursor;
    while (after) {
      const next = await client.request(ProductSalesPageDocument, {
        id,
        from: '2025-01-01',
        to: '2025-12-31',
        first: 7,
        after,
      });
      seen.push(...next.product!.sales.edges.map((edge) => edge.node.id));
      const info = next.product!.sales.pageInfo;
      after = info.hasNextPage ? info.endCursor : null;
    }
    expect(seen).toEqual(expected.map((row) => row.id));
  });

  test('rows of the same day are ordered by id, and the cursor continues between them', async () => {
    const ids = await addProducts(acme, [{ sku: 'SAME-DAY', category: null }]);
    const client = api.client(acme.key);
    await client.request(RecordSalesDocument, {
      input: Array.from({ length: 5 }, () => sale(ids['SAME-DAY']!, { saleDate: '2026-01-15' })),
    });
    const expected = (
      await db.pool.anyFirst(sql.unsafe`
        SELECT id FROM ${table(acme, 'sales')} WHERE product_id = ${ids['SAME-DAY']!}
        ORDER BY id DESC`)
    ).map(String);
    const seen: string[] = [];
    let after: string | null | undefined = null;
    do {
      const page: ProductSalesPageQuery = await client.request(ProductSalesPageDocument, {
        id: ids['SAME-DAY']!,
        from: '2026-01-15',
        to: '2026-01-15',
        first: 2,
        after,
      });
      const sales = page.product!.sales;
      seen.push(...sales.edges.map((edge) => edge.node.id));
      after = sales.pageInfo.hasNextPage ? sales.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(expected);
  });

  test('filters by channel and date range (inclusive)', async () => {
    const id = gammaIds['G-2']!;
    const expected = gammaSales
      .filter(
        (row) =>
          row.productId === id &&
          row.channel === 'shopify' &&
          row.saleDate >= '2025-02-01' &&
          row.saleDate <= '2025-06-30',
      )
      .sort(byNewest);
    expect(expected.length).toBeGreaterThan(2);
    const result = await api.client(gamma.readKey).request(ProductSalesDocument, {
      id,
      from: '2025-02-01',
      to: '2025-06-30',
      channel: 'shopify',
      first: 100,
    });
    expect(result.product!.sales.totalCount).toBe(expected.length);
    expect(result.product!.sales.edges.map((edge) => edge.node.id)).toEqual(
      expected.map((row) => row.id),
    );
  });

  test('bad arguments → BAD_USER_INPUT', async () => {
    const client = api.client(gamma.readKey);
    const id = gammaIds['G-1']!;
    const cases: [Record<string, unknown>, string, string][] = [
      [
        { from: '2025-06-01', to: '2025-01-01' },
        'from',
        'Invalid range: from (2025-06-01) is after to (2025-01-01).',
      ],
      [{ first: 101 }, 'first', 'Invalid first: it must be between 0 and 100.'],
      [{ after: 'bm9wZQ' }, 'after', 'Invalid cursor: pass an endCursor from a previous page.'],
      [
        {
          after: Buffer.from(
            JSON.stringify(['not a date', '00000000-0000-4000-8000-000000000000']),
          ).toString('base64url'),
        },
        'after',
        'Invalid cursor: pass an endCursor from a previous page.',
      ],
      [
        { channel: 'Amazon' },
        'channel',
        'Invalid channel "Amazon": use lowercase letters, digits and _.',
      ],
    ];
    for (const [args, field, message] of cases) {
      const result = await failure(client, ProductSalesDocument, {
        id,
        from: '2025-01-01',
        to: '2025-12-31',
        ...args,
      });
      expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', message });
      expect(result.errors[0]!.extensions.field).toBe(field);
    }
  });

  test("another tenant's product is null: never its sales", async () => {
    const result = await api.client(beta.key).request(ProductSalesDocument, {
      id: gammaIds['G-1']!,
      from: '2024-01-01',
      to: '2026-12-31',
    });
    expect(result.product).toBeNull();
  });

  test('each product of a page asks for its own page of sales (accepted N+1), correctly', async () => {
    counter.reset();
    const result = await api.client(gamma.readKey).request(ProductsWithSalesDocument, {
      first: 10,
      from: '2024-01-01',
      to: '2026-12-31',
    });
    const edges = result.products.edges;
    expect(edges).toHaveLength(3);
    for (const edge of edges) {
      const expected = gammaSales.filter((row) => row.productId === edge.node.id).sort(byNewest);
      expect(edge.node.sales.totalCount).toBe(expected.length);
      expect(edge.node.sales.edges.map((sale) => sale.node.id)).toEqual(
        expected.slice(0, 2).map((row) => row.id),
      );
    }
    expect(statementsNamed('listProductSales')).toHaveLength(3);
  });
});

describe('salesSummary', () => {
  type Row = SalesSummaryQuery['salesSummary'][number];
  const cents = (money: string) => {
    const [whole, fraction = ''] = money.split('.');
    return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
  };
  const money = (value: number) =>
    `${Math.floor(value / 100)}.${String(value % 100).padStart(2, '0')}`;
  const monday = (date: string) => {
    const day = new Date(`${date}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
    return day.toISOString().slice(0, 10);
  };

  /** The expected summary, computed from the stored rows in integer cents. */
  /** CURRENCY has its own test against the stored rows. */
  type Key = Exclude<SalesGroupBy, 'CURRENCY'>;
  function expectedSummary(
    groupBy: Key[],
    from: string,
    to: string,
    keep: (row: StoredSale) => boolean = () => true,
  ): Row[] {
    const keyOf: Record<Key, (row: StoredSale) => Partial<Row>> = {
      CHANNEL: (row) => ({ channel: row.channel }),
      MARKET: (row) => ({ market: row.market as Row['market'] }),
      MONTH: (row) => ({ month: `${row.saleDate.slice(0, 7)}-01` }),
      WEEK: (row) => ({ week: monday(row.saleDate) }),
      PRODUCT: (row) => ({ productId: row.productId, sku: row.sku, productName: row.name }),
      CATEGORY: (row) => ({ category: row.category }),
    };
    const groups = new Map<string, { key: Row; totals: number[] }>();
    for (const row of gammaSales) {
      if (row.saleDate < from || row.saleDate > to || !keep(row)) continue;
      const key: Row = {
        channel: null,
        market: null,
        month: null,
        week: null,
        productId: null,
        sku: null,
        productName: null,
        category: null,
        quantity: 0,
        revenue: '',
        commission: '',
        netRevenue: '',
        orders: 0,
      };
      for (const name of groupBy) Object.assign(key, keyOf[name](row));
      const id = JSON.stringify(key);
      const group = groups.get(id) ?? { key, totals: [0, 0, 0, 0, 0] };
      const totals = group.totals;
      totals[0]! += row.quantity;
      totals[1]! += cents(row.totalAmount);
      totals[2]! += cents(row.commissionAmount);
      totals[3]! += cents(row.netRevenue);
      totals[4]! += 1;
      groups.set(id, group);
    }
    const sortKey: Record<Key, (row: Row) => string> = {
      CHANNEL: (row) => row.channel!,
      MARKET: (row) => row.market!,
      MONTH: (row) => row.month!,
      WEEK: (row) => row.week!,
      PRODUCT: (row) => row.sku!,
      CATEGORY: (row) => row.category ?? '\uffff', // NULLs last
    };
    return [...groups.values()]
      .map(({ key, totals }) => ({
        ...key,
        quantity: totals[0]!,
        revenue: money(totals[1]!),
        commission: money(totals[2]!),
        netRevenue: money(totals[3]!),
        orders: totals[4]!,
      }))
      .sort((a, b) => {
        for (const name of groupBy) {
          const order =
            sortKey[name](a) < sortKey[name](b) ? -1 : sortKey[name](a) > sortKey[name](b) ? 1 : 0;
          if (order !== 0) return order;
        }
        return 0;
      });
  }

  const groupings: Key[][] = [
    ['CHANNEL'],
    ['MARKET'],
    ['MONTH'],
    ['WEEK'],
    ['PRODUCT'],
    ['CATEGORY'],
    ['MONTH', 'CHANNEL'],
    ['CHANNEL', 'MONTH'],
    ['CATEGORY', 'MARKET'],
    ['PRODUCT', 'WEEK'],
    ['MARKET', 'MONTH', 'PRODUCT', 'CHANNEL'],
  ];

  test.each(groupings.map((groupBy) => [groupBy.join(', '), groupBy] as const))(
    'groupBy [%s] matches sums computed from the inserted rows',
    async (_, groupBy) => {
      const result = await api.client(gamma.readKey).request(SalesSummaryDocument, {
        from: '2025-01-01',
        to: '2025-12-31',
        groupBy,
      });
      const expected = expectedSummary(groupBy, '2025-01-01', '2025-12-31');
      expect(expected.length).toBeGreaterThan(1);
      expect(result.salesSummary).toEqual(expected);
    },
  );

  const filters: [string, SalesSummaryFilter, (row: StoredSale) => boolean][] = [
    ['channel', { channel: 'ebay' }, (row) => row.channel === 'ebay'],
    ['market', { market: 'EU' }, (row) => row.market === 'EU'],
    ['category', { category: 'Rum' }, (row) => row.category === 'Rum'],
    [
      'channel and market',
      { channel: 'shopify', market: 'USA' },
      (row) => row.channel === 'shopify' && row.market === 'USA',
    ],
  ];

  test.each(filters)('filtered by %s', async (_, filter, keep) => {
    const groupBy: Key[] = ['MONTH', 'PRODUCT'];
    const result = await api.client(gamma.readKey).request(SalesSummaryDocument, {
      from: '2024-12-01',
      to: '2025-12-31',
      groupBy,
      filter,
    });
    const expected = expectedSummary(groupBy, '2024-12-01', '2025-12-31', keep);
    expect(expected.length).toBeGreaterThan(0);
    expect(result.salesSummary).toEqual(expected);
  });

  test('filtered by product', async () => {
    const id = gammaIds['G-3']!;
    const result = await api.client(gamma.readKey).request(SalesSummaryDocument, {
      from: '2024-12-01',
      to: '2025-12-31',
      groupBy: ['CATEGORY', 'CHANNEL'],
      filter: { productId: id },
    });
    const expected = expectedSummary(
      ['CATEGORY', 'CHANNEL'],
      '2024-12-01',
      '2025-12-31',
      (row) => row.productId === id,
    );
    expect(result.salesSummary).toEqual(expected);
    // G-3 has no category: the group's category is null.
    expect(result.salesSummary.every((row) => row.category === null)).toBe(true);
  });

  test('grouped or filtered by currency, amounts in different currencies never mix', async () => {
    const stored = await db.pool.any(sql.type(
      z.object({
        currency: z.string(),
        quantity: z.number(),
        revenue: z.string(),
        orders: z.number(),
      }),
    )`
      SELECT currency::text AS currency, sum(quantity)::int AS quantity, sum(total_amount)::text AS revenue,
        count(*)::int AS orders
      FROM ${table(gamma, 'sales')} GROUP BY currency ORDER BY currency`);
    expect(stored.map((row) => row.currency)).toEqual(['EUR', 'GBP']);
    const byCurrency = await api.client(gamma.readKey).request(SalesByCurrencyDocument, {
      from: '2024-01-01',
      to: '2026-12-31',
      groupBy: ['CURRENCY'],
    });
    expect(byCurrency.salesSummary).toEqual(stored.map((row) => ({ ...row, market: null })));
    const eurOnly = await api.client(gamma.readKey).request(SalesByCurrencyDocument, {
      from: '2024-01-01',
      to: '2026-12-31',
      groupBy: ['MARKET'],
      filter: { currency: 'EUR' },
    });
    expect(eurOnly.salesSummary.reduce((sum, row) => sum + row.orders, 0)).toBe(stored[0]!.orders);
    expect(eurOnly.salesSummary.every((row) => row.currency === null)).toBe(true);
  });

  test('weeks start on Monday (ISO) and months on the 1st, across a year end', async () => {
    const result = await api.client(gamma.readKey).request(SalesSummaryDocument, {
      from: '2024-12-28',
      to: '2025-01-05',
      groupBy: ['WEEK', 'MONTH'],
    });
    const sold = gammaSales.filter(
      (row) => row.saleDate >= '2024-12-28' && row.saleDate <= '2025-01-05',
    );
    expect(sold.map((row) => row.saleDate).sort()).toEqual([
      '2024-12-28',
      '2025-01-01',
      '2025-01-05',
    ]);
    // Saturday 28 Dec 2024 is in the week of Monday 23 Dec; 1 and 5 Jan 2025 in that of 30 Dec.
    expect(result.salesSummary.map((row) => [row.week, row.month, row.orders])).toEqual([
      ['2024-12-23', '2024-12-01', 1],
      ['2024-12-30', '2025-01-01', 2],
    ]);
  });

  test('empty when nothing was sold in the range', async () => {
    const result = await api.client(gamma.readKey).request(SalesSummaryDocument, {
      from: '2020-01-01',
      to: '2020-12-31',
      groupBy: ['CHANNEL'],
    });
    expect(result.salesSummary).toEqual([]);
  });

  test('a range of 3 years is the most: to must be before the same day 3 years later', async () => {
    const client = api.client(gamma.readKey);
    const ok = await client.request(SalesSummaryDocument, {
      from: '2023-01-01',
      to: '2025-12-31',
      groupBy: ['MARKET'],
    });
    expect(ok.salesSummary).toEqual(expectedSummary(['MARKET'], '2023-01-01', '2025-12-31'));
    const result = await failure(client, SalesSummaryDocument, {
      from: '2023-01-01',
      to: '2026-01-01',
      groupBy: ['MARKET'],
    });
    expect(firstError(result)).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'Invalid range: at most 3 years, so to must be before 2026-01-01.',
    });
    expect(result.errors[0]!.extensions.field).toBe('to');
  });

  test('bad arguments → BAD_USER_INPUT', async () => {
    const client = api.client(gamma.readKey);
    const cases: [Partial<SalesSummaryQueryVariables>, string, string][] = [
      [{ groupBy: [] }, 'groupBy', 'groupBy must have 1 to 4 keys (got 0).'],
      [
        { groupBy: ['CHANNEL', 'MARKET', 'MONTH', 'WEEK', 'PRODUCT'] },
        'groupBy',
        'groupBy must have 1 to 4 keys (got 5).',
      ],
      [
        { groupBy: ['MONTH', 'CHANNEL', 'MONTH'] },
        'groupBy',
        'groupBy must not repeat a key: MONTH is given twice.',
      ],
      [
        { from: '2025-02-01', to: '2025-01-01' },
        'from',
        'Invalid range: from (2025-02-01) is after to (2025-01-01).',
      ],
      [
        { filter: { channel: 'Not A Channel' } },
        'channel',
        'Invalid channel "Not A Channel": use lowercase letters, digits and _.',
      ],
    ];
    for (const [args, field, message] of cases) {
      const result = await failure(client, SalesSummaryDocument, {
        from: '2025-01-01',
        to: '2025-12-31',
        groupBy: ['CHANNEL'],
        ...args,
      });
      expect(firstError(result)).toMatchObject({ code: 'BAD_USER_INPUT', message });
      expect(result.errors[0]!.extensions.field).toBe(field);
    }
  });

  test("another tenant's product as a filter → NOT_FOUND, never its numbers", async () => {
    for (const productId of [betaIds['B-1']!, 'not-a-uuid']) {
      const result = await failure(api.client(gamma.readKey), SalesSummaryDocument, {
        from: '2025-01-01',
        to: '2025-12-31',
        groupBy: ['PRODUCT'],
        filter: { productId },
      });
      expect(firstError(result)).toMatchObject({
        code: 'NOT_FOUND',
        message: `No product ${productId}.`,
      });
      expect(result.errors[0]!.extensions.field).toBe('filter.productId');
    }
  });

  test('each tenant sees only its own sales', async () => {
    const gammaResult = await api.client(gamma.readKey).request(SalesSummaryDocument, {
      from: '2025-03-01',
      to: '2025-03-31',
      groupBy: ['PRODUCT'],
    });
    expect(gammaResult.salesSummary.map((row) => row.sku)).toEqual(['G-1', 'G-2', 'G-3']);
    expect(gammaResult.salesSummary).toEqual(
      expectedSummary(['PRODUCT'], '2025-03-01', '2025-03-31'),
    );
    const betaResult = await api.client(beta.readKey).request(SalesSummaryDocument, {
      from: '2025-03-01',
      to: '2025-03-31',
      groupBy: ['PRODUCT'],
    });
    expect(betaResult.salesSummary).toEqual([
      expect.objectContaining({ sku: 'B-1', quantity: 500, revenue: '49995.00', orders: 1 }),
    ]);
  });
});
