import { sql } from 'slonik';
import {
  CompanyForecastsDocument,
  type CompanyForecastsQueryVariables,
  UpsertWorkingCapitalMetricsDocument,
  WorkingCapitalMetricsDocument,
  type WorkingCapitalMetricsInput,
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

let db: TestDatabase;
let api: Api;
let acme: TenantWithKeys;
let beta: TenantWithKeys;

const table = (tenant: TenantWithKeys, name: string) => sql.identifier([tenant.schemaName, name]);

/** Every metrics row of a tenant, exactly as stored. */
const metricsSnapshot = (tenant: TenantWithKeys) =>
  db.pool.any(sql.unsafe`
    SELECT id, period_type, period_date::text, cash, accounts_receivable, inventory,
      other_current_assets, accounts_payable, short_term_debt, other_current_liabilities, revenue,
      cost_of_goods_sold, days_in_period, notes, updated_at
    FROM ${table(tenant, 'working_capital_metrics')} ORDER BY period_type, period_date`);

/** CA = 50000 + 30000 + 40000 + 5000 = 125000; CL = 25000 + 10000 + 5000 = 40000. */
const january: WorkingCapitalMetricsInput = {
  periodDate: '2026-01-01',
  periodType: 'MONTHLY',
  cash: '50000.00',
  accountsReceivable: '30000.00',
  inventory: '40000.00',
  otherCurrentAssets: '5000.00',
  accountsPayable: '25000.00',
  shortTermDebt: '10000.00',
  otherCurrentLiabilities: '5000.00',
  revenue: '90000.00',
  costOfGoodsSold: '60000.00',
  daysInPeriod: 30,
  notes: 'January close',
};

const upsert = (tenant: TenantWithKeys, input: WorkingCapitalMetricsInput) =>
  api
    .client(tenant.key)
    .request(UpsertWorkingCapitalMetricsDocument, { input })
    .then((result) => result.upsertWorkingCapitalMetrics);

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  api = await startApi(db);
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('upsertWorkingCapitalMetrics', () => {
  test('stores the inputs and returns the generated figures, computed by hand', async () => {
    const saved = await upsert(acme, january);
    expect(saved).toMatchObject({
      companyId: acme.companyId,
      periodDate: '2026-01-01',
      periodType: 'MONTHLY',
      cash: '50000.00',
      accountsReceivable: '30000.00',
      inventory: '40000.00',
      otherCurrentAssets: '5000.00',
      accountsPayable: '25000.00',
      shortTermDebt: '10000.00',
      otherCurrentLiabilities: '5000.00',
      revenue: '90000.00',
      costOfGoodsSold: '60000.00',
      daysInPeriod: 30,
      notes: 'January close',
      totalCurrentAssets: '125000.00',
      totalCurrentLiabilities: '40000.00',
      workingCapital: '85000.00',
      currentRatio: '3.1250', // 125000 / 40000
      quickRatio: '2.1250', // (125000 - 40000 inventory) / 40000
      daysSalesOutstanding: '10.00', // 30000 x 30 / 90000
      daysInventoryOutstanding: '20.00', // 40000 x 30 / 60000
      daysPayablesOutstanding: '12.50', // 25000 x 30 / 60000
      cashConversionCycle: '17.50', // 10 + 20 - 12.5
    });
    expect(saved.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('rounds the ratios the way the columns do (4 and 2 decimals)', async () => {
    const saved = await upsert(acme, {
      periodDate: '2026-01-01',
      periodType: 'QUARTERLY',
      cash: '25000.00',
      accountsReceivable: '30000.00',
      inventory: '40000.00',
      otherCurrentAssets: '5000.00',
      accountsPayable: '25000.00',
      shortTermDebt: '5000.00',
      otherCurrentLiabilities: '0',
      revenue: '90000.00',
      costOfGoodsSold: '60000.00',
      daysInPeriod: 91,
    });
    expect(saved).toMatchObject({
      totalCurrentAssets: '100000.00',
      totalCurrentLiabilities: '30000.00',
      workingCapital: '70000.00',
      currentRatio: '3.3333', // 100000 / 30000 = 3.33333...
      quickRatio: '2.0000', // 60000 / 30000
      daysSalesOutstanding: '30.33', // 30000 x 91 / 90000 = 30.333...
      daysInventoryOutstanding: '60.67', // 40000 x 91 / 60000 = 60.666...
      daysPayablesOutstanding: '37.92', // 25000 x 91 / 60000 = 37.9166...
      cashConversionCycle: '53.08', // 30.33 + 60.67 - 37.92, of the rounded values
      notes: null,
    });
  });

  test('without liabilities, revenue or cost of goods sold the ratios are null; days default to 30', async () => {
    const saved = await upsert(acme, {
      periodDate: '2026-01-05',
      periodType: 'DAILY',
      cash: '1000.50',
      accountsReceivable: '0',
      inventory: '0',
      otherCurrentAssets: '0',
      accountsPayable: '0',
      shortTermDebt: '0',
      otherCurrentLiabilities: '0',
    });
    expect(saved).toMatchObject({
      daysInPeriod: 30,
      revenue: null,
      costOfGoodsSold: null,
      totalCurrentAssets: '1000.50',
      totalCurrentLiabilities: '0.00',
      workingCapital: '1000.50',
      currentRatio: null,
      quickRatio: null,
      daysSalesOutstanding: null,
      daysInventoryOutstanding: null,
      daysPayablesOutstanding: null,
      cashConversionCycle: null,
    });
  });

  test('a negative working capital comes back negative', async () => {
    const saved = await upsert(acme, {
      ...january,
      periodDate: '2026-01-04',
      periodType: 'WEEKLY',
      cash: '100.00',
      accountsPayable: '200000.00',
      revenue: null,
      costOfGoodsSold: '60000.00',
    });
    expect(saved).toMatchObject({
      totalCurrentAssets: '75100.00',
      totalCurrentLiabilities: '215000.00',
      workingCapital: '-139900.00',
      currentRatio: '0.3493', // 75100 / 215000 = 0.349302...
      daysSalesOutstanding: null,
      daysPayablesOutstanding: '100.00', // 200000 x 30 / 60000
      cashConversionCycle: null, // DSO is null
    });
  });

  test('saving the same period again replaces its figures in place: same id, one row', async () => {
    const first = await upsert(acme, { ...january, periodDate: '2026-02-01' });
    const second = await upsert(acme, {
      ...january,
      periodDate: '2026-02-01',
      cash: '10000.00', // CA 85000
      revenue: null,
      notes: null,
      daysInPeriod: 28,
    });
    expect(second.id).toBe(first.id);
    expect(second.createdAt).toBe(first.createdAt);
    expect(second).toMatchObject({
      cash: '10000.00',
      totalCurrentAssets: '85000.00',
      workingCapital: '45000.00',
      currentRatio: '2.1250', // 85000 / 40000
      daysInPeriod: 28,
      revenue: null,
      daysSalesOutstanding: null,
      daysInventoryOutstanding: '18.67', // 40000 x 28 / 60000 = 18.666...
      notes: null,
    });
    const rows = await db.pool.anyFirst(sql.unsafe`
      SELECT id FROM ${table(acme, 'working_capital_metrics')}
      WHERE period_type = 'MONTHLY' AND period_date = '2026-02-01'`);
    expect(rows).toEqual([first.id]);
  });

  test.each<[Partial<WorkingCapitalMetricsInput>, string, string | RegExp]>([
    [{ cash: '-1.00' }, 'cash', 'cash must not be negative.'],
    [{ accountsPayable: '-0.01' }, 'accountsPayable', 'accountsPayable must not be negative.'],
    [{ revenue: '-5' }, 'revenue', 'revenue must not be negative.'],
    [{ costOfGoodsSold: '-5' }, 'costOfGoodsSold', 'costOfGoodsSold must not be negative.'],
    [{ daysInPeriod: 0 }, 'daysInPeriod', 'daysInPeriod must be 1 or more.'],
    [{ daysInPeriod: -30 }, 'daysInPeriod', 'daysInPeriod must be 1 or more.'],
    [
      { cash: '9999999999999.99', inventory: '9999999999999.99' },
      'cash',
      'Total current assets and total current liabilities must each be below 10000000000000.',
    ],
    [
      { shortTermDebt: '9999999999999.99' },
      'accountsPayable',
      'Total current assets and total current liabilities must each be below 10000000000000.',
    ],
    [{ notes: 'x'.repeat(10_001) }, 'notes', 'notes must be at most 10000 characters.'],
  ])(
    'invalid %j is BAD_USER_INPUT naming %s, and the stored period is unchanged',
    async (change, field, message) => {
      const before = await metricsSnapshot(acme);
      const result = await failure(api.client(acme.key), UpsertWorkingCapitalMetricsDocument, {
        input: { ...january, ...change },
      });
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatchObject({
        message,
        extensions: { code: 'BAD_USER_INPUT', field },
      });
      expect(await metricsSnapshot(acme)).toEqual(before);
    },
  );

  test('a money amount that is not a 2-decimal string is refused before any SQL', async () => {
    const before = await metricsSnapshot(acme);
    for (const cash of ['12.345', '1e5', 'abc']) {
      const error = firstError(
        await failure(api.client(acme.key), UpsertWorkingCapitalMetricsDocument, {
          input: { ...january, cash },
        }),
      );
      expect(error.code).toBe('BAD_USER_INPUT');
      expect(error.message).toMatch(/Money must be a decimal string such as "12.50"/);
    }
    expect(await metricsSnapshot(acme)).toEqual(before);
  });

  test('a read-only key is FORBIDDEN and writes nothing', async () => {
    const before = await metricsSnapshot(acme);
    expect(
      firstError(
        await failure(api.client(acme.readKey), UpsertWorkingCapitalMetricsDocument, {
          input: { ...january, cash: '1.00' },
        }),
      ),
    ).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      message: 'This API key is read-only: upsertWorkingCapitalMetrics needs the write scope.',
    });
    expect(await metricsSnapshot(acme)).toEqual(before);
  });

  test("another tenant saving the same period gets its own row; the first tenant's is untouched", async () => {
    const acmeBefore = await metricsSnapshot(acme);
    const betaRow = await upsert(beta, { ...january, cash: '1.00' });
    expect(betaRow.companyId).toBe(beta.companyId);
    expect(betaRow.totalCurrentAssets).toBe('75001.00');
    expect(await metricsSnapshot(acme)).toEqual(acmeBefore);
    const acmeJanuary = await api
      .client(acme.readKey)
      .request(WorkingCapitalMetricsDocument, { from: '2026-01-01', to: '2026-01-01' });
    expect(
      acmeJanuary.workingCapitalMetrics.map((row) => [row.periodType, row.cash, row.companyId]),
    ).toEqual([
      ['MONTHLY', '50000.00', acme.companyId],
      ['QUARTERLY', '25000.00', acme.companyId],
    ]);
  });
});

describe('workingCapitalMetrics', () => {
  test('lists by date then period type, filtered by range and period type', async () => {
    const client = api.client(acme.readKey);
    const all = await client.request(WorkingCapitalMetricsDocument, {});
    expect(all.workingCapitalMetrics.map((row) => `${row.periodDate} ${row.periodType}`)).toEqual([
      '2026-01-01 MONTHLY',
      '2026-01-01 QUARTERLY',
      '2026-01-04 WEEKLY',
      '2026-01-05 DAILY',
      '2026-02-01 MONTHLY',
    ]);
    const monthly = await client.request(WorkingCapitalMetricsDocument, {
      periodType: 'MONTHLY',
    });
    expect(monthly.workingCapitalMetrics.map((row) => row.periodDate)).toEqual([
      '2026-01-01',
      '2026-02-01',
    ]);
    const early = await client.request(WorkingCapitalMetricsDocument, {
      from: '2026-01-02',
      to: '2026-01-31',
    });
    expect(early.workingCapitalMetrics.map((row) => row.periodType)).toEqual(['WEEKLY', 'DAILY']);
    const from = await client.request(WorkingCapitalMetricsDocument, { from: '2026-01-05' });
    expect(from.workingCapitalMetrics).toHaveLength(2);
    const to = await client.request(WorkingCapitalMetricsDocument, { to: '2026-01-04' });
    expect(to.workingCapitalMetrics).toHaveLength(3);
    const none = await client.request(WorkingCapitalMetricsDocument, {
      periodType: 'MONTHLY',
      from: '2027-01-01',
    });
    expect(none.workingCapitalMetrics).toEqual([]);
    // The listed figures are the stored, generated ones.
    expect(all.workingCapitalMetrics[0]).toMatchObject({
      currentRatio: '3.1250',
      cashConversionCycle: '17.50',
    });
  });

  test('from after to is BAD_USER_INPUT', async () => {
    expect(
      firstError(
        await failure(api.client(acme.readKey), WorkingCapitalMetricsDocument, {
          from: '2026-02-01',
          to: '2026-01-01',
        }),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'Invalid range: from (2026-02-01) is after to (2026-01-01).',
    });
  });

  test("each tenant lists only its own company's metrics", async () => {
    const betaList = await api.client(beta.readKey).request(WorkingCapitalMetricsDocument, {});
    expect(betaList.workingCapitalMetrics.map((row) => [row.periodDate, row.cash])).toEqual([
      ['2026-01-01', '1.00'],
    ]);
    const gamma = await tenantWithKeys(db, 'gamma');
    expect(
      (await api.client(gamma.readKey).request(WorkingCapitalMetricsDocument, {}))
        .workingCapitalMetrics,
    ).toEqual([]);
  });
});

describe('forecasts', () => {
  let gin: string;
  let rum: string;
  let betaProduct: string;

  beforeAll(async () => {
    const product = async (tenant: TenantWithKeys, sku: string) =>
      (await db.pool.oneFirst(sql.unsafe`
        INSERT INTO ${table(tenant, 'products')} (company_id, sku, name)
        VALUES (${tenant.companyId}, ${sku}, ${sku}) RETURNING id`)) as string;
    gin = await product(acme, 'GIN');
    rum = await product(acme, 'RUM');
    betaProduct = await product(beta, 'BETA-GIN');
    const forecast = (
      tenant: TenantWithKeys,
      productId: string | null,
      date: string,
      type: string,
      value: string,
    ) =>
      db.pool.query(sql.unsafe`
        INSERT INTO ${table(tenant, 'forecasts')} (company_id, product_id, forecast_date,
          forecast_type, period_type, model_type, model_version, predicted_value, lower_bound,
          upper_bound, confidence_level)
        VALUES (${tenant.companyId}, ${productId}, ${date}, ${type}, 'MONTHLY', 'ensemble', 'v2',
          ${value}, ${value}::numeric - 10, ${value}::numeric + 10, 0.95)`);
    await forecast(acme, gin, '2026-02-01', 'DEMAND', '120.00');
    await forecast(acme, gin, '2026-03-01', 'DEMAND', '130.00');
    await forecast(acme, rum, '2026-02-01', 'DEMAND', '80.00');
    await forecast(acme, gin, '2026-02-01', 'REVENUE', '2400.00');
    await forecast(acme, null, '2026-02-01', 'CASH_FLOW', '50000.00');
    await forecast(acme, null, '2026-04-01', 'CASH_FLOW', '52000.00');
    await forecast(beta, betaProduct, '2026-02-01', 'DEMAND', '999.00');
    await forecast(beta, null, '2026-02-01', 'CASH_FLOW', '777.00');
  });

  test('the company-wide list: by date, then type, company-level rows first', async () => {
    const { forecasts } = await api.client(acme.readKey).request(CompanyForecastsDocument, {});
    const sorted = [gin, rum].sort();
    expect(forecasts.map((row) => [row.date, row.type, row.productId, row.predictedValue])).toEqual(
      [
        ['2026-02-01', 'CASH_FLOW', null, '50000.00'],
        ['2026-02-01', 'DEMAND', sorted[0], sorted[0] === gin ? '120.00' : '80.00'],
        ['2026-02-01', 'DEMAND', sorted[1], sorted[1] === gin ? '120.00' : '80.00'],
        ['2026-02-01', 'REVENUE', gin, '2400.00'],
        ['2026-03-01', 'DEMAND', gin, '130.00'],
        ['2026-04-01', 'CASH_FLOW', null, '52000.00'],
      ],
    );
    expect(forecasts[0]).toMatchObject({
      periodType: 'MONTHLY',
      modelType: 'ensemble',
      modelVersion: 'v2',
      lowerBound: '49990.00',
      upperBound: '50010.00',
      confidenceLevel: '0.9500',
      actualValue: null,
      accuracyPercentage: null,
    });
  });

  test('filters by type, dates and product', async () => {
    const client = api.client(acme.readKey);
    const list = async (variables: CompanyForecastsQueryVariables) =>
      (await client.request(CompanyForecastsDocument, variables)).forecasts.map(
        (row) => `${row.date} ${row.type} ${row.predictedValue}`,
      );
    expect(await list({ type: 'CASH_FLOW' })).toEqual([
      '2026-02-01 CASH_FLOW 50000.00',
      '2026-04-01 CASH_FLOW 52000.00',
    ]);
    expect(await list({ productId: gin, type: 'DEMAND' })).toEqual([
      '2026-02-01 DEMAND 120.00',
      '2026-03-01 DEMAND 130.00',
    ]);
    expect(await list({ from: '2026-03-01' })).toEqual([
      '2026-03-01 DEMAND 130.00',
      '2026-04-01 CASH_FLOW 52000.00',
    ]);
    expect(await list({ to: '2026-02-01', productId: rum })).toEqual(['2026-02-01 DEMAND 80.00']);
    expect(await list({ from: '2026-02-15', to: '2026-03-15' })).toEqual([
      '2026-03-01 DEMAND 130.00',
    ]);
    expect(await list({ from: '2026-03-01', to: '2026-03-01', type: 'REVENUE' })).toEqual([]);
  });

  test('from after to is BAD_USER_INPUT', async () => {
    expect(
      firstError(
        await failure(api.client(acme.readKey), CompanyForecastsDocument, {
          from: '2026-05-01',
          to: '2026-04-30',
        }),
      ),
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'Invalid range: from (2026-05-01) is after to (2026-04-30).',
    });
  });

  test("another tenant's product id, an unknown id or a non-UUID lists nothing", async () => {
    const client = api.client(acme.readKey);
    for (const productId of [betaProduct, '00000000-0000-4000-8000-000000000000', 'gin']) {
      expect((await client.request(CompanyForecastsDocument, { productId })).forecasts).toEqual([]);
    }
    const betaList = (await api.client(beta.readKey).request(CompanyForecastsDocument, {}))
      .forecasts;
    expect(betaList.map((row) => [row.productId, row.predictedValue])).toEqual([
      [null, '777.00'],
      [betaProduct, '999.00'],
    ]);
    expect(
      (await api.client(beta.readKey).request(CompanyForecastsDocument, { productId: gin }))
        .forecasts,
    ).toEqual([]);
  });
});
