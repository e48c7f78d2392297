import { Field, InputType, Int } from 'type-graphql';

@InputType()
export class ChannelPaymentDaysInput {
  @Field(() => String, { description: 'A sales channel name: lowercase letters, digits and _.' })
  channel!: string;

  @Field(() => Int, { description: '0 to 365.' })
  days!: number;
}

@InputType({
  description:
    'The whole set of payment terms: it replaces the terms in force (a channel left out of customerDays takes defaultCustomerDays).',
})
export class PaymentTermsInput {
  @Field(() => Int, { description: '0 to 365.' })
  defaultCustomerDays!: number;

  @Field(() => [ChannelPaymentDaysInput], {
    description: 'Each channel at most once, at most 100 channels.',
  })
  customerDays!: ChannelPaymentDaysInput[];

  @Field(() => Int, { description: '0 to 365.' })
  supplierDays!: number;
}
