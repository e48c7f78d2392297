/**
 * Working capital as at a date, from the figures of src/data/working-capital-figures.ts: the
 * balances (each DERIVED from the tenant's data or ENTERED in a metrics row), the day counts, the
 * ratios, and warnings for whatever made a figure less than it seems. docs/analytics.md writes
 * every formula out.
 */
import type { CommonQueryMethods } from 'slonik';
import type { PaymentTerms } from '../data/payment-terms.js';
import {
  workingCapitalFigures,
  type FiguresPoint,
  type FiguresRow,
} from '../data/working-capital-figures.js';
import { divideScaled, formatCents, formatScaled, toCents } from './decimal.js';

export type FigureSource = 'DERIVED' | 'ENTERED';

/** The figures a snapshot says the source of. */
export const SOURCED_FIGURES = [
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
] as const;
export type SourcedFigure = (typeof SOURCED_FIGURES)[number];

export type Snapshot = {
  asOf: string;
  windowDays: number;
  currency: string;
  revenue: string;
  netRevenue: string;
  costOfGoodsSold: string;
  inventory: string;
  accountsReceivable: string;
  accountsPayable: string;
  cash: string;
  otherCurrentAssets: string;
  shortTermDebt: string;
  otherCurrentLiabilities: string;
  totalCurrentAssets: string;
  totalCurrentLiabilities: string;
  workingCapital: string;
  daysSalesOutstanding: string;
  daysInventoryOutstanding: string;
  daysPayablesOutstanding: string;
  cashConversionCycle: string;
  currentRatio: string;
  quickRatio: string;
  sources: { field: SourcedFigure; source: FigureSource }[];
  dataWarnings: string[];
};

