import { Field, Int, ObjectType } from 'type-graphql';
import type { PaymentTerms as PaymentTermsValue } from '../data/payment-terms.js';

@ObjectType({ simpleResolvers: true, description: 'Days a sales channel takes to pay.' })
export class ChannelPaymentDays {
  @Field(() => String, { description: 'A sales channel, as sales name it (e.g. amazon_uk).' })
  channel!: string;

  @Field(() => Int)
  days!: number;
}

@ObjectType({
  simpleResolvers: true,
  description:
    "The tenant's payment terms, for receivables, payables and the cash-flow forecast. A tenant that has set none gets the documented defaults (docs/analytics.md).",
})
export class PaymentTerms {
  @Field(() => Int, { description: 'Days for a channel that customerDays does not name.' })
  defaultCustomerDays!: number;

  @Field(() => [ChannelPaymentDays], { description: 'Days per channel, by channel name.' })
  customerDays!: ChannelPaymentDays[];

  @Field(() => Int, { description: 'Days after goods are received that suppliers are paid.' })
  supplierDays!: number;
}

export const paymentTermsToGraphQL = (terms: PaymentTermsValue): PaymentTerms => ({
  defaultCustomerDays: terms.defaultCustomerDays,
  customerDays: terms.customerDays.map((each) => ({ ...each })),
  supplierDays: terms.supplierDays,
});
