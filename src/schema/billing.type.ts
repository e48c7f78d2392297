import { Field, ID, ObjectType } from 'type-graphql';
import type { CheckoutSession as CheckoutSessionRecord } from '../billing/checkout.js';
import { GraphQLDateTime } from '../graphql/scalars.js';

@ObjectType({
  simpleResolvers: true,
  description:
    'A Stripe Checkout session: send the OWNER to `url` to pay. The plan changes once Stripe confirms the payment (by webhook), not when this is created.',
})
export class CheckoutSession {
  @Field(() => ID, { description: "Stripe's checkout session id (cs_…)." })
  id!: string;

  @Field(() => String, { description: "Stripe's hosted payment page." })
  url!: string;

  @Field(() => GraphQLDateTime, { description: 'When the session can no longer be paid.' })
  expiresAt!: Date;
}

export const checkoutSessionFromRecord = (record: CheckoutSessionRecord): CheckoutSession => ({
  id: record.id,
  url: record.url,
  expiresAt: record.expiresAt,
});

@ObjectType({
  simpleResolvers: true,
  description:
    "A session of Stripe's customer portal: payment methods, invoices, plan changes and cancellation.",
})
export class BillingPortalSession {
  @Field(() => String, { description: 'Send the OWNER here; it is valid for a short time only.' })
  url!: string;
}
