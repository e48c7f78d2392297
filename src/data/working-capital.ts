/**
 * Working-capital metrics of the tenant's company, one row per (period type, period date). The
 * totals, ratios and day counts are GENERATED columns: PostgreSQL computes them, we only read them.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';
import { BadUserInputError, NotFoundError } from '../errors.js';
import { guarded, type ConstraintMessages } from './constraint-errors.js';

export const METRICS_PERIOD_TYPES = ['DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY'] as const;
export type MetricsPeriodType = (typeof METRICS_PERIOD_TYPES)[number];

/** Rows a list returns at most; narrow it with from / to. */
export const MAX_METRICS_ROWS = 1000;

export const WorkingCapitalRow = z.object({
  id: z.string(),
  company_id: z.string(),
  period_date: z.string(),
  period_type: z.enum(METRICS_PERIOD_TYPES),
  cash: z.string(),
  accounts_receivable: z.string(),
  inventory: z.string(),
  other_current_assets: z.string(),
  accounts_payable: z.string(),
  short_term_debt: z.string(),
  other_current_liabilities: z.string(),
  revenue: z.string().nullable(),
  cost_of_goods_sold: z.string().nullable(),
  days_in_period: z.number(),
  total_current_assets: z.string(),
  total_current_liabilities: z.string(),
  working_capital: z.string(),
  current_ratio: z.string().nullable(),
  quick_ratio: z.string().nullable(),
  days_sales_outstanding: z.string().nullable(),
  days_inventory_outstanding: z.string().nullable(),
  days_payables_outstanding: z.string().nullable(),
  cash_conversion_cycle: z.string().nullable(),
  notes: z.string().nullable(),
  source: z.enum(['ENTERED', 'DERIVED']),
  created_at: z.date(),
  updated_at: z.date(),
});
export type WorkingCapitalRow = z.infer<typeof WorkingCapitalRow>;

const columns = sql.fragment`
  w.id, w.company_id, w.period_date, w.period_type, w.cash, w.accounts_receivable, w.inventory,
  w.other_current_assets, w.accounts_payable, w.short_term_debt, w.other_current_liabilities,
  w.revenue, w.cost_of_goods_sold, w.days_in_period, w.total_current_assets,
  w.total_current_liabilities, w.working_capital, w.current_ratio, w.quick_ratio,
  w.days_sales_outstanding, w.days_inventory_outstanding, w.days_payables_outstanding,
  w.cash_conversion_cycle, w.notes, w.source, w.created_at, w.updated_at`;

/** The tenant's company: the first one, as everywhere else (one per tenant today). */
const companyId = sql.fragment`(SELECT c.id FROM companies c ORDER BY c.created_at, c.id LIMIT 1)`;

export async function listWorkingCapitalMetrics(
  db: CommonQueryMethods,
  filter: { from: string | null; to: string | null; periodType: MetricsPeriodType | null },
) {
  return db.any(sql.type(WorkingCapitalRow)`
    /* listWorkingCapitalMetrics */
    SELECT ${columns} FROM working_capital_metrics w
    WHERE w.company_id = ${companyId}
      AND (${filter.periodType}::text IS NULL OR w.period_type = ${filter.periodType})
      AND (${filter.from}::date IS NULL OR w.period_date >= ${filter.from}::date)
      AND (${filter.to}::date IS NULL OR w.period_date <= ${filter.to}::date)
    ORDER BY w.period_date, w.period_type
    LIMIT ${MAX_METRICS_ROWS}`);
}

export type WorkingCapitalInput = {
  periodDate: string;
  periodType: MetricsPeriodType;
  cash: string;
  accountsReceivable: string;
  inventory: string;
  otherCurrentAssets: string;
  accountsPayable: string;
  shortTermDebt: string;
  otherCurrentLiabilities: string;
  revenue?: string | null;
  costOfGoodsSold?: string | null;
  daysInPeriod?: number | null;
  notes?: string | null;
};

export const DEFAULT_DAYS_IN_PERIOD = 30;
const MAX_NOTES = 10_000;
/** numeric(15,2) holds 13 digits before the point: a total must stay below 10^13. */
const MAX_TOTAL_CENTS = 10n ** 15n;

