/**
 * Forecasting through the API: the engine's errors measured against values computed here by
 * hand, asOf never leaking later sales into the model, bad input refused before any run row
 * exists, plan gating, usage, the audit entry and one run at a time per tenant.
 */
import { sql } from 'slonik';
import { z } from 'zod';
import {
  ForecastRunDocument,
  ForecastRunsDocument,
  GenerateForecastsDocument,
  ProductForecastAccuracyDocument,
  RunForecastsDocument,
  UsageDocument,
  type GenerateForecastsInput,
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

const DAY = 86_400_000;
/** The synthetic history ends the day before this (a Monday). */
const AS_OF = '2026-03-02';
const iso = (time: number) => new Date(time).toISOString().slice(0, 10);
const dayOffset = (date: string, days: number) => iso(Date.parse(`${date}T00:00:00Z`) + days * DAY);

/** A deterministic uniform in [0, 1) (Park–Miller). */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}

const table = (tenant: TenantWithKeys, name: string) => sql.identifier([tenant.schemaName, name]);

let skuCounter = 0;
async function addProduct(tenant: TenantWithKeys, name: string): Promise<string> {
  skuCounter += 1;
  return db.pool.oneFirst(sql.type(z.object({ id: z.string() }))`
    INSERT INTO ${table(tenant, 'products')} (company_id, sku, name, unit_cost, unit_price)
    VALUES (${tenant.companyId}, ${`SKU-${skuCounter}`}, ${name}, 4, 10) RETURNING id`);
}

/** One sale a day of `quantities[i]` units (none when 0), the first on `start`. */
async function addDailySales(
  tenant: TenantWithKeys,
  productId: string,
  start: string,
  quantities: readonly number[],
  currency = 'GBP',
) {
  const rows = quantities
    .map((quantity, i) => [dayOffset(start, i), quantity] as const)
    .filter(([, quantity]) => quantity > 0);
  await db.pool.query(sql.unsafe`
    INSERT INTO ${table(tenant, 'sales')} (company_id, product_id, sale_date, quantity, unit_price,
      total_amount, channel, market, currency)
    SELECT ${tenant.companyId}, ${productId}, s.day, s.quantity, 10, s.quantity * 10, 'direct', 'UK', ${currency}
    FROM ${sql.unnest(
      rows.map(([day, quantity]) => [day, quantity]),
      ['date', 'int4'],
    )} AS s(day, quantity)`);
}

const runCount = (tenant: TenantWithKeys) =>
  db.pool.oneFirst(sql.type(z.object({ count: z.number() }))`
    SELECT count(*)::int AS count FROM ${table(tenant, 'forecast_runs')}`);

/** generateForecasts with the tenant's read-write key: the run it returns. */
const generate = async (tenant: TenantWithKeys, input: GenerateForecastsInput) =>
  (await api.client(tenant.key).request(GenerateForecastsDocument, { input })).generateForecasts;

/** A DAILY demand run of `productIds` from AS_OF. */
const demand = (
  tenant: TenantWithKeys,
  productIds: string[],
  model: GenerateForecastsInput['model'],
  horizon: number,
) =>
  generate(tenant, {
    type: 'DEMAND',
    periodType: 'DAILY',
    horizon,
    productIds,
    model,
    asOf: AS_OF,
  });

const rowsOf = async (tenant: TenantWithKeys, runId: string) =>
  (await api.client(tenant.readKey).request(RunForecastsDocument, { runId })).forecasts;

const mapeOf = (pairs: readonly [number, number][]) =>
  (pairs.reduce((sum, [actual, forecast]) => sum + Math.abs(actual - forecast) / actual, 0) /
    pairs.length) *
  100;

