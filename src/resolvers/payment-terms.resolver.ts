import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { replacePaymentTerms, tenantPaymentTerms } from '../data/payment-terms.js';
import type { RequestContext } from '../graphql/context.js';
import { PaymentTermsInput } from '../schema/payment-terms.input.js';
import { PaymentTerms, paymentTermsToGraphQL } from '../schema/payment-terms.type.js';

@Resolver()
export class PaymentTermsResolver {
  @Query(() => PaymentTerms, {
    description: "The tenant's payment terms (the defaults until set).",
  })
  async paymentTerms(@Ctx() ctx: RequestContext): Promise<PaymentTerms> {
    return paymentTermsToGraphQL(await tenantPaymentTerms(ctx.db, ctx.tenantId));
  }

  @Mutation(() => PaymentTerms, {
    description:
      "Replaces the tenant's payment terms (every other setting is kept); ADMIN and OWNER. Audited.",
  })
  async updatePaymentTerms(
    @Arg('input', () => PaymentTermsInput) input: PaymentTermsInput,
    @Ctx() ctx: RequestContext,
  ): Promise<PaymentTerms> {
    return ctx.platform(async (db) => {
      const { before, after } = await replacePaymentTerms(db, ctx.tenantId, {
        defaultCustomerDays: input.defaultCustomerDays,
        customerDays: input.customerDays.map((each) => ({
          channel: each.channel,
          days: each.days,
        })),
        supplierDays: input.supplierDays,
      });
      await ctx.audit(db, {
        action: 'tenant.payment_terms_changed',
        tenantId: ctx.tenantId,
        resourceType: 'tenant',
        resourceId: ctx.tenantId,
        changes: { before, after },
      });
      return paymentTermsToGraphQL(after);
    });
  }
}
