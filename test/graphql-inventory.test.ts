import { ClientError } from 'graphql-request';
import { sql } from 'slonik';
import {
  AdjustInventoryDocument,
  InventoryAlertsDocument,
  ProductStockDocument,
  ReceiveThenReserveDocument,
  type InventoryAdjustment,
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
let betaProduct: string;
const counter = statementCounter();

const table = (tenant: TenantWithKeys, name: string) => sql.identifier([tenant.schemaName, name]);

type ProductSeed = {
  sku: string;
  reorderPoint?: number;
  reorderQuantity?: number;
  safetyStock?: number;
  isActive?: boolean;
};

async function addProduct(tenant: TenantWithKeys, seed: ProductSeed): Promise<string> {
  return (await db.pool.oneFirst(sql.unsafe`
    INSERT INTO ${table(tenant, 'products')}
      (company_id, sku, name, reorder_point, reorder_quantity, safety_stock, is_active)
    VALUES (${tenant.companyId}, ${seed.sku}, ${`Product ${seed.sku}`}, ${seed.reorderPoint ?? 0},
      ${seed.reorderQuantity ?? 0}, ${seed.safetyStock ?? 0}, ${seed.isActive ?? true})
    RETURNING id`)) as string;
}

async function setStock(
  tenant: TenantWithKeys,
  productId: string,
  location: string,
  onHand: number,
  reserved: number,
) {
  await db.pool.query(sql.unsafe`
    INSERT INTO ${table(tenant, 'inventory')} (company_id, product_id, location, quantity_on_hand, quantity_reserved)
    VALUES (${tenant.companyId}, ${productId}, ${location}, ${onHand}, ${reserved})
    ON CONFLICT (product_id, location) DO UPDATE
      SET quantity_on_hand = EXCLUDED.quantity_on_hand, quantity_reserved = EXCLUDED.quantity_reserved`);
}

/** Every inventory row of a tenant, exactly as stored (updated_at included). */
const inventorySnapshot = (tenant: TenantWithKeys) =>
  db.pool.any(sql.unsafe`
    SELECT product_id, location, quantity_on_hand, quantity_reserved, quantity_available,
      last_counted_at, last_received_at, updated_at
    FROM ${table(tenant, 'inventory')} ORDER BY product_id, location`);

const stockAt = (tenant: TenantWithKeys, productId: string, location: string) =>
  db.pool.maybeOne(sql.unsafe`
    SELECT quantity_on_hand AS "onHand", quantity_reserved AS reserved, quantity_available AS available
    FROM ${table(tenant, 'inventory')} WHERE product_id = ${productId} AND location = ${location}`);

const adjust = (
  key: string,
  productId: string,
  location: string,
  kind: InventoryAdjustment,
  quantity: number,
) =>
  api
    .client(key)
    .request(AdjustInventoryDocument, { productId, location, kind, quantity })
    .then((result) => result.adjustInventory);

const refuse = async (
  key: string,
  productId: string,
  location: string,
  kind: InventoryAdjustment,
  quantity: number,
) =>
  firstError(
    await failure(api.client(key), AdjustInventoryDocument, {
      productId,
      location,
      kind,
      quantity,
    }),
  );

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  betaProduct = await addProduct(beta, { sku: 'BETA-1', reorderPoint: 50 });
  await setStock(beta, betaProduct, 'warehouse_uk', 30, 4);
  api = await startApi(db, { pool: await db.openPool({ interceptors: [counter.interceptor] }) });
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('adjustInventory', () => {
  test('RECEIVE creates the row on first use, then adds; it stamps lastReceivedAt', async () => {
    const id = await addProduct(acme, { sku: 'RCV-1' });
    const before = Date.now();
    const first = await adjust(acme.key, id, 'warehouse_uk', 'RECEIVE', 40);
    expect(first).toMatchObject({
      location: 'warehouse_uk',
      onHand: 40,
      reserved: 0,
      available: 40,
      lastCountedAt: null,
    });
    expect(Date.parse(first.lastReceivedAt!)).toBeGreaterThanOrEqual(before - 1000);
    const second = await adjust(acme.key, id, 'warehouse_uk', 'RECEIVE', 2);
    expect(second).toMatchObject({ onHand: 42, reserved: 0, available: 42 });
    // Another location is another row.
    await adjust(acme.key, id, 'fba_usa', 'RECEIVE', 5);
    const stock = await api.client(acme.readKey).request(ProductStockDocument, { id });
    expect(stock.product?.inventory.map((level) => [level.location, level.onHand])).toEqual([
      ['fba_usa', 5],
      ['warehouse_uk', 42],
    ]);
    expect(stock.product?.stock).toEqual({ onHand: 47, reserved: 0, available: 47 });
  });

  test('RESERVE, RELEASE, SHIP and COUNT move the right figures', async () => {
    const id = await addProduct(acme, { sku: 'FLOW-1' });
    await adjust(acme.key, id, 'warehouse_uk', 'RECEIVE', 20);
    expect(await adjust(acme.key, id, 'warehouse_uk', 'RESERVE', 8)).toMatchObject({
      onHand: 20,
      reserved: 8,
      available: 12,
    });
    expect(await adjust(acme.key, id, 'warehouse_uk', 'RELEASE', 3)).toMatchObject({
      onHand: 20,
      reserved: 5,
      available: 15,
    });
    expect(await adjust(acme.key, id, 'warehouse_uk', 'SHIP', 5)).toMatchObject({
      onHand: 15,
      reserved: 0,
      available: 15,
    });
    // Reserve all that is available, then ship exactly what is reserved.
    expect(await adjust(acme.key, id, 'warehouse_uk', 'RESERVE', 15)).toMatchObject({
      reserved: 15,
      available: 0,
    });
    expect(await adjust(acme.key, id, 'warehouse_uk', 'SHIP', 15)).toMatchObject({
      onHand: 0,
      reserved: 0,
      available: 0,
    });
    const counted = await adjust(acme.key, id, 'warehouse_uk', 'COUNT', 9);
    expect(counted).toMatchObject({ onHand: 9, reserved: 0, available: 9 });
    expect(counted.lastCountedAt).not.toBeNull();
    expect(counted.lastReceivedAt).not.toBeNull();
    // A count to 0 is allowed while nothing is reserved; a count equal to the reserved stock too.
    expect(await adjust(acme.key, id, 'warehouse_uk', 'COUNT', 0)).toMatchObject({ onHand: 0 });
    await adjust(acme.key, id, 'warehouse_uk', 'RECEIVE', 6);
    await adjust(acme.key, id, 'warehouse_uk', 'RESERVE', 4);
    expect(await adjust(acme.key, id, 'warehouse_uk', 'COUNT', 4)).toMatchObject({
      onHand: 4,
      reserved: 4,
      available: 0,
    });
  });

  test('COUNT creates the row at a new location and stamps lastCountedAt only', async () => {
    const id = await addProduct(acme, { sku: 'CNT-1' });
    const counted = await adjust(acme.key, id, 'amazon_eu_3', 'COUNT', 17);
    expect(counted).toMatchObject({
      location: 'amazon_eu_3',
      onHand: 17,
      reserved: 0,
      available: 17,
      lastReceivedAt: null,
    });
    expect(counted.lastCountedAt).not.toBeNull();
  });

  test('each adjustment is one SQL statement', async () => {
    const id = await addProduct(acme, { sku: 'ONE-1' });
    await adjust(acme.key, id, 'warehouse_uk', 'RECEIVE', 3);
    for (const kind of ['RECEIVE', 'RESERVE', 'RELEASE', 'COUNT', 'RESERVE', 'SHIP'] as const) {
      counter.reset();
      await adjust(acme.key, id, 'warehouse_uk', kind, 1);
      const names = counter.statements
        .filter((statement) => !/findApiKeysByHash|refreshApiKeys|recordApiKeyUse/.test(statement))
        .map((statement) => /\/\* (\w+) \*\//.exec(statement)?.[1]);
      expect(names).toEqual(['enterTenant', `${kind.toLowerCase()}Inventory`]);
    }
  });

  describe('refusals are BAD_USER_INPUT, say why, and change nothing', () => {
    let id: string;
    beforeAll(async () => {
      id = await addProduct(acme, { sku: 'REF-1' });
      await setStock(acme, id, 'warehouse_uk', 8, 3); // 5 available
    });

    test.each<[InventoryAdjustment, string, number, string, string]>([
      [
        'RESERVE',
        'warehouse_uk',
        12,
        'Cannot reserve 12 at warehouse_uk: only 5 available.',
        'quantity',
      ],
      [
        'RESERVE',
        'warehouse_uk',
        6,
        'Cannot reserve 6 at warehouse_uk: only 5 available.',
        'quantity',
      ],
      [
        'RELEASE',
        'warehouse_uk',
        4,
        'Cannot release 4 at warehouse_uk: only 3 reserved.',
        'quantity',
      ],
      ['SHIP', 'warehouse_uk', 4, 'Cannot ship 4 at warehouse_uk: only 3 reserved.', 'quantity'],
      [
        'COUNT',
        'warehouse_uk',
        2,
        'Cannot count 2 at warehouse_uk: 3 are reserved there.',
        'quantity',
      ],
      [
        'RECEIVE',
        'warehouse_uk',
        2147483647,
        'Cannot receive 2147483647 at warehouse_uk: 8 are on hand and stock cannot exceed 2147483647.',
        'quantity',
      ],
      [
        'RESERVE',
        'fba_usa',
        1,
        'No stock of this product at fba_usa: receive or count it there first.',
        'location',
      ],
      [
        'RELEASE',
        'fba_usa',
        1,
        'No stock of this product at fba_usa: receive or count it there first.',
        'location',
      ],
      [
        'SHIP',
        'fba_usa',
        1,
        'No stock of this product at fba_usa: receive or count it there first.',
        'location',
      ],
      [
        'RECEIVE',
        'warehouse_uk',
        0,
        'Invalid quantity: receive needs a quantity of 1 or more.',
        'quantity',
      ],
      [
        'RESERVE',
        'warehouse_uk',
        -1,
        'Invalid quantity: reserve needs a quantity of 1 or more.',
        'quantity',
      ],
      [
        'SHIP',
        'warehouse_uk',
        0,
        'Invalid quantity: ship needs a quantity of 1 or more.',
        'quantity',
      ],
      ['COUNT', 'warehouse_uk', -1, 'Invalid quantity: a count must be 0 or more.', 'quantity'],
      [
        'RECEIVE',
        'Warehouse UK',
        1,
        'Invalid location "Warehouse UK": use 1 to 100 lowercase letters, digits and _.',
        'location',
      ],
      [
        'RECEIVE',
        '',
        1,
        'Invalid location "": use 1 to 100 lowercase letters, digits and _.',
        'location',
      ],
      [
        'COUNT',
        'x'.repeat(101),
        1,
        `Invalid location "${'x'.repeat(101)}": use 1 to 100 lowercase letters, digits and _.`,
        'location',
      ],
    ])('%s at %s of %d', async (kind, location, quantity, message, field) => {
      const before = await inventorySnapshot(acme);
      const result = await failure(api.client(acme.key), AdjustInventoryDocument, {
        productId: id,
        location,
        kind,
        quantity,
      });
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatchObject({
        message,
        extensions: { code: 'BAD_USER_INPUT', field },
      });
      expect(await inventorySnapshot(acme)).toEqual(before);
      expect(await stockAt(acme, id, 'warehouse_uk')).toEqual({
        onHand: 8,
        reserved: 3,
        available: 5,
      });
    });

    test('a refused adjustment rolls back the whole mutation, earlier fields included', async () => {
      const before = await inventorySnapshot(acme);
      const result = await failure(api.client(acme.key), ReceiveThenReserveDocument, {
        productId: id,
        location: 'warehouse_uk',
        receive: 10,
        reserve: 16, // 5 + 10 = 15 available after the receipt
      });
      expect(firstError(result)).toMatchObject({
        code: 'BAD_USER_INPUT',
        message: 'Cannot reserve 16 at warehouse_uk: only 15 available.',
      });
      expect(await inventorySnapshot(acme)).toEqual(before);
    });

    test('a read-only key is FORBIDDEN and changes nothing', async () => {
      const before = await inventorySnapshot(acme);
      expect(await refuse(acme.readKey, id, 'warehouse_uk', 'RECEIVE', 1)).toEqual({
        status: 403,
        code: 'FORBIDDEN',
        message: 'This API key is read-only: adjustInventory needs the write scope.',
      });
      expect(await inventorySnapshot(acme)).toEqual(before);
    });
  });

  test('20 concurrent RESERVE of 1 against 10 available: exactly 10 succeed, none goes negative', async () => {
    const id = await addProduct(acme, { sku: 'RACE-1' });
    await setStock(acme, id, 'warehouse_uk', 10, 0);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => adjust(acme.key, id, 'warehouse_uk', 'RESERVE', 1)),
    );
    const levels = outcomes.flatMap((outcome) =>
      outcome.status === 'fulfilled' ? [outcome.value] : [],
    );
    const errors = outcomes.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as unknown] : [],
    );
    expect(levels).toHaveLength(10);
    expect(errors).toHaveLength(10);
    // Each success saw its own reservation count, 1 through 10, and never a negative available.
    expect(levels.map((level) => level.reserved).sort((x, y) => x - y)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    expect(levels.every((level) => level.available >= 0)).toBe(true);
    for (const error of errors) {
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).response.errors?.[0]).toMatchObject({
        message: 'Cannot reserve 1 at warehouse_uk: only 0 available.',
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    expect(await stockAt(acme, id, 'warehouse_uk')).toEqual({
      onHand: 10,
      reserved: 10,
      available: 0,
    });
  });

  describe("another tenant's product", () => {
    test.each<InventoryAdjustment>(['RECEIVE', 'RESERVE', 'RELEASE', 'SHIP', 'COUNT'])(
      '%s is NOT_FOUND and writes nothing in either tenant',
      async (kind) => {
        const acmeBefore = await inventorySnapshot(acme);
        const betaBefore = await inventorySnapshot(beta);
        for (const [productId, location] of [
          [betaProduct, 'warehouse_uk'], // where beta has stock
          [betaProduct, 'new_place'],
          ['00000000-0000-4000-8000-000000000000', 'warehouse_uk'],
          ['not-a-uuid', 'warehouse_uk'],
        ] as const) {
          const result = await failure(api.client(acme.key), AdjustInventoryDocument, {
            productId,
            location,
            kind,
            quantity: 1,
          });
          expect(result.errors).toHaveLength(1);
          expect(result.errors[0]).toMatchObject({
            message: `No product ${productId}.`,
            extensions: { code: 'NOT_FOUND', field: 'productId' },
          });
        }
        expect(await inventorySnapshot(acme)).toEqual(acmeBefore);
        expect(await inventorySnapshot(beta)).toEqual(betaBefore);
      },
    );
  });
});