const cents = (money: string): bigint => {
  const [whole = '0', fraction = ''] = money.split('.');
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
};

export const WORKING_CAPITAL_CONSTRAINTS: ConstraintMessages = {
  working_capital_metrics_period_type_valid: {
    field: 'periodType',
    message: 'periodType must be DAILY, WEEKLY, MONTHLY or QUARTERLY.',
  },
  working_capital_metrics_days_in_period_positive: {
    field: 'daysInPeriod',
    message: 'daysInPeriod must be 1 or more.',
  },
};

function validateMetrics(input: WorkingCapitalInput) {
  const amounts = {
    cash: input.cash,
    accountsReceivable: input.accountsReceivable,
    inventory: input.inventory,
    otherCurrentAssets: input.otherCurrentAssets,
    accountsPayable: input.accountsPayable,
    shortTermDebt: input.shortTermDebt,
    otherCurrentLiabilities: input.otherCurrentLiabilities,
    revenue: input.revenue,
    costOfGoodsSold: input.costOfGoodsSold,
  };
  for (const [field, value] of Object.entries(amounts)) {
    if (value != null && value.startsWith('-')) {
      throw new BadUserInputError(`${field} must not be negative.`, { field });
    }
  }
  const totals = {
    currentAssets:
      cents(input.cash) +
      cents(input.accountsReceivable) +
      cents(input.inventory) +
      cents(input.otherCurrentAssets),
    currentLiabilities:
      cents(input.accountsPayable) +
      cents(input.shortTermDebt) +
      cents(input.otherCurrentLiabilities),
  };
  if (totals.currentAssets >= MAX_TOTAL_CENTS || totals.currentLiabilities >= MAX_TOTAL_CENTS) {
    throw new BadUserInputError(
      'Total current assets and total current liabilities must each be below 10000000000000.',
      { field: totals.currentAssets >= MAX_TOTAL_CENTS ? 'cash' : 'accountsPayable' },
    );
  }
  if (input.daysInPeriod != null && input.daysInPeriod < 1) {
    throw new BadUserInputError('daysInPeriod must be 1 or more.', { field: 'daysInPeriod' });
  }
  if (input.notes != null && input.notes.length > MAX_NOTES) {
    throw new BadUserInputError(`notes must be at most ${MAX_NOTES} characters.`, {
      field: 'notes',
    });
  }
}

/**
 * Creates the period's row or replaces every figure of it (a field left out takes its default:
 * revenue, cost of goods sold and notes null, days in period 30). One statement.
 */
export async function upsertWorkingCapitalMetrics(
  db: CommonQueryMethods,
  input: WorkingCapitalInput,
): Promise<WorkingCapitalRow> {
  validateMetrics(input);
  const row = await guarded(WORKING_CAPITAL_CONSTRAINTS, () =>
    db.maybeOne(sql.type(WorkingCapitalRow)`
      /* upsertWorkingCapitalMetrics */
      INSERT INTO working_capital_metrics AS w (company_id, period_date, period_type, cash,
        accounts_receivable, inventory, other_current_assets, accounts_payable, short_term_debt,
        other_current_liabilities, revenue, cost_of_goods_sold, days_in_period, notes)
      SELECT c.id, ${input.periodDate}::date, ${input.periodType}, ${input.cash}::numeric,
        ${input.accountsReceivable}::numeric, ${input.inventory}::numeric,
        ${input.otherCurrentAssets}::numeric, ${input.accountsPayable}::numeric,
        ${input.shortTermDebt}::numeric, ${input.otherCurrentLiabilities}::numeric,
        ${input.revenue ?? null}::numeric, ${input.costOfGoodsSold ?? null}::numeric,
        ${input.daysInPeriod ?? DEFAULT_DAYS_IN_PERIOD}::int, ${input.notes ?? null}::text
      FROM companies c ORDER BY c.created_at, c.id LIMIT 1
      ON CONFLICT ON CONSTRAINT working_capital_metrics_company_period_key DO UPDATE SET
        cash = EXCLUDED.cash,
        accounts_receivable = EXCLUDED.accounts_receivable,
        inventory = EXCLUDED.inventory,
        other_current_assets = EXCLUDED.other_current_assets,
        accounts_payable = EXCLUDED.accounts_payable,
        short_term_debt = EXCLUDED.short_term_debt,
        other_current_liabilities = EXCLUDED.other_current_liabilities,
        revenue = EXCLUDED.revenue,
        cost_of_goods_sold = EXCLUDED.cost_of_goods_sold,
        days_in_period = EXCLUDED.days_in_period,
        notes = EXCLUDED.notes,
        source = 'ENTERED'
      RETURNING ${columns}`),
  );
  if (!row) throw new NotFoundError('This organisation has no company to record metrics for.');
  return row;
}