/** 400 days of trend + weekly seasonality + small noise, ending the day before AS_OF + 28. */
const HISTORY_DAYS = 400;
const HOLDOUT = 28;
const trendSeasonal = (() => {
  const next = random(7);
  return Array.from({ length: HISTORY_DAYS + HOLDOUT }, (_, t) =>
    Math.round(200 + 1.5 * t + 80 * Math.sin((2 * Math.PI * t) / 7) + 10 * (next() - 0.5)),
  );
})();
const historyStart = dayOffset(AS_OF, -HISTORY_DAYS);
let seasonalProduct: string;
let noiseProduct: string;

beforeAll(async () => {
  db = await createTestDatabase();
  acme = await tenantWithKeys(db, 'acme');
  beta = await tenantWithKeys(db, 'beta');
  api = await startApi(db);
  seasonalProduct = await addProduct(acme, 'Seasonal gin');
  await addDailySales(acme, seasonalProduct, historyStart, trendSeasonal);
  noiseProduct = await addProduct(acme, 'Noisy rum');
  const next = random(11);
  await addDailySales(
    acme,
    noiseProduct,
    historyStart,
    Array.from({ length: HISTORY_DAYS + HOLDOUT }, () => Math.round(100 + 100 * (next() - 0.5))),
  );
}, 120_000);
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

