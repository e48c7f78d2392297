import { ArgsType, Field, Int } from 'type-graphql';
import { DEFAULT_HISTORY_MONTHS } from '../billing/usage.js';

@ArgsType()
export class UsageHistoryArgs {
  @Field(() => Int, {
    nullable: true,
    defaultValue: DEFAULT_HISTORY_MONTHS,
    description: 'How many calendar months, the current one included: 1 to 24 (default 6).',
  })
  months!: number | null;
}
