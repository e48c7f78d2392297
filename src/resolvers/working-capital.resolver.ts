import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import {
  listWorkingCapitalMetrics,
  MAX_METRICS_ROWS,
  upsertWorkingCapitalMetrics,
} from '../data/working-capital.js';
import { optionalDateRange } from '../graphql/arguments.js';
import type { RequestContext } from '../graphql/context.js';
import { GraphQLDate, isoDate } from '../graphql/scalars.js';
import { PeriodTypeEnum } from '../schema/enums.js';
import { WorkingCapitalMetricsInput } from '../schema/working-capital.input.js';
import { WorkingCapitalMetrics, workingCapitalFromRow } from '../schema/working-capital.type.js';

@Resolver(() => WorkingCapitalMetrics)
export class WorkingCapitalResolver {
  @Query(() => [WorkingCapitalMetrics], {
    description: `The company's metrics per period, oldest first (at most ${MAX_METRICS_ROWS}; narrow with from / to).`,
  })
  async workingCapitalMetrics(
    @Arg('from', () => GraphQLDate, { nullable: true }) from: Date | null,
    @Arg('to', () => GraphQLDate, { nullable: true }) to: Date | null,
    @Arg('periodType', () => PeriodTypeEnum, { nullable: true }) periodType: PeriodTypeEnum | null,
    @Ctx() ctx: RequestContext,
  ): Promise<WorkingCapitalMetrics[]> {
    const range = optionalDateRange(from, to);
    const rows = await listWorkingCapitalMetrics(ctx.db, {
      ...range,
      periodType: periodType ?? null,
    });
    return rows.map(workingCapitalFromRow);
  }

  @Mutation(() => WorkingCapitalMetrics, {
    description: 'Records the figures of one period (period type + date), replacing any there.',
  })
  async upsertWorkingCapitalMetrics(
    @Arg('input', () => WorkingCapitalMetricsInput) input: WorkingCapitalMetricsInput,
    @Ctx() ctx: RequestContext,
  ): Promise<WorkingCapitalMetrics> {
    const row = await upsertWorkingCapitalMetrics(ctx.db, {
      ...input,
      periodDate: isoDate(input.periodDate),
    });
    return workingCapitalFromRow(row);
  }
}