describe('the engine against hand-computed errors', () => {
  test('trend and weekly seasonality: AUTO’s backtest MAPE is well below SEASONAL_NAIVE’s, and so is its real error', async () => {
    const auto = await demand(acme, [seasonalProduct], 'AUTO', HOLDOUT);
    expect(auto).toMatchObject({
      status: 'SUCCEEDED',
      productsTotal: 1,
      productsDone: 1,
      fallbacks: [],
    });
    expect(auto.accuracy.mape).not.toBeNull();
    expect(auto.accuracy.mape!).toBeLessThan(0.6 * auto.accuracy.baselineMape!);
    expect(auto.accuracy.mase!).toBeLessThan(1);

    const rows = await rowsOf(acme, auto.id);
    expect(rows).toHaveLength(HOLDOUT);
    expect(rows.map((row) => row.date)).toEqual(
      Array.from({ length: HOLDOUT }, (_, h) => dayOffset(AS_OF, h)),
    );
    expect(new Set(rows.map((row) => row.modelType))).toEqual(new Set(['MSTL']));
    // The holdout's actuals are the sales inserted above, and accuracy is 100 − APE.
    const actuals = trendSeasonal.slice(HISTORY_DAYS);
    rows.forEach((row, h) => {
      expect(Number(row.actualValue)).toBe(actuals[h]);
      const ape = (Math.abs(actuals[h]! - Number(row.predictedValue)) / actuals[h]!) * 100;
      expect(Number(row.accuracyPercentage)).toBeCloseTo(Math.max(0, 100 - ape), 1);
      expect(Number(row.lowerBound)).toBeLessThanOrEqual(Number(row.predictedValue));
      expect(Number(row.upperBound)).toBeGreaterThanOrEqual(Number(row.predictedValue));
      expect(row.confidenceLevel).toBe('0.9500');
    });
    // By hand: the forecast's MAPE on the holdout, and the seasonal naive's (last week repeated).
    const history = trendSeasonal.slice(0, HISTORY_DAYS);
    const naive = actuals.map((_, h) => history[HISTORY_DAYS - 7 + (h % 7)]!);
    const forecastMape = mapeOf(rows.map((row, h) => [actuals[h]!, Number(row.predictedValue)]));
    const naiveMape = mapeOf(actuals.map((actual, h) => [actual, naive[h]!]));
    expect(forecastMape).toBeLessThan(0.6 * naiveMape);

    const naiveRun = await demand(acme, [seasonalProduct], 'SEASONAL_NAIVE', HOLDOUT);
    const naiveRows = await rowsOf(acme, naiveRun.id);
    expect(naiveRows.map((row) => Number(row.predictedValue))).toEqual(naive);
    expect(naiveRun.accuracy.mape).toBeCloseTo(naiveRun.accuracy.baselineMape!, 6);

    // The newer run replaced the first one's rows; the first run's stay readable by its id.
    expect((await rowsOf(acme, auto.id)).every((row) => row.replacedByRunId === naiveRun.id)).toBe(
      true,
    );
    const current = (
      await api.client(acme.readKey).request(RunForecastsDocument, { productId: seasonalProduct })
    ).forecasts;
    expect(current.map((row) => row.runId)).toEqual(naiveRows.map(() => naiveRun.id));

    const { product } = await api.client(acme.readKey).request(ProductForecastAccuracyDocument, {
      id: seasonalProduct,
      type: 'DEMAND',
      periodType: 'DAILY',
    });
    expect(product?.forecastAccuracy.periods).toBe(HOLDOUT);
    expect(product?.forecastAccuracy.mape).toBeCloseTo(naiveMape, 1);
    expect(product?.forecastAccuracy).toMatchObject({
      from: AS_OF,
      to: dayOffset(AS_OF, HOLDOUT - 1),
    });
  });

  test('white noise: no model claims a low error, and MSTL falls back to ETS for want of seasonality', async () => {
    for (const model of ['SEASONAL_NAIVE', 'ETS', 'MSTL', 'AUTO'] as const) {
      const run = await demand(acme, [noiseProduct], model, 14);
      expect(run.status).toBe('SUCCEEDED');
      expect(run.accuracy.mape!).toBeGreaterThan(15);
      expect(run.accuracy.smape!).toBeGreaterThan(15);
      expect(run.accuracy.mase!).toBeGreaterThan(0.5);
      if (model === 'MSTL') {
        expect(run.fallbacks).toEqual([
          {
            productId: noiseProduct,
            currency: null,
            model: 'ETS',
            reason: 'no seasonality detected',
          },
        ]);
        expect(new Set((await rowsOf(acme, run.id)).map((row) => row.modelType))).toEqual(
          new Set(['ETS']),
        );
      }
      // Demand bounds are never negative.
      expect((await rowsOf(acme, run.id)).every((row) => Number(row.lowerBound) >= 0)).toBe(true);
    }
  });

  test('a short history falls back to a simpler model, and the run says so', async () => {
    const young = await addProduct(acme, 'New liqueur');
    await addDailySales(acme, young, dayOffset(AS_OF, -5), [3, 4, 2, 5, 3]);
    const run = await demand(acme, [young], 'ETS', 7);
    expect(run.status).toBe('SUCCEEDED');
    expect(run.fallbacks).toEqual([
      {
        productId: young,
        currency: null,
        model: 'SEASONAL_NAIVE',
        reason: 'fewer than 8 periods of history',
      },
    ]);
    const rows = await rowsOf(acme, run.id);
    // Naive without a season: the last value, seven times.
    expect(rows.map((row) => [row.modelType, row.predictedValue])).toEqual(
      Array.from({ length: 7 }, () => ['SEASONAL_NAIVE', '3.00']),
    );
  });
});