export type DerivedMetrics = {
  periodDate: string;
  accountsReceivable: string;
  inventory: string;
  accountsPayable: string;
  cash: string;
  otherCurrentAssets: string;
  shortTermDebt: string;
  otherCurrentLiabilities: string;
  revenue: string;
  costOfGoodsSold: string;
  daysInPeriod: number;
};

/**
 * Writes computed periods as DERIVED rows in one statement: a period without a row gets one, a
 * DERIVED row is replaced, an ENTERED row (a user's figures) is left as it is. Returns every row
 * of those periods, entered ones included, oldest first.
 */
export async function replaceDerivedMetrics(
  db: CommonQueryMethods,
  periodType: MetricsPeriodType,
  periods: readonly DerivedMetrics[],
): Promise<readonly WorkingCapitalRow[]> {
  await db.query(sql.unsafe`
    /* replaceDerivedMetrics */
    INSERT INTO working_capital_metrics AS w (company_id, period_date, period_type, cash,
      accounts_receivable, inventory, other_current_assets, accounts_payable, short_term_debt,
      other_current_liabilities, revenue, cost_of_goods_sold, days_in_period, source)
    SELECT ${companyId}, m.period_date, ${periodType}, m.cash, m.accounts_receivable, m.inventory,
      m.other_current_assets, m.accounts_payable, m.short_term_debt, m.other_current_liabilities,
      m.revenue, m.cost_of_goods_sold, m.days_in_period, 'DERIVED'
    FROM ${sql.unnest(
      periods.map((period) => [
        period.periodDate,
        period.cash,
        period.accountsReceivable,
        period.inventory,
        period.otherCurrentAssets,
        period.accountsPayable,
        period.shortTermDebt,
        period.otherCurrentLiabilities,
        period.revenue,
        period.costOfGoodsSold,
        period.daysInPeriod,
      ]),
      [
        'date',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'numeric',
        'int4',
      ],
    )} AS m(period_date, cash, accounts_receivable, inventory, other_current_assets,
      accounts_payable, short_term_debt, other_current_liabilities, revenue, cost_of_goods_sold,
      days_in_period)
    WHERE ${companyId} IS NOT NULL
    ON CONFLICT ON CONSTRAINT working_capital_metrics_company_period_key DO UPDATE SET
      cash = EXCLUDED.cash,
      accounts_receivable = EXCLUDED.accounts_receivable,
      inventory = EXCLUDED.inventory,
      other_current_assets = EXCLUDED.other_current_assets,
      accounts_payable = EXCLUDED.accounts_payable,
      short_term_debt = EXCLUDED.short_term_debt,
      other_current_liabilities = EXCLUDED.other_current_liabilities,
      revenue = EXCLUDED.revenue,
      cost_of_goods_sold = EXCLUDED.cost_of_goods_sold,
      days_in_period = EXCLUDED.days_in_period,
      notes = NULL
    WHERE w.source = 'DERIVED'`);
  return db.any(sql.type(WorkingCapitalRow)`
    /* metricsOfPeriods */
    SELECT ${columns} FROM working_capital_metrics w
    WHERE w.company_id = ${companyId} AND w.period_type = ${periodType}
      AND w.period_date = ANY(${sql.array(
        periods.map((period) => period.periodDate),
        'date',
      )})
    ORDER BY w.period_date`);
}
