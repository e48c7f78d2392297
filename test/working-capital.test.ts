/**
 * Working capital computed from a tenant's own data, checked against figures worked out by hand
 * below for a small tenant: three products, sales over channels with different payment terms (and
 * one in USD), receipts and a count logged through adjustInventory, stock with no history. Also:
 * entered metrics overriding the balances they name, materialisation that replaces only DERIVED
 * rows, the trend's period-over-period change, payment terms (defaults, roles, audit), a tenant
 * with no sales, another tenant's data never counted, and bad input refused with nothing written.
 */
import { sql } from 'slonik';
import { z } from 'zod';
import { divideScaled, formatScaled, toCents } from '../src/analytics/decimal.js';
import { DEFAULT_PAYMENT_TERMS, paymentTermsOf } from '../src/data/payment-terms.js';
import { migrate, rollback } from '../src/db/migrations/runner.js';
import { ensureDemoTenant, issueDemoKey } from '../src/demo/demo-tenant.js';
import {
  AdjustInventoryDocument,
  ComputeWorkingCapitalMetricsDocument,
  PaymentTermsDocument,
  UpdatePaymentTermsDocument,
  UpsertWorkingCapitalMetricsDocument,
  WorkingCapitalDocument,
  WorkingCapitalTrendDocument,
  type PaymentTermsInput,
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
const counter = statementCounter();

const table = (tenant: TenantWithKeys, name: string) => sql.identifier([tenant.schemaName, name]);
const Id = z.object({ id: z.string() });
const Count = z.object({ count: z.number() });

let skuCounter = 0;
async function addProduct(tenant: TenantWithKeys, unitCost: string): Promise<string> {
  skuCounter += 1;
  return db.pool.oneFirst(sql.type(Id)`
    INSERT INTO ${table(tenant, 'products')} (company_id, sku, name, unit_cost, unit_price)
    VALUES (${tenant.companyId}, ${`WC-${skuCounter}`}, ${`Product ${skuCounter}`}, ${unitCost}, 10)
    RETURNING id`);
}

type Sale = {
  productId: string;
  date: string;
  channel: string;
  quantity: number;
  total: string;
  commission?: string;
  currency?: string;
};

async function addSale(tenant: TenantWithKeys, sale: Sale) {
  await db.pool.query(sql.unsafe`
    INSERT INTO ${table(tenant, 'sales')} (company_id, product_id, sale_date, quantity, unit_price,
      total_amount, commission_amount, channel, market, currency)
    VALUES (${tenant.companyId}, ${sale.productId}, ${sale.date}, ${sale.quantity},
      ${sale.total}::numeric / ${sale.quantity}, ${sale.total}, ${sale.commission ?? '0'},
      ${sale.channel}, 'UK', ${sale.currency ?? 'GBP'})`);
}

/** An adjustment through the API, then dated `on` in its history (the API dates it today). */
async function adjust(
  tenant: TenantWithKeys,
  productId: string,
  kind: 'RECEIVE' | 'COUNT',
  quantity: number,
  on: string,
) {
  await api
    .client(tenant.key)
    .request(AdjustInventoryDocument, { productId, location: 'main', kind, quantity });
  await db.pool.query(sql.unsafe`
    UPDATE ${table(tenant, 'inventory_adjustments')} SET adjusted_on = ${on}
    WHERE id = (SELECT id FROM ${table(tenant, 'inventory_adjustments')}
                ORDER BY created_at DESC LIMIT 1)`);
}

const TERMS: PaymentTermsInput = {
  defaultCustomerDays: 30,
  customerDays: [
    { channel: 'wholesale', days: 60 },
    { channel: 'amazon_uk', days: 14 },
  ],
  supplierDays: 45,
};

/**
 * The small tenant. Products A (cost 4.00), B (10.00), C (2.50). Terms: amazon_uk 14 days,
 * wholesale 60, any other channel 30 (amazon_usa, etsy), suppliers 45.
 *
 * Sales (GBP unless said):             due          at 2026-05-31   at 2026-06-30
 *   8. A amazon_uk 05-31  1 x   10.00   06-14        unpaid           paid
 *   3. B wholesale 05-15 20 x  500.00   07-14        unpaid           unpaid
 *   1. A amazon_uk 06-10 10 x  100.00 (commission 15.00)  06-24       paid
 *   2. A amazon_uk 06-20  5 x   50.00 (commission 7.50)   07-04       unpaid
 *   4. B wholesale 06-05  8 x  200.00   08-04                         unpaid
 *   5. A etsy      06-25  2 x   20.00   07-25                         unpaid
 *   6. A amazon_usa 06-15 3 x   45.00 USD (07-15)                     unpaid (USD)
 *   7. B wholesale 07-02  1 x   25.00   after both dates
 *
 * Stock at main: A RECEIVE 100 on 06-01, COUNT 70 on 07-05 (-30): now 70, 100 at 06-30, 0 at
 * 05-31. B RECEIVE 5 on 05-01, 50 on 05-20, 10 on 07-03: now 65, 55 at both dates. C: 40 units
 * with no history (valued as now at any date). Receipts paid 45 days on: 05-01 paid by 06-15.
 */
async function buildSmallTenant(tenant: TenantWithKeys) {
  await api.client(tenant.session('owner')).request(UpdatePaymentTermsDocument, { input: TERMS });
  const a = await addProduct(tenant, '4.00');
  const b = await addProduct(tenant, '10.00');
  const c = await addProduct(tenant, '2.50');
  const sales: Sale[] = [
    { productId: a, date: '2026-05-31', channel: 'amazon_uk', quantity: 1, total: '10.00' },
    { productId: b, date: '2026-05-15', channel: 'wholesale', quantity: 20, total: '500.00' },
    {
      productId: a,
      date: '2026-06-10',
      channel: 'amazon_uk',
      quantity: 10,
      total: '100.00',
      commission: '15.00',
    },
    {
      productId: a,
      date: '2026-06-20',
      channel: 'amazon_uk',
      quantity: 5,
      total: '50.00',
      commission: '7.50',
    },
    { productId: b, date: '2026-06-05', channel: 'wholesale', quantity: 8, total: '200.00' },
    { productId: a, date: '2026-06-25', channel: 'etsy', quantity: 2, total: '20.00' },
    {
      productId: a,
      date: '2026-06-15',
      channel: 'amazon_usa',
      quantity: 3,
      total: '45.00',
      currency: 'USD',
    },
    { productId: b, date: '2026-07-02', channel: 'wholesale', quantity: 1, total: '25.00' },
  ];
  for (const sale of sales) await addSale(tenant, sale);
  await adjust(tenant, a, 'RECEIVE', 100, '2026-06-01');
  await adjust(tenant, a, 'COUNT', 70, '2026-07-05');
  await adjust(tenant, b, 'RECEIVE', 5, '2026-05-01');
  await adjust(tenant, b, 'RECEIVE', 50, '2026-05-20');
  await adjust(tenant, b, 'RECEIVE', 10, '2026-07-03');
  await db.pool.query(sql.unsafe`
    INSERT INTO ${table(tenant, 'inventory')} (company_id, product_id, location, quantity_on_hand)
    VALUES (${tenant.companyId}, ${c}, 'main', 40)`);
  return { a, b, c };
}

const DERIVED_ONLY = [
  'revenue',
  'netRevenue',
  'costOfGoodsSold',
  'inventory',
  'accountsReceivable',
  'accountsPayable',
  'cash',
  'otherCurrentAssets',
  'shortTermDebt',
  'otherCurrentLiabilities',
].map((field) => ({ field, source: 'DERIVED' }));

let acme: TenantWithKeys;
let beta: TenantWithKeys;
let gamma: TenantWithKeys;
let empty: TenantWithKeys;
let acmeProducts: { a: string; b: string; c: string };

beforeAll(async () => {
  db = await createTestDatabase();
  api = await startApi(db, { pool: await db.openPool({ interceptors: [counter.interceptor] }) });
  // beta first, with far bigger figures on the same dates: none may reach acme's.
  beta = await tenantWithKeys(db, 'wc-beta');
  const big = await addProduct(beta, '900.00');
  await addSale(beta, {
    productId: big,
    date: '2026-06-15',
    channel: 'wholesale',
    quantity: 50,
    total: '99999.00',
  });
  acme = await tenantWithKeys(db, 'wc-acme');
  acmeProducts = await buildSmallTenant(acme);
  gamma = await tenantWithKeys(db, 'wc-gamma');
  await buildSmallTenant(gamma);
  empty = await tenantWithKeys(db, 'wc-empty');
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

test('exact decimals: half away from zero, either sign, never a float', () => {
  expect(toCents('1234.5')).toBe(123450n);
  expect(toCents('-0.125')).toBe(-13n);
  expect(toCents('0.004')).toBe(0n);
  expect(formatScaled(divideScaled(1050n * 30n, 160n, 2), 2)).toBe('196.88'); // 196.875
  expect(formatScaled(divideScaled(-1n, 8n, 2), 2)).toBe('-0.13'); // -0.125
  expect(formatScaled(divideScaled(5n, 0n, 4), 4)).toBe('0.0000');
  expect(formatScaled(7n, 2)).toBe('0.07');
});

describe('workingCapital from the tenant data', () => {
  test('adjustInventory keeps every adjustment with its change to on-hand stock', async () => {
    const history = await db.pool.any(sql.type(
      z.object({ kind: z.string(), quantity: z.number(), on_hand_change: z.number() }),
    )`
      SELECT kind, quantity, on_hand_change FROM ${table(acme, 'inventory_adjustments')}
      ORDER BY created_at`);
    expect(history).toEqual([
      { kind: 'RECEIVE', quantity: 100, on_hand_change: 100 },
      { kind: 'COUNT', quantity: 70, on_hand_change: -30 },
      { kind: 'RECEIVE', quantity: 5, on_hand_change: 5 },
      { kind: 'RECEIVE', quantity: 50, on_hand_change: 50 },
      { kind: 'RECEIVE', quantity: 10, on_hand_change: 10 },
    ]);
  });

  test('every figure as at 2026-06-30 over 30 days, as worked out by hand', async () => {
    const { workingCapital } = await api
      .client(acme.readKey)
      .request(WorkingCapitalDocument, { asOf: '2026-06-30', windowDays: 30 });
    // Window (05-31, 06-30]: GBP sales 1, 2, 4, 5.
    const revenue = 100 + 50 + 200 + 20; // 370
    const netRevenue = revenue - 15 - 7.5; // 347.50
    // Cost of every unit sold in the window, the USD sale's 3 units included: 10+5+2+3 of A, 8 of B.
    const cogs = (10 + 5 + 2 + 3) * 4 + 8 * 10; // 160
    const receivables = 50 + 500 + 200 + 20; // sales 2, 3, 4, 5: 770
    const inventory = 100 * 4 + 55 * 10 + 40 * 2.5; // 1050
    const payables = 100 * 4 + 50 * 10; // receipts of 06-01 and 05-20: 900
    const days = 30;
    const dso = Math.round(((receivables * days) / revenue) * 100) / 100; // 62.43
    const dio = 196.88; // 1050 x 30 / 160 = 196.875, half away from zero
    const dpo = (payables * days) / cogs; // 168.75
    expect({ dso, dpo }).toEqual({ dso: 62.43, dpo: 168.75 });
    expect((inventory * days) / cogs).toBe(196.875);
    expect(workingCapital).toEqual({
      asOf: '2026-06-30',
      windowDays: 30,
      currency: 'GBP',
      revenue: revenue.toFixed(2),
      netRevenue: netRevenue.toFixed(2),
      costOfGoodsSold: cogs.toFixed(2),
      inventory: inventory.toFixed(2),
      accountsReceivable: receivables.toFixed(2),
      accountsPayable: payables.toFixed(2),
      cash: '0.00',
      otherCurrentAssets: '0.00',
      shortTermDebt: '0.00',
      otherCurrentLiabilities: '0.00',
      totalCurrentAssets: (receivables + inventory).toFixed(2), // 1820
      totalCurrentLiabilities: payables.toFixed(2),
      workingCapital: (receivables + inventory - payables).toFixed(2), // 920
      daysSalesOutstanding: '62.43',
      daysInventoryOutstanding: '196.88',
      daysPayablesOutstanding: '168.75',
      cashConversionCycle: (dso + dio - dpo).toFixed(2), // 90.56
      currentRatio: '2.0222', // 1820 / 900 = 2.02222
      quickRatio: '0.8556', // 770 / 900 = 0.85556
      sources: DERIVED_ONLY,
      dataWarnings: [
        "Sales in USD are not in this GBP snapshot's revenue or receivables: ask for each currency.",
        'Inventory is valued as now, not as at 2026-06-30, for 1 stock row(s) whose adjustment history does not reach back that far.',
        'No entered metrics cover this date: cash, other current assets, short-term debt and other current liabilities are 0.',
      ],
    });
    expect(dso + dio - dpo).toBeCloseTo(90.56, 10);
  });

  test('in USD: only the USD sale, never added to GBP; costs stay in the company currency', async () => {
    const { workingCapital } = await api
      .client(acme.readKey)
      .request(WorkingCapitalDocument, { asOf: '2026-06-30', windowDays: 30, currency: 'USD' });
    expect(workingCapital).toMatchObject({
      currency: 'USD',
      revenue: '45.00',
      netRevenue: '45.00',
      // amazon_usa is not named in the terms: 30 days, due 07-15.
      accountsReceivable: '45.00',
      costOfGoodsSold: '0.00',
      inventory: '0.00',
      accountsPayable: '0.00',
      daysSalesOutstanding: '30.00', // 45 x 30 / 45
      daysInventoryOutstanding: '0.00',
      daysPayablesOutstanding: '0.00',
      cashConversionCycle: '30.00',
      workingCapital: '45.00',
      currentRatio: '0.0000',
    });
    expect(workingCapital.dataWarnings).toContain(
      "Unit costs are in GBP, the company's currency: cost of goods sold, inventory and payables are 0 in a USD snapshot.",
    );
    expect(workingCapital.dataWarnings).toContain(
      'Current and quick ratios are 0: there are no current liabilities.',
    );
  });

  test('as at 2026-05-31 over 31 days: stock and payables from the history of that day', async () => {
    const { workingCapital } = await api
      .client(acme.readKey)
      .request(WorkingCapitalDocument, { asOf: '2026-05-31', windowDays: 31 });
    // Window (04-30, 05-31]: sales 3 and 8. A had no stock yet; B 55; C as now.
    expect(workingCapital).toMatchObject({
      revenue: '510.00',
      costOfGoodsSold: '204.00', // 20 x 10 + 1 x 4
      accountsReceivable: '510.00', // both unpaid on 05-31
      inventory: '650.00', // 0 x 4 + 55 x 10 + 40 x 2.5
      accountsPayable: '550.00', // receipts of 05-01 (due 06-15) and 05-20
      daysSalesOutstanding: '31.00',
      daysInventoryOutstanding: '98.77', // 650 x 31 / 204 = 98.775 -> 98.77 (98.7745...)
      daysPayablesOutstanding: '83.58', // 550 x 31 / 204 = 83.578
      cashConversionCycle: '46.19',
      workingCapital: '610.00',
    });
    expect((650 * 31) / 204).toBeCloseTo(98.7745, 4);
  });

  test('the default window is 90 days and asOf defaults to today; one statement for the figures', async () => {
    counter.reset();
    const { workingCapital } = await api.client(acme.readKey).request(WorkingCapitalDocument, {});
    expect(workingCapital.windowDays).toBe(90);
    expect(workingCapital.asOf).toBe(new Date().toISOString().slice(0, 10));
    const named = counter.statements.filter((statement) => /workingCapitalFigures/.test(statement));
    expect(named).toHaveLength(1);
    // the figures, the settings (payment terms) and the tenant transaction's own statements
    const ours = counter.statements.filter((statement) =>
      /\/\* (workingCapitalFigures|tenantSettings) \*\//.test(statement),
    );
    expect(ours).toHaveLength(2);
  });

  test('a tenant with no sales: zeros and warnings, never NaN', async () => {
    const { workingCapital } = await api
      .client(empty.readKey)
      .request(WorkingCapitalDocument, { asOf: '2026-06-30' });
    expect(workingCapital).toMatchObject({
      revenue: '0.00',
      costOfGoodsSold: '0.00',
      inventory: '0.00',
      accountsReceivable: '0.00',
      accountsPayable: '0.00',
      workingCapital: '0.00',
      daysSalesOutstanding: '0.00',
      daysInventoryOutstanding: '0.00',
      daysPayablesOutstanding: '0.00',
      cashConversionCycle: '0.00',
      currentRatio: '0.0000',
      quickRatio: '0.0000',
    });
    expect(workingCapital.dataWarnings).toEqual([
      'No sales in GBP in the 90 days to 2026-06-30: revenue, receivables and DSO are 0.',
      'No entered metrics cover this date: cash, other current assets, short-term debt and other current liabilities are 0.',
      'DSO is 0: revenue is 0 in the window.',
      'Current and quick ratios are 0: there are no current liabilities.',
    ]);
  });

  test("another tenant's data is never counted", async () => {
    const { workingCapital } = await api
      .client(beta.readKey)
      .request(WorkingCapitalDocument, { asOf: '2026-06-30', windowDays: 30 });
    expect(workingCapital).toMatchObject({
      revenue: '99999.00',
      costOfGoodsSold: '45000.00',
      // beta never set terms: wholesale defaults to 60 days
      accountsReceivable: '99999.00',
      inventory: '0.00',
      accountsPayable: '0.00',
    });
  });
});

describe('entered metrics', () => {
  test('an ENTERED row whose period contains asOf overrides the balances it names', async () => {
    await api.client(gamma.key).request(UpsertWorkingCapitalMetricsDocument, {
      input: {
        periodDate: '2026-06-01',
        periodType: 'MONTHLY',
        cash: '300.00',
        accountsReceivable: '800.00',
        inventory: '1000.00',
        otherCurrentAssets: '0.00',
        accountsPayable: '950.00',
        shortTermDebt: '100.00',
        otherCurrentLiabilities: '50.00',
        revenue: '400.00',
        daysInPeriod: 30,
      },
    });
    const { workingCapital } = await api
      .client(gamma.readKey)
      .request(WorkingCapitalDocument, { asOf: '2026-06-30', windowDays: 30 });
    expect(workingCapital).toMatchObject({
      revenue: '400.00', // entered, for a window of its 30 days
      netRevenue: '347.50',
      costOfGoodsSold: '160.00', // not entered: derived
      accountsReceivable: '800.00',
      inventory: '1000.00',
      accountsPayable: '950.00',
      cash: '300.00',
      totalCurrentAssets: '2100.00',
      totalCurrentLiabilities: '1100.00',
      workingCapital: '1000.00',
      daysSalesOutstanding: '60.00', // 800 x 30 / 400
      daysInventoryOutstanding: '187.50', // 1000 x 30 / 160
      daysPayablesOutstanding: '178.13', // 950 x 30 / 160 = 178.125
      cashConversionCycle: '69.37', // 60 + 187.50 - 178.13
      currentRatio: '1.9091', // 2100 / 1100
      quickRatio: '1.0000', // (2100 - 1000) / 1100
    });
    const sourceOf = Object.fromEntries(
      workingCapital.sources.map((entry) => [entry.field, entry.source]),
    );
    expect(sourceOf).toEqual({
      revenue: 'ENTERED',
      netRevenue: 'DERIVED',
      costOfGoodsSold: 'DERIVED',
      inventory: 'ENTERED',
      accountsReceivable: 'ENTERED',
      accountsPayable: 'ENTERED',
      cash: 'ENTERED',
      otherCurrentAssets: 'ENTERED',
      shortTermDebt: 'ENTERED',
      otherCurrentLiabilities: 'ENTERED',
    });
    expect(workingCapital.dataWarnings).toContain(
      'Figures marked ENTERED come from the MONTHLY metrics of 2026-06-01.',
    );

    // Over 90 days the entered 30-day revenue does not apply; the balances still do.
    const wide = await api
      .client(gamma.readKey)
      .request(WorkingCapitalDocument, { asOf: '2026-06-30', windowDays: 90 });
    expect(wide.workingCapital).toMatchObject({
      revenue: '880.00', // every GBP sale up to 06-30: 370 + 500 + 10
      accountsReceivable: '800.00',
    });
    // A date outside the entered period: everything derived again.
    const july = await api
      .client(gamma.readKey)
      .request(WorkingCapitalDocument, { asOf: '2026-07-01', windowDays: 30 });
    expect(july.workingCapital.sources).toEqual(DERIVED_ONLY);
  });
});

describe('workingCapitalTrend', () => {
  test('one snapshot per period with the change from the period before', async () => {
    const { workingCapitalTrend } = await api
      .client(acme.readKey)
      .request(WorkingCapitalTrendDocument, {
        from: '2026-05-10',
        to: '2026-06-30',
        periodType: 'MONTHLY',
      });
    expect(workingCapitalTrend.map((point) => point.periodDate)).toEqual([
      '2026-05-01',
      '2026-06-01',
    ]);
    const [may, june] = workingCapitalTrend;
    expect(may!.snapshot).toMatchObject({
      asOf: '2026-05-31',
      windowDays: 31,
      workingCapital: '610.00',
    });
    expect(june!.snapshot).toMatchObject({
      asOf: '2026-06-30',
      windowDays: 30,
      workingCapital: '920.00',
    });
    expect(may!.changes).toEqual([]);
    const change = Object.fromEntries(june!.changes.map((each) => [each.metric, each]));
    expect(change.workingCapital).toEqual({
      metric: 'workingCapital',
      previous: '610.00',
      current: '920.00',
      change: '310.00',
      changePercent: '50.82', // 310 / 610 = 50.8197 %
    });
    expect(change.daysSalesOutstanding).toEqual({
      metric: 'daysSalesOutstanding',
      previous: '31.00',
      current: '62.43',
      change: '31.43',
      changePercent: '101.39', // 31.43 / 31 = 101.387 %
    });
    expect(change.inventory).toMatchObject({ change: '400.00', changePercent: '61.54' }); // 400 / 650
  });
});

describe('computeWorkingCapitalMetrics', () => {
  const metricsRows = (tenant: TenantWithKeys) =>
    db.pool.any(sql.type(
      z.object({
        id: z.string(),
        period_date: z.string(),
        source: z.string(),
        revenue: z.string().nullable(),
        accounts_receivable: z.string(),
        cash: z.string(),
        notes: z.string().nullable(),
        updated_at: z.date(),
      }),
    )`
      SELECT id, period_date::text, source, revenue, accounts_receivable, cash, notes, updated_at
      FROM ${table(tenant, 'working_capital_metrics')} ORDER BY period_date, period_type`);

  test('materialises one DERIVED row per period, idempotently, never touching an ENTERED one', async () => {
    const member = api.client(acme.session('member'));
    await api.client(acme.key).request(UpsertWorkingCapitalMetricsDocument, {
      input: {
        periodDate: '2026-05-01',
        periodType: 'MONTHLY',
        cash: '1234.00',
        accountsReceivable: '1.00',
        inventory: '2.00',
        otherCurrentAssets: '0',
        accountsPayable: '3.00',
        shortTermDebt: '0',
        otherCurrentLiabilities: '0',
        notes: 'typed by hand',
      },
    });
    const entered = await metricsRows(acme);

    const first = await member.request(ComputeWorkingCapitalMetricsDocument, {
      periodType: 'MONTHLY',
      from: '2026-05-01',
      to: '2026-06-30',
    });
    expect(first.computeWorkingCapitalMetrics).toMatchObject([
      { periodDate: '2026-05-01', source: 'ENTERED', cash: '1234.00', notes: 'typed by hand' },
      {
        periodDate: '2026-06-01',
        periodType: 'MONTHLY',
        source: 'DERIVED',
        revenue: '370.00',
        costOfGoodsSold: '160.00',
        accountsReceivable: '770.00',
        inventory: '1050.00',
        accountsPayable: '900.00',
        cash: '0.00',
        daysInPeriod: 30,
        workingCapital: '920.00',
        // the table's own generated columns agree with the live snapshot
        daysSalesOutstanding: '62.43',
        daysInventoryOutstanding: '196.88',
        daysPayablesOutstanding: '168.75',
        cashConversionCycle: '90.56',
        currentRatio: '2.0222',
        quickRatio: '0.8556',
      },
    ]);
    const afterFirst = await metricsRows(acme);
    expect(afterFirst).toHaveLength(2);

    const second = await member.request(ComputeWorkingCapitalMetricsDocument, {
      periodType: 'MONTHLY',
      from: '2026-05-01',
      to: '2026-06-30',
    });
    expect(second.computeWorkingCapitalMetrics).toEqual(
      first.computeWorkingCapitalMetrics.map((row) => ({ ...row, updatedAt: expect.any(String) })),
    );
    const afterSecond = await metricsRows(acme);
    expect(afterSecond.map((row) => row.id)).toEqual(afterFirst.map((row) => row.id));
    // the entered row: not even its updated_at moved
    expect(afterSecond[0]).toEqual(entered[0]);

    // New data, re-run: the derived row follows, the entered one stays.
    await addSale(acme, {
      productId: acmeProducts.a,
      date: '2026-06-29',
      channel: 'etsy',
      quantity: 1,
      total: '30.00',
    });
    const third = await member.request(ComputeWorkingCapitalMetricsDocument, {
      periodType: 'MONTHLY',
      from: '2026-06-01',
      to: '2026-06-01',
    });
    expect(third.computeWorkingCapitalMetrics).toMatchObject([
      {
        periodDate: '2026-06-01',
        source: 'DERIVED',
        revenue: '400.00',
        accountsReceivable: '800.00',
      },
    ]);
    expect(await metricsRows(acme)).toHaveLength(2);
    expect((await metricsRows(acme))[0]).toEqual(entered[0]);
    await db.pool.query(sql.unsafe`
      DELETE FROM ${table(acme, 'sales')} WHERE sale_date = '2026-06-29'`);

    // A user saving over a derived period makes it theirs: ENTERED from then on.
    await api.client(acme.key).request(UpsertWorkingCapitalMetricsDocument, {
      input: {
        periodDate: '2026-06-01',
        periodType: 'MONTHLY',
        cash: '5.00',
        accountsReceivable: '0',
        inventory: '0',
        otherCurrentAssets: '0',
        accountsPayable: '0',
        shortTermDebt: '0',
        otherCurrentLiabilities: '0',
      },
    });
    const fourth = await member.request(ComputeWorkingCapitalMetricsDocument, {
      periodType: 'MONTHLY',
      from: '2026-06-01',
      to: '2026-06-30',
    });
    expect(fourth.computeWorkingCapitalMetrics).toMatchObject([
      { source: 'ENTERED', cash: '5.00' },
    ]);
    expect(await metricsRows(gamma)).toHaveLength(1); // gamma's own entered row only
  });
});

describe('payment terms', () => {
  const auditsOf = (tenantId: string) =>
    db.pool.any(sql.type(z.object({ actor: z.string(), changes: z.unknown() }))`
      SELECT actor, changes FROM public.audit_logs
      WHERE tenant_id = ${tenantId} AND action = 'tenant.payment_terms_changed' AND success
      ORDER BY created_at`);

  test('defaults until set; set by ADMIN or OWNER, audited, other settings kept', async () => {
    const tenant = await tenantWithKeys(db, 'wc-terms');
    const read = await api.client(tenant.readKey).request(PaymentTermsDocument);
    expect(read.paymentTerms).toEqual(DEFAULT_PAYMENT_TERMS);
    expect(read.paymentTerms).toMatchObject({ defaultCustomerDays: 30, supplierDays: 30 });

    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET settings = '{"fiscalYearStart": 4}' WHERE id = ${tenant.id}`);
    const admin = api.client(tenant.session('admin', 'user_terms_admin'));
    const { updatePaymentTerms } = await admin.request(UpdatePaymentTermsDocument, {
      input: TERMS,
    });
    expect(updatePaymentTerms).toEqual({
      defaultCustomerDays: 30,
      customerDays: [
        { channel: 'amazon_uk', days: 14 },
        { channel: 'wholesale', days: 60 },
      ],
      supplierDays: 45,
    });
    const settings = await db.pool.oneFirst(sql.unsafe`
      SELECT settings FROM public.tenants WHERE id = ${tenant.id}`);
    expect(settings).toEqual({
      fiscalYearStart: 4,
      paymentTerms: {
        defaultCustomerDays: 30,
        customerDays: { amazon_uk: 14, wholesale: 60 },
        supplierDays: 45,
      },
    });
    const owner = api.client(tenant.session('owner', 'user_terms_owner'));
    await owner.request(UpdatePaymentTermsDocument, {
      input: { defaultCustomerDays: 7, customerDays: [], supplierDays: 0 },
    });
    expect(
      (await api.client(tenant.session('viewer')).request(PaymentTermsDocument)).paymentTerms,
    ).toEqual({ defaultCustomerDays: 7, customerDays: [], supplierDays: 0 });

    const audits = await auditsOf(tenant.id);
    expect(audits).toHaveLength(2);
    expect(audits[0]).toMatchObject({
      actor: 'user:user_terms_admin',
      changes: { before: DEFAULT_PAYMENT_TERMS, after: updatePaymentTerms },
    });

    for (const [credential, message] of [
      [
        tenant.session('member'),
        'Your role (MEMBER) may not use updatePaymentTerms: it needs ADMIN.',
      ],
      [
        tenant.key,
        'API keys may not use updatePaymentTerms: it needs a session with the ADMIN role.',
      ],
    ] as const) {
      expect(
        firstError(
          await failure(api.client(credential), UpdatePaymentTermsDocument, { input: TERMS }),
        ),
      ).toEqual({ status: 403, code: 'FORBIDDEN', message });
    }
    expect(await auditsOf(tenant.id)).toHaveLength(2);
  });

  test('the reader takes the older { receivableDays, payableDays } form and ignores nonsense', () => {
    expect(paymentTermsOf({ paymentTerms: { receivableDays: 21, payableDays: 50 } })).toEqual({
      defaultCustomerDays: 21,
      customerDays: [],
      supplierDays: 50,
    });
    expect(paymentTermsOf({ paymentTerms: { receivableDays: -4 } })).toEqual(DEFAULT_PAYMENT_TERMS);
    expect(paymentTermsOf({ paymentTerms: 'net 30' })).toEqual(DEFAULT_PAYMENT_TERMS);
    expect(paymentTermsOf({})).toEqual(DEFAULT_PAYMENT_TERMS);
  });

  test('bad terms: BAD_USER_INPUT naming the field, nothing written, nothing audited', async () => {
    const owner = api.client(acme.session('owner'));
    const before = await db.pool.oneFirst(sql.unsafe`
      SELECT settings FROM public.tenants WHERE id = ${acme.id}`);
    const audits = (await auditsOf(acme.id)).length;
    const cases: [PaymentTermsInput, string][] = [
      [{ ...TERMS, supplierDays: -1 }, 'supplierDays'],
      [{ ...TERMS, defaultCustomerDays: 366 }, 'defaultCustomerDays'],
      [{ ...TERMS, customerDays: [{ channel: 'Amazon UK', days: 14 }] }, 'customerDays[0].channel'],
      [
        {
          ...TERMS,
          customerDays: [
            { channel: 'etsy', days: 1 },
            { channel: 'etsy', days: 2 },
          ],
        },
        'customerDays[1].channel',
      ],
      [{ ...TERMS, customerDays: [{ channel: 'etsy', days: -3 }] }, 'customerDays[0].days'],
    ];
    for (const [input, field] of cases) {
      const result = await failure(owner, UpdatePaymentTermsDocument, { input });
      expect({
        code: result.errors[0]?.extensions.code,
        field: result.errors[0]?.extensions.field,
      }).toEqual({ code: 'BAD_USER_INPUT', field });
    }
    expect(
      await db.pool.oneFirst(sql.unsafe`SELECT settings FROM public.tenants WHERE id = ${acme.id}`),
    ).toEqual(before);
    expect(await auditsOf(acme.id)).toHaveLength(audits);
  });
});

describe('who may and bad input', () => {
  const rowCount = (tenant: TenantWithKeys) =>
    db.pool.oneFirst(sql.type(Count)`
      SELECT count(*)::int AS count FROM ${table(tenant, 'working_capital_metrics')}`);

  test('computeWorkingCapitalMetrics needs MEMBER; reading needs VIEWER', async () => {
    const variables = { periodType: 'MONTHLY', from: '2026-06-01', to: '2026-06-30' } as const;
    for (const credential of [empty.readKey, empty.session('viewer')]) {
      expect(
        firstError(
          await failure(api.client(credential), ComputeWorkingCapitalMetricsDocument, variables),
        ),
      ).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    }
    expect(await rowCount(empty)).toBe(0);
    await api.client(empty.key).request(ComputeWorkingCapitalMetricsDocument, variables);
    expect(await rowCount(empty)).toBe(1);
    const viewer = api.client(empty.session('viewer'));
    await viewer.request(WorkingCapitalDocument, {});
    await viewer.request(PaymentTermsDocument);
    await viewer.request(WorkingCapitalTrendDocument, { ...variables, periodType: 'WEEKLY' });
  });

  test('out-of-range windows, backwards or long or future ranges, unknown currencies: BAD_USER_INPUT, nothing written', async () => {
    const client = api.client(gamma.key);
    const rows = await rowCount(gamma);
    const wc = async (variables: object) =>
      (await failure(client, WorkingCapitalDocument, variables as never)).errors[0]?.extensions;
    expect(await wc({ windowDays: 0 })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'windowDays',
    });
    expect(await wc({ windowDays: 366 })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'windowDays',
    });
    expect(await wc({ currency: 'XYZ' })).toMatchObject({ code: 'BAD_USER_INPUT' });

    const compute = async (variables: object) =>
      (await failure(client, ComputeWorkingCapitalMetricsDocument, variables as never)).errors[0]
        ?.extensions;
    expect(
      await compute({ periodType: 'MONTHLY', from: '2026-06-30', to: '2026-05-01' }),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'from',
    });
    expect(
      await compute({ periodType: 'DAILY', from: '2026-01-01', to: '2026-06-30' }),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'to',
    });
    expect(
      await compute({ periodType: 'MONTHLY', from: '2026-06-01', to: '2099-01-01' }),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'to',
    });
    expect(
      (
        await failure(client, WorkingCapitalTrendDocument, {
          periodType: 'WEEKLY',
          from: '2026-06-30',
          to: '2026-06-01',
        })
      ).errors[0]?.extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
    expect(await rowCount(gamma)).toBe(rows);
  });
});

describe('over the demo tenant', () => {
  test('a snapshot is two statements (terms, figures), and so is a 12-month trend', async () => {
    const { tenant } = await ensureDemoTenant(db.lifecycle, { today: '2026-11-30' });
    const demo = api.client(await issueDemoKey(db.pool, tenant.id));
    const ours = () =>
      counter.statements.filter((statement) =>
        /\/\* (workingCapitalFigures|tenantSettings) \*\//.test(statement),
      );
    counter.reset();
    const { workingCapital } = await demo.request(WorkingCapitalDocument, { asOf: '2026-11-15' });
    expect(ours()).toHaveLength(2);
    expect(Number(workingCapital.revenue)).toBeGreaterThan(0);
    for (const value of [
      workingCapital.daysSalesOutstanding,
      workingCapital.daysInventoryOutstanding,
      workingCapital.daysPayablesOutstanding,
      workingCapital.cashConversionCycle,
      workingCapital.currentRatio,
      workingCapital.quickRatio,
    ]) {
      expect(Number.isFinite(Number(value))).toBe(true);
    }
    // The demo's monthly metrics were typed in: they cover November, so its balances are ENTERED.
    expect(workingCapital.sources).toContainEqual({ field: 'cash', source: 'ENTERED' });

    counter.reset();
    const { workingCapitalTrend } = await demo.request(WorkingCapitalTrendDocument, {
      from: '2025-12-01',
      to: '2026-11-30',
      periodType: 'MONTHLY',
    });
    expect(workingCapitalTrend).toHaveLength(12);
    expect(ours()).toHaveLength(2);
  }, 120_000);
});

describe('tenant migration 0003', () => {
  // Last: it rolls every tenant back and forward again.
  test('rolls back to 0002 (no history table, no source column) and applies again', async () => {
    const relation = (tenant: TenantWithKeys, name: string) =>
      db.pool.oneFirst(sql.type(z.object({ present: z.boolean() }))`
        SELECT to_regclass(${`${tenant.schemaName}.${name}`}) IS NOT NULL AS present`);
    const sourceColumn = (tenant: TenantWithKeys) =>
      db.pool.exists(sql.unsafe`
        SELECT 1 FROM information_schema.columns
        WHERE table_schema = ${tenant.schemaName} AND table_name = 'working_capital_metrics'
          AND column_name = 'source'`);
    const back = await rollback(db.pool, db.migrations, { scope: 'tenant' });
    expect(back).toMatchObject({ toVersion: 2, failed: [] });
    expect(await relation(acme, 'inventory_adjustments')).toBe(false);
    expect(await sourceColumn(acme)).toBe(false);
    expect((await migrate(db.pool, db.migrations)).failed).toEqual([]);
    expect(await relation(acme, 'inventory_adjustments')).toBe(true);
    expect(await sourceColumn(acme)).toBe(true);
  });
});