describe('asOf', () => {
  test('the model sees no sale on or after asOf: a huge spike after it leaves the forecast unchanged', async () => {
    const product = await addProduct(acme, 'Spiked vodka');
    const next = random(3);
    const days = 120;
    await addDailySales(
      acme,
      product,
      dayOffset(AS_OF, -days),
      Array.from({ length: days }, (_, t) =>
        Math.round(50 + 20 * Math.sin((2 * Math.PI * t) / 7) + 5 * next()),
      ),
    );
    const input: GenerateForecastsInput = {
      type: 'DEMAND',
      periodType: 'DAILY',
      horizon: 10,
      productIds: [product],
      model: 'AUTO',
      asOf: AS_OF,
    };
    const before = await rowsOf(acme, (await generate(acme, input)).id);
    expect(before.every((row) => row.actualValue === '0.00')).toBe(true);
    await addDailySales(acme, product, AS_OF, [1_000_000, 0, 0, 2_000_000]);
    const after = await rowsOf(acme, (await generate(acme, input)).id);
    expect(
      after.map((row) => [row.date, row.predictedValue, row.lowerBound, row.upperBound]),
    ).toEqual(before.map((row) => [row.date, row.predictedValue, row.lowerBound, row.upperBound]));
    // The rows see the spike as actuals, with the accuracy it earns.
    expect(after.slice(0, 4).map((row) => row.actualValue)).toEqual([
      '1000000.00',
      '0.00',
      '0.00',
      '2000000.00',
    ]);
    expect(Number(after[0]!.accuracyPercentage)).toBeLessThan(0.1);

    // Rows written before their periods ended (no actual stored) get the same actuals at read
    // time, from the sales of their period.
    await db.pool.query(sql.unsafe`
      UPDATE ${table(acme, 'forecasts')} SET actual_value = NULL, accuracy_percentage = NULL
      WHERE run_id = ${after[0]!.runId}`);
    const read = await rowsOf(acme, after[0]!.runId!);
    expect(read.map((row) => [row.date, row.actualValue, row.accuracyPercentage])).toEqual(
      after.map((row) => [row.date, row.actualValue, row.accuracyPercentage]),
    );
  });

  test('WEEKLY: the first period is the ISO week containing asOf; the partial week before asOf is not history', async () => {
    const product = await addProduct(acme, 'Weekly bitters');
    // Thursday 2026-02-26 is inside the week of Monday 2026-02-23.
    await addDailySales(
      acme,
      product,
      '2025-06-02',
      Array.from({ length: 268 }, () => 10),
    );
    const run = await generate(acme, {
      type: 'DEMAND',
      periodType: 'WEEKLY',
      horizon: 3,
      productIds: [product],
      model: 'SEASONAL_NAIVE',
      asOf: '2026-02-26',
    });
    const rows = await rowsOf(acme, run.id);
    expect(rows.map((row) => [row.date, row.periodType, row.predictedValue])).toEqual([
      ['2026-02-23', 'WEEKLY', '70.00'],
      ['2026-03-02', 'WEEKLY', '70.00'],
      ['2026-03-09', 'WEEKLY', '70.00'],
    ]);
  });
});

describe('revenue and cash flow', () => {
  test('REVENUE is per currency: GBP and USD are never added up', async () => {
    const product = await addProduct(acme, 'Export whisky');
    await addDailySales(
      acme,
      product,
      dayOffset(AS_OF, -60),
      Array.from({ length: 60 }, () => 2),
      'GBP',
    );
    await addDailySales(
      acme,
      product,
      dayOffset(AS_OF, -60),
      Array.from({ length: 60 }, () => 5),
      'USD',
    );
    const run = await generate(acme, {
      type: 'REVENUE',
      periodType: 'DAILY',
      horizon: 3,
      productIds: [product],
      model: 'SEASONAL_NAIVE',
      asOf: AS_OF,
    });
    const rows = await rowsOf(acme, run.id);
    expect(rows.map((row) => [row.currency, row.predictedValue]).sort()).toEqual([
      ['GBP', '20.00'],
      ['GBP', '20.00'],
      ['GBP', '20.00'],
      ['USD', '50.00'],
      ['USD', '50.00'],
      ['USD', '50.00'],
    ]);
  });

  test('CASH_FLOW: revenue collected 30 days on, less costs paid 30 days on (the default terms)', async () => {
    const cash = await tenantWithKeys(db, 'cash');
    const product = await addProduct(cash, 'Steady gin');
    // 2 units a day at 10 (cost 4) from 1 September 2025 to 28 February 2026.
    await addDailySales(
      cash,
      product,
      '2025-09-01',
      Array.from({ length: 181 }, () => 2),
    );
    const run = await generate(cash, {
      type: 'CASH_FLOW',
      periodType: 'MONTHLY',
      horizon: 2,
      model: 'SEASONAL_NAIVE',
      asOf: '2026-03-15',
    });
    expect(run).toMatchObject({ status: 'SUCCEEDED', productsTotal: 1 });
    const rows = await rowsOf(cash, run.id);
    // March: February's revenue (28 days x 20) less February's cost (28 days x 8) = 336. April:
    // March's forecast revenue (February's again) less its cost at the history's ratio (0.4).
    expect(rows.map((row) => [row.date, row.productId, row.currency, row.predictedValue])).toEqual([
      ['2026-03-01', null, 'GBP', '336.00'],
      ['2026-04-01', null, 'GBP', '336.00'],
    ]);
  });
});

