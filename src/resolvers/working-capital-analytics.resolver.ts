import { Arg, Ctx, Int, Mutation, Query, Resolver } from 'type-graphql';
import { measuredPeriods } from '../analytics/periods.js';
import { changesBetween } from '../analytics/trend.js';
import { workingCapitalSnapshots } from '../analytics/working-capital.js';
import { tenantPaymentTerms } from '../data/payment-terms.js';
import { replaceDerivedMetrics } from '../data/working-capital.js';
import { BadUserInputError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { GraphQLCurrency, GraphQLDate, isoDate } from '../graphql/scalars.js';
import { PeriodTypeEnum } from '../schema/enums.js';
import {
  snapshotToGraphQL,
  WorkingCapitalSnapshot,
  WorkingCapitalTrendPoint,
} from '../schema/working-capital-snapshot.type.js';
import { WorkingCapitalMetrics, workingCapitalFromRow } from '../schema/working-capital.type.js';

export const DEFAULT_WINDOW_DAYS = 90;
export const MAX_WINDOW_DAYS = 365;

const todayIso = () => isoDate(new Date());

@Resolver()
export class WorkingCapitalAnalyticsResolver {
  @Query(() => WorkingCapitalSnapshot, {
    description:
      "Working capital as at asOf (default today), computed now from the tenant's data over the windowDays (1 to 365) before it, in one currency (default the company's). Read-only.",
  })
  async workingCapital(
    @Arg('asOf', () => GraphQLDate, { nullable: true }) asOf: Date | null,
    @Arg('windowDays', () => Int, { defaultValue: DEFAULT_WINDOW_DAYS }) windowDays: number,
    @Arg('currency', () => GraphQLCurrency, { nullable: true }) currency: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<WorkingCapitalSnapshot> {
    if (!Number.isInteger(windowDays) || windowDays < 1 || windowDays > MAX_WINDOW_DAYS) {
      throw new BadUserInputError(`windowDays must be from 1 to ${MAX_WINDOW_DAYS}.`, {
        field: 'windowDays',
      });
    }
    const point = { asOf: asOf ? isoDate(asOf) : todayIso(), windowDays };
    const terms = await tenantPaymentTerms(ctx.db, ctx.tenantId);
    const [snapshot] = await workingCapitalSnapshots(ctx.db, [point], currency ?? null, terms);
    return snapshotToGraphQL(snapshot!);
  }

  @Query(() => [WorkingCapitalTrendPoint], {
    description:
      'Working capital per period from the one containing from to the one containing to (at most 120 periods, none after today), each against the one before. Computed now, read-only.',
  })
  async workingCapitalTrend(
    @Arg('from', () => GraphQLDate) from: Date,
    @Arg('to', () => GraphQLDate) to: Date,
    @Arg('periodType', () => PeriodTypeEnum) periodType: PeriodTypeEnum,
    @Arg('currency', () => GraphQLCurrency, { nullable: true }) currency: string | null,
    @Ctx() ctx: RequestContext,
  ): Promise<WorkingCapitalTrendPoint[]> {
    const periods = measuredPeriods(periodType, isoDate(from), isoDate(to), todayIso());
    const terms = await tenantPaymentTerms(ctx.db, ctx.tenantId);
    const snapshots = await workingCapitalSnapshots(ctx.db, periods, currency ?? null, terms);
    return snapshots.map((snapshot, index) => ({
      periodDate: periods[index]!.periodDate,
      periodType,
      snapshot: snapshotToGraphQL(snapshot),
      changes: changesBetween(snapshots[index - 1], snapshot),
    }));
  }

  @Mutation(() => [WorkingCapitalMetrics], {
    description:
      "Computes each period from the one containing from to the one containing to (at most 120, none after today) in the company's currency, and saves it as a DERIVED metrics row: re-running replaces DERIVED rows, never ENTERED ones. Returns the rows of those periods.",
  })
  async computeWorkingCapitalMetrics(
    @Arg('periodType', () => PeriodTypeEnum) periodType: PeriodTypeEnum,
    @Arg('from', () => GraphQLDate) from: Date,
    @Arg('to', () => GraphQLDate) to: Date,
    @Ctx() ctx: RequestContext,
  ): Promise<WorkingCapitalMetrics[]> {
    const periods = measuredPeriods(periodType, isoDate(from), isoDate(to), todayIso());
    const terms = await tenantPaymentTerms(ctx.db, ctx.tenantId);
    const snapshots = await workingCapitalSnapshots(ctx.db, periods, null, terms);
    const rows = await replaceDerivedMetrics(
      ctx.db,
      periodType,
      snapshots.map((snapshot, index) => ({
        periodDate: periods[index]!.periodDate,
        cash: snapshot.cash,
        accountsReceivable: snapshot.accountsReceivable,
        inventory: snapshot.inventory,
        otherCurrentAssets: snapshot.otherCurrentAssets,
        accountsPayable: snapshot.accountsPayable,
        shortTermDebt: snapshot.shortTermDebt,
        otherCurrentLiabilities: snapshot.otherCurrentLiabilities,
        revenue: snapshot.revenue,
        costOfGoodsSold: snapshot.costOfGoodsSold,
        daysInPeriod: snapshot.windowDays,
      })),
    );
    return rows.map(workingCapitalFromRow);
  }
}