/** The snapshot of one point from its figures (in the currency they were asked in). */
export function snapshotOf(point: FiguresPoint, row: FiguresRow): Snapshot {
  const warnings: string[] = [];
  const currency = row.currency;
  const companyCurrency = row.company_currency ?? currency;
  const inCostCurrency = currency === companyCurrency;
  const entered = inCostCurrency && row.entered_period_type !== null ? row : null;
  const sources = new Map<SourcedFigure, FigureSource>(
    SOURCED_FIGURES.map((field) => [field, 'DERIVED']),
  );

  /** An entered figure when the entered row has one, else the derived one. */
  const pick = (field: SourcedFigure, derived: string, enteredValue: string | null): bigint => {
    if (entered && enteredValue !== null) {
      sources.set(field, 'ENTERED');
      return toCents(enteredValue);
    }
    return toCents(derived);
  };

  // Flows over the window: an entered row's revenue and cost count only for a window of its length.
  const sameWindow = entered?.entered_days_in_period === point.windowDays;
  const revenue = pick('revenue', row.revenue, sameWindow ? row.entered_revenue : null);
  const netRevenue = toCents(row.net_revenue);
  const cogs = pick(
    'costOfGoodsSold',
    inCostCurrency ? row.cost_of_goods_sold : '0',
    sameWindow ? row.entered_cost_of_goods_sold : null,
  );
  const receivables = pick(
    'accountsReceivable',
    row.accounts_receivable,
    row.entered_accounts_receivable,
  );
  const inventory = pick('inventory', inCostCurrency ? row.inventory : '0', row.entered_inventory);
  const payables = pick(
    'accountsPayable',
    inCostCurrency ? row.accounts_payable : '0',
    row.entered_accounts_payable,
  );
  const cash = pick('cash', '0', row.entered_cash);
  const otherAssets = pick('otherCurrentAssets', '0', row.entered_other_current_assets);
  const shortTermDebt = pick('shortTermDebt', '0', row.entered_short_term_debt);
  const otherLiabilities = pick(
    'otherCurrentLiabilities',
    '0',
    row.entered_other_current_liabilities,
  );

  if (row.sales === 0) {
    warnings.push(
      `No sales in ${currency} in the ${point.windowDays} days to ${point.asOf}: revenue, receivables and DSO are 0.`,
    );
  }
  if (row.other_currencies.length > 0) {
    warnings.push(
      `Sales in ${row.other_currencies.join(', ')} are not in this ${currency} snapshot's revenue or receivables: ask for each currency.`,
    );
  }
  if (!inCostCurrency) {
    warnings.push(
      `Unit costs are in ${companyCurrency}, the company's currency: cost of goods sold, inventory and payables are 0 in a ${currency} snapshot.`,
    );
  }
  if (inCostCurrency && row.inventory_rows_as_now > 0 && sources.get('inventory') === 'DERIVED') {
    warnings.push(
      `Inventory is valued as now, not as at ${point.asOf}, for ${row.inventory_rows_as_now} stock row(s) whose adjustment history does not reach back that far.`,
    );
  }
  if (entered) {
    warnings.push(
      `Figures marked ENTERED come from the ${entered.entered_period_type} metrics of ${entered.entered_period_date}.`,
    );
  } else if (inCostCurrency) {
    warnings.push(
      'No entered metrics cover this date: cash, other current assets, short-term debt and other current liabilities are 0.',
    );
  }

  const days = BigInt(point.windowDays);
  const dayCount = (balance: bigint, flow: bigint, name: string, flowName: string) => {
    if (flow === 0n) {
      if (balance !== 0n || name === 'DSO') {
        warnings.push(`${name} is 0: ${flowName} is 0 in the window.`);
      }
      return 0n;
    }
    return divideScaled(balance * days, flow, 2);
  };
  const dso = dayCount(receivables, revenue, 'DSO', 'revenue');
  const dio = dayCount(inventory, cogs, 'DIO', 'cost of goods sold');
  const dpo = dayCount(payables, cogs, 'DPO', 'cost of goods sold');
  const currentAssets = cash + receivables + inventory + otherAssets;
  const currentLiabilities = payables + shortTermDebt + otherLiabilities;
  if (currentLiabilities === 0n) {
    warnings.push('Current and quick ratios are 0: there are no current liabilities.');
  }
  return {
    asOf: point.asOf,
    windowDays: point.windowDays,
    currency,
    revenue: formatCents(revenue),
    netRevenue: formatCents(netRevenue),
    costOfGoodsSold: formatCents(cogs),
    inventory: formatCents(inventory),
    accountsReceivable: formatCents(receivables),
    accountsPayable: formatCents(payables),
    cash: formatCents(cash),
    otherCurrentAssets: formatCents(otherAssets),
    shortTermDebt: formatCents(shortTermDebt),
    otherCurrentLiabilities: formatCents(otherLiabilities),
    totalCurrentAssets: formatCents(currentAssets),
    totalCurrentLiabilities: formatCents(currentLiabilities),
    workingCapital: formatCents(currentAssets - currentLiabilities),
    daysSalesOutstanding: formatScaled(dso, 2),
    daysInventoryOutstanding: formatScaled(dio, 2),
    daysPayablesOutstanding: formatScaled(dpo, 2),
    cashConversionCycle: formatScaled(dso + dio - dpo, 2),
    currentRatio: formatScaled(divideScaled(currentAssets, currentLiabilities, 4), 4),
    quickRatio: formatScaled(divideScaled(currentAssets - inventory, currentLiabilities, 4), 4),
    sources: SOURCED_FIGURES.map((field) => ({ field, source: sources.get(field)! })),
    dataWarnings: warnings,
  };
}

/** The snapshots of many points in one statement, in point order; currency null: the company's. */
export async function workingCapitalSnapshots(
  db: CommonQueryMethods,
  points: readonly FiguresPoint[],
  currency: string | null,
  terms: PaymentTerms,
): Promise<Snapshot[]> {
  const rows = await workingCapitalFigures(db, points, currency, terms);
  return rows.map((row, index) => snapshotOf(points[index]!, row));
}