describe('bad input: refused with the field named, and no run row written', () => {
  const base: GenerateForecastsInput = {
    type: 'DEMAND',
    periodType: 'DAILY',
    horizon: 7,
    model: 'ETS',
  };
  test.each([
    ['horizon 0', { horizon: 0 }, 'BAD_USER_INPUT', 'horizon'],
    ['horizon 367 DAILY', { horizon: 367 }, 'BAD_USER_INPUT', 'horizon'],
    ['horizon 105 WEEKLY', { periodType: 'WEEKLY', horizon: 105 }, 'BAD_USER_INPUT', 'horizon'],
    ['horizon 37 MONTHLY', { periodType: 'MONTHLY', horizon: 37 }, 'BAD_USER_INPUT', 'horizon'],
    ['QUARTERLY', { periodType: 'QUARTERLY' }, 'BAD_USER_INPUT', 'periodType'],
    ['confidenceLevel 0', { confidenceLevel: 0 }, 'BAD_USER_INPUT', 'confidenceLevel'],
    ['confidenceLevel 1', { confidenceLevel: 1 }, 'BAD_USER_INPUT', 'confidenceLevel'],
    ['confidenceLevel 1.5', { confidenceLevel: 1.5 }, 'BAD_USER_INPUT', 'confidenceLevel'],
    ['asOf in the future', { asOf: iso(Date.now() + 2 * DAY) }, 'BAD_USER_INPUT', 'asOf'],
    [
      'an unknown product',
      { productIds: ['00000000-0000-4000-8000-000000000000'] },
      'NOT_FOUND',
      'productIds',
    ],
    ['a product id that is not a UUID', { productIds: ['gin'] }, 'NOT_FOUND', 'productIds'],
  ] as const)('%s', async (_name, change, code, field) => {
    const runs = await runCount(acme);
    const result = await failure(api.client(acme.key), GenerateForecastsDocument, {
      input: { ...base, productIds: [seasonalProduct], ...change } as GenerateForecastsInput,
    });
    expect(firstError(result)).toMatchObject({ code });
    expect(result.errors[0]?.extensions.field).toBe(field);
    expect(await runCount(acme)).toBe(runs);
  });

  test("another tenant's product is NOT_FOUND; a product without sales is BAD_USER_INPUT", async () => {
    const betaProduct = await addProduct(beta, 'Beta gin');
    await addDailySales(
      beta,
      betaProduct,
      dayOffset(AS_OF, -30),
      Array.from({ length: 30 }, () => 1),
    );
    const unsold = await addProduct(acme, 'Unsold');
    const runs = await runCount(acme);
    const foreign = await failure(api.client(acme.key), GenerateForecastsDocument, {
      input: { ...base, productIds: [betaProduct] },
    });
    expect(firstError(foreign).code).toBe('NOT_FOUND');
    expect(foreign.errors[0]?.extensions.field).toBe('productIds');
    const none = await failure(api.client(acme.key), GenerateForecastsDocument, {
      input: { ...base, productIds: [unsold], asOf: AS_OF },
    });
    expect(firstError(none).code).toBe('BAD_USER_INPUT');
    expect(none.errors[0]?.extensions.field).toBe('productIds');
    expect(await runCount(acme)).toBe(runs);
    expect(await runCount(beta)).toBe(0);
  });

  test('a VIEWER and a read-only key may not generate', async () => {
    const runs = await runCount(acme);
    for (const client of [api.client(acme.readKey), api.client(acme.session('viewer'))]) {
      const result = await failure(client, GenerateForecastsDocument, {
        input: { ...base, productIds: [seasonalProduct] },
      });
      expect(firstError(result).code).toBe('FORBIDDEN');
    }
    expect(await runCount(acme)).toBe(runs);
  });
});