describe('inventoryAlerts', () => {
  let gamma: TenantWithKeys;
  beforeAll(async () => {
    gamma = await tenantWithKeys(db, 'gamma');
    // available 20 (15 + 5) < 50: shortfall 30, suggested max(100, 50 + 10 - 20) = 100
    const a = await addProduct(gamma, {
      sku: 'G-A',
      reorderPoint: 50,
      reorderQuantity: 100,
      safetyStock: 10,
    });
    await setStock(gamma, a, 'warehouse_uk', 18, 3);
    await setStock(gamma, a, 'fba_usa', 5, 0);
    // available 10 < 100: shortfall 90, suggested max(20, 100 + 30 - 10) = 120
    const b = await addProduct(gamma, {
      sku: 'G-B',
      reorderPoint: 100,
      reorderQuantity: 20,
      safetyStock: 30,
    });
    await setStock(gamma, b, 'warehouse_uk', 10, 0);
    // no stock row at all: available 0 < 40, shortfall 40, suggested max(0, 40 + 5 - 0) = 45
    await addProduct(gamma, { sku: 'G-F', reorderPoint: 40, safetyStock: 5 });
    // same shortfall 40 (available 0 after reservations), earlier SKU: listed first
    const c = await addProduct(gamma, { sku: 'G-C', reorderPoint: 40, reorderQuantity: 60 });
    await setStock(gamma, c, 'warehouse_uk', 7, 7);
    // exactly at the reorder point: no alert
    const d = await addProduct(gamma, { sku: 'G-D', reorderPoint: 30, reorderQuantity: 5 });
    await setStock(gamma, d, 'warehouse_uk', 30, 0);
    // inactive: no alert even with no stock
    await addProduct(gamma, { sku: 'G-E', reorderPoint: 100, isActive: false });
    // reorder point 0: never an alert
    await addProduct(gamma, { sku: 'G-Z' });
  });

  test('active products below their reorder point, largest shortfall first, then SKU', async () => {
    counter.reset();
    const { inventoryAlerts } = await api.client(gamma.readKey).request(InventoryAlertsDocument);
    expect(
      inventoryAlerts.map((alert) => ({
        sku: alert.product.sku,
        available: alert.available,
        reorderPoint: alert.reorderPoint,
        suggested: alert.suggestedOrderQuantity,
        stock: alert.product.stock.available,
      })),
    ).toEqual([
      { sku: 'G-B', available: 10, reorderPoint: 100, suggested: 120, stock: 10 },
      { sku: 'G-C', available: 0, reorderPoint: 40, suggested: 60, stock: 0 },
      { sku: 'G-F', available: 0, reorderPoint: 40, suggested: 45, stock: 0 },
      { sku: 'G-A', available: 20, reorderPoint: 50, suggested: 100, stock: 20 },
    ]);
    // One statement for the alerts, one batch for the nested stock of every product.
    const names = counter.statements
      .filter((statement) => !/findApiKeysByHash|refreshApiKeys|recordApiKeyUse/.test(statement))
      .map((statement) => /\/\* (\w+) \*\//.exec(statement)?.[1]);
    expect(names).toEqual(['enterTenant', 'inventoryAlerts', 'inventoryByProductIds']);
  });

  test('an adjustment moves a product in and out of the alerts', async () => {
    const client = api.client(gamma.readKey);
    const skus = async () =>
      (await client.request(InventoryAlertsDocument)).inventoryAlerts.map(
        (alert) => alert.product.sku,
      );
    const productId = (await db.pool.oneFirst(
      sql.unsafe`SELECT id FROM ${table(gamma, 'products')} WHERE sku = 'G-D'`,
    )) as string;
    await adjust(gamma.key, productId, 'warehouse_uk', 'RESERVE', 1);
    expect(await skus()).toEqual(['G-B', 'G-C', 'G-F', 'G-A', 'G-D']);
    await adjust(gamma.key, productId, 'warehouse_uk', 'RELEASE', 1);
    expect(await skus()).toEqual(['G-B', 'G-C', 'G-F', 'G-A']);
  });

  test("each tenant sees only its own alerts, never another tenant's products", async () => {
    const betaAlerts = (await api.client(beta.readKey).request(InventoryAlertsDocument))
      .inventoryAlerts;
    expect(betaAlerts.map((alert) => [alert.product.id, alert.available])).toEqual([
      [betaProduct, 26],
    ]);
    const acmeAlerts = (await api.client(acme.readKey).request(InventoryAlertsDocument))
      .inventoryAlerts;
    expect(acmeAlerts.map((alert) => alert.product.sku)).not.toContain('BETA-1');
    expect(acmeAlerts.every((alert) => !alert.product.sku.startsWith('G-'))).toBe(true);
  });
});
