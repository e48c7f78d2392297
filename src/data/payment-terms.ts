/**
 * Payment terms: how many days after a sale each sales channel pays the tenant, and how many days
 * after goods arrive the tenant pays its suppliers. Kept in the tenant's settings under
 * `paymentTerms`; the one reader here serves working capital (receivables, payables) and the
 * cash-flow forecast alike.
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { BadUserInputError } from '../errors.js';
import { validChannel } from '../validation.js';
import { replaceTenantSettings, tenantSettings } from './tenant-settings.js';

export const MAX_TERM_DAYS = 365;
/** Channels one set of terms may name. */
export const MAX_TERM_CHANNELS = 100;

export type ChannelDays = { channel: string; days: number };

export type PaymentTerms = {
  /** Days for a channel that `customerDays` does not name. */
  defaultCustomerDays: number;
  /** Days per channel, ordered by channel. */
  customerDays: ChannelDays[];
  supplierDays: number;
};

/**
 * The terms of a tenant that has set none: marketplaces pay out on their own schedules (Amazon
 * every 14 days, Shopify Payments within 3), direct sales are paid at checkout, wholesale
 * customers on 60-day invoices, any other channel in 30 days; suppliers are paid in 30.
 */
export const DEFAULT_PAYMENT_TERMS: Readonly<PaymentTerms> = Object.freeze({
  defaultCustomerDays: 30,
  customerDays: [
    { channel: 'amazon_eu', days: 14 },
    { channel: 'amazon_uk', days: 14 },
    { channel: 'amazon_usa', days: 14 },
    { channel: 'direct', days: 0 },
    { channel: 'shopify_eu', days: 3 },
    { channel: 'shopify_uk', days: 3 },
    { channel: 'shopify_usa', days: 3 },
    { channel: 'wholesale', days: 60 },
  ],
  supplierDays: 30,
});

const Days = z.number().int().min(0).max(MAX_TERM_DAYS);

/** What settings.paymentTerms holds once updatePaymentTerms has written it. */
const StoredTerms = z.object({
  defaultCustomerDays: Days,
  customerDays: z.record(z.string().regex(/^[a-z0-9_]{1,50}$/), Days),
  supplierDays: Days,
});

/** The form the forecasting settings documented first: one customer and one supplier term. */
const LegacyTerms = z.object({
  receivableDays: Days.default(DEFAULT_PAYMENT_TERMS.defaultCustomerDays),
  payableDays: Days.default(DEFAULT_PAYMENT_TERMS.supplierDays),
});

const byChannel = (rows: readonly ChannelDays[]) =>
  [...rows].sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));

/**
 * The terms in force for these settings: what updatePaymentTerms stored; else the older
 * `{ receivableDays, payableDays }` form (every channel on receivableDays); else the defaults.
 * Settings that are neither (edited by hand into something else) get the defaults.
 */
export function paymentTermsOf(settings: Record<string, unknown>): PaymentTerms {
  const raw = settings.paymentTerms;
  if (raw === undefined) return structuredClone(DEFAULT_PAYMENT_TERMS) as PaymentTerms;
  const stored = StoredTerms.safeParse(raw);
  if (stored.success) {
    return {
      defaultCustomerDays: stored.data.defaultCustomerDays,
      customerDays: byChannel(
        Object.entries(stored.data.customerDays).map(([channel, days]) => ({ channel, days })),
      ),
      supplierDays: stored.data.supplierDays,
    };
  }
  const legacy = LegacyTerms.safeParse(raw);
  if (legacy.success) {
    return {
      defaultCustomerDays: legacy.data.receivableDays,
      customerDays: [],
      supplierDays: legacy.data.payableDays,
    };
  }
  return structuredClone(DEFAULT_PAYMENT_TERMS) as PaymentTerms;
}

/** The tenant's terms, read in the request's transaction. */
export async function tenantPaymentTerms(
  db: CommonQueryMethods,
  tenantId: string,
): Promise<PaymentTerms> {
  return paymentTermsOf(await tenantSettings(db, tenantId));
}

/** BAD_USER_INPUT naming the first field out of bounds; the terms sorted by channel. */
export function validatePaymentTerms(terms: PaymentTerms): PaymentTerms {
  const days = (field: string, value: number) => {
    if (!Number.isInteger(value) || value < 0 || value > MAX_TERM_DAYS) {
      throw new BadUserInputError(`${field} must be a whole number of days from 0 to 365.`, {
        field,
      });
    }
  };
  days('defaultCustomerDays', terms.defaultCustomerDays);
  days('supplierDays', terms.supplierDays);
  if (terms.customerDays.length > MAX_TERM_CHANNELS) {
    throw new BadUserInputError(`customerDays may name at most ${MAX_TERM_CHANNELS} channels.`, {
      field: 'customerDays',
    });
  }
  const seen = new Set<string>();
  terms.customerDays.forEach((entry, index) => {
    const field = `customerDays[${index}]`;
    try {
      validChannel(entry.channel);
    } catch {
      throw new BadUserInputError(
        `${field}.channel "${entry.channel}" is not a sales channel name: 1 to 50 lowercase letters, digits and _.`,
        { field: `${field}.channel` },
      );
    }
    if (seen.has(entry.channel)) {
      throw new BadUserInputError(`${field}.channel: ${entry.channel} is named twice.`, {
        field: `${field}.channel`,
      });
    }
    seen.add(entry.channel);
    days(`${field}.days`, entry.days);
  });
  return { ...terms, customerDays: byChannel(terms.customerDays) };
}

/**
 * Replaces the tenant's payment terms (every other setting kept) under the login role; returns the
 * terms before and after. `db` is the platform connection (public.tenants is not the tenant's to
 * write).
 */
export async function replacePaymentTerms(
  db: CommonQueryMethods,
  tenantId: string,
  terms: PaymentTerms,
): Promise<{ before: PaymentTerms; after: PaymentTerms }> {
  const valid = validatePaymentTerms(terms);
  const settings = await tenantSettings(db, tenantId);
  const stored: z.infer<typeof StoredTerms> = {
    defaultCustomerDays: valid.defaultCustomerDays,
    customerDays: Object.fromEntries(valid.customerDays.map((each) => [each.channel, each.days])),
    supplierDays: valid.supplierDays,
  };
  const { before, after } = await replaceTenantSettings(db, tenantId, {
    ...settings,
    paymentTerms: stored,
  });
  return { before: paymentTermsOf(before), after: paymentTermsOf(after) };
}