describe('plans, usage and the audit log', () => {
  test('Starter gets SEASONAL_NAIVE and ETS; AUTO and MSTL are PAYMENT_REQUIRED', async () => {
    const small = await tenantWithKeys(db, 'small');
    const product = await addProduct(small, 'Starter gin');
    await addDailySales(
      small,
      product,
      dayOffset(AS_OF, -30),
      Array.from({ length: 30 }, () => 3),
    );
    await db.pool.query(sql.unsafe`
      UPDATE public.tenants SET subscription_tier = 'starter' WHERE id = ${small.id}`);
    const client = api.client(small.session('member'));
    for (const model of ['AUTO', 'MSTL'] as const) {
      const result = await failure(client, GenerateForecastsDocument, {
        input: {
          type: 'DEMAND',
          periodType: 'DAILY',
          horizon: 7,
          productIds: [product],
          model,
          asOf: AS_OF,
        },
      });
      expect(firstError(result)).toMatchObject({
        code: 'PAYMENT_REQUIRED',
        message: expect.stringContaining('Professional and Enterprise'),
      });
    }
    expect(await runCount(small)).toBe(0);
    for (const model of ['SEASONAL_NAIVE', 'ETS'] as const) {
      const run = (
        await client.request(GenerateForecastsDocument, {
          input: {
            type: 'DEMAND',
            periodType: 'DAILY',
            horizon: 7,
            productIds: [product],
            model,
            asOf: AS_OF,
          },
        })
      ).generateForecasts;
      expect(run.status).toBe('SUCCEEDED');
    }
    // The monthly limit: Starter's 100 runs, reached, is QUOTA_EXCEEDED with no run written.
    await db.pool.query(sql.unsafe`
      INSERT INTO ${table(small, 'forecast_runs')} (status, forecast_type, period_type, horizon, model,
        as_of, confidence_level, requested_by)
      SELECT 'SUCCEEDED', 'DEMAND', 'DAILY', 7, 'ETS', ${AS_OF}, 0.95, 'test' FROM generate_series(1, 98)`);
    const over = await failure(client, GenerateForecastsDocument, {
      input: {
        type: 'DEMAND',
        periodType: 'DAILY',
        horizon: 7,
        productIds: [product],
        model: 'ETS',
        asOf: AS_OF,
      },
    });
    expect(firstError(over).code).toBe('QUOTA_EXCEEDED');
    expect(over.errors[0]?.extensions).toMatchObject({
      metric: 'FORECASTS_GENERATED',
      limit: 100,
      used: 100,
    });
    expect(await runCount(small)).toBe(100);
  });

  test('each run counts in usage as FORECASTS_GENERATED and is audited as forecast.generated', async () => {
    const counted = await tenantWithKeys(db, 'counted');
    const product = await addProduct(counted, 'Counted gin');
    await addDailySales(
      counted,
      product,
      dayOffset(AS_OF, -30),
      Array.from({ length: 30 }, () => 3),
    );
    const ids: string[] = [];
    for (let i = 0; i < 2; i += 1) {
      ids.push((await demand(counted, [product], 'ETS', 5)).id);
    }
    const usage = (await api.client(counted.readKey).request(UsageDocument)).usage;
    expect(usage.items.find((item) => item.metric === 'FORECASTS_GENERATED')).toMatchObject({
      used: 2,
      limit: 1000,
    });
    const entries = await db.pool.any(sql.type(
      z.object({ actor: z.string(), resource_id: z.string(), changes: z.unknown() }),
    )`
      SELECT actor, resource_id, changes FROM public.audit_logs
      WHERE tenant_id = ${counted.id} AND action = 'forecast.generated' ORDER BY created_at`);
    expect(entries.map((entry) => entry.resource_id)).toEqual(ids);
    expect(entries[0]).toMatchObject({
      actor: expect.stringMatching(/^api_key:/),
      changes: {
        type: 'DEMAND',
        periodType: 'DAILY',
        horizon: 5,
        model: 'ETS',
        asOf: AS_OF,
        productIds: [product],
      },
    });
    const runs = (await api.client(counted.readKey).request(ForecastRunsDocument, { first: 1 }))
      .forecastRuns;
    expect(runs.totalCount).toBe(2);
    expect(runs.edges.map((edge) => edge.node.id)).toEqual([ids[1]]);
    const rest = (
      await api
        .client(counted.readKey)
        .request(ForecastRunsDocument, { first: 5, after: runs.pageInfo.endCursor })
    ).forecastRuns;
    expect(rest.edges.map((edge) => edge.node.id)).toEqual([ids[0]]);
  });
});

describe('one run at a time per tenant', () => {
  test('while a run is queued, another is a CONFLICT and writes nothing', async () => {
    const busy = await tenantWithKeys(db, 'busy');
    const product = await addProduct(busy, 'Busy gin');
    await addDailySales(
      busy,
      product,
      dayOffset(AS_OF, -30),
      Array.from({ length: 30 }, () => 3),
    );
    await db.pool.query(sql.unsafe`
      INSERT INTO ${table(busy, 'forecast_runs')} (status, forecast_type, period_type, horizon, model,
        as_of, confidence_level, requested_by)
      VALUES ('RUNNING', 'DEMAND', 'DAILY', 7, 'ETS', ${AS_OF}, 0.95, 'test')`);
    const result = await failure(api.client(busy.key), GenerateForecastsDocument, {
      input: {
        type: 'DEMAND',
        periodType: 'DAILY',
        horizon: 7,
        productIds: [product],
        model: 'ETS',
        asOf: AS_OF,
      },
    });
    expect(firstError(result).code).toBe('CONFLICT');
    expect(await runCount(busy)).toBe(1);
  });

  test('two at once: the second waits for the first, never interleaved', async () => {
    const input: GenerateForecastsInput = {
      type: 'DEMAND',
      periodType: 'DAILY',
      horizon: 14,
      productIds: [seasonalProduct],
      model: 'AUTO',
      asOf: AS_OF,
    };
    const [first, second] = await Promise.all([generate(acme, input), generate(acme, input)]);
    const runs = [first, second].sort((a, b) => (a.startedAt! < b.startedAt! ? -1 : 1));
    expect(runs.map((run) => run.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(Date.parse(runs[1]!.startedAt!)).toBeGreaterThanOrEqual(
      Date.parse(runs[0]!.finishedAt!),
    );
    const current = (
      await api.client(acme.readKey).request(RunForecastsDocument, { productId: seasonalProduct })
    ).forecasts;
    expect(new Set(current.map((row) => row.runId))).toEqual(new Set([runs[1]!.id]));
  });
});

describe('isolation', () => {
  test("another tenant sees none of a tenant's runs or forecasts", async () => {
    const run = await demand(acme, [seasonalProduct], 'ETS', 3);
    const other = api.client(beta.readKey);
    expect((await other.request(ForecastRunDocument, { id: run.id })).forecastRun).toBeNull();
    expect((await other.request(RunForecastsDocument, { runId: run.id })).forecasts).toEqual([]);
    const listed = (await other.request(ForecastRunsDocument, { first: 100 })).forecastRuns;
    expect(listed.edges.map((edge) => edge.node.id)).not.toContain(run.id);
    expect(
      (await api.client(acme.readKey).request(ForecastRunDocument, { id: run.id })).forecastRun?.id,
    ).toBe(run.id);
  });
});
