/**
 * What a tenant's billing state lets it do, decided per request from what authentication loaded
 * (no query). An operator's suspension never gets here: authentication refuses it outright.
 *
 * - TRIAL: full access for 14 days; after trial_ends_at, read-only until a plan is bought.
 * - ACTIVE: full access.
 * - PAST_DUE (a payment failed): full access with a warning for the grace period (7 days by
 *   default, BILLING_GRACE_DAYS), counted from the first failure; then read-only, as SUSPENDED.
 * - SUSPENDED for non-payment: reads work, writes get PAYMENT_REQUIRED.
 * - CANCELLED (at the period's end): read-only.
 */
import type { TenantInfo } from '../auth/principal.js';
import type { TenantStatus } from '../tenants/tiers.js';

export type Access = {
  /** read_only: queries work, mutations (other than billing ones) get PAYMENT_REQUIRED. */
  mode: 'full' | 'read_only';
  /** The status as it stands now (a PAST_DUE tenant beyond its grace period is SUSPENDED). */
  status: TenantStatus;
  /** Why the tenant is read-only (mode read_only), or what will happen soon; null when all is well. */
  message: string | null;
};

const DAY_MS = 86_400_000;
const TRIAL_WARNING_DAYS = 3;

const day = (date: Date) => date.toISOString().slice(0, 10);

export function accessOf(
  tenant: Pick<TenantInfo, 'status' | 'trialEndsAt' | 'pastDueSince'>,
  now: Date,
  graceDays: number,
): Access {
  switch (tenant.status) {
    case 'active':
      return { mode: 'full', status: 'active', message: null };
    case 'trial': {
      const ends = tenant.trialEndsAt;
      if (ends && ends.getTime() <= now.getTime()) {
        return {
          mode: 'read_only',
          status: 'trial',
          message: `The trial ended on ${day(ends)}: choose a plan to make changes again.`,
        };
      }
      const warn = ends && ends.getTime() - now.getTime() <= TRIAL_WARNING_DAYS * DAY_MS;
      return {
        mode: 'full',
        status: 'trial',
        message: warn
          ? `The trial ends on ${day(ends)}: choose a plan to keep making changes.`
          : null,
      };
    }
    case 'past_due': {
      const since = tenant.pastDueSince ?? now;
      const until = new Date(since.getTime() + graceDays * DAY_MS);
      if (until.getTime() <= now.getTime()) {
        return {
          mode: 'read_only',
          status: 'suspended',
          message: `A payment has been overdue since ${day(since)}: this tenant is read-only until it is paid.`,
        };
      }
      return {
        mode: 'full',
        status: 'past_due',
        message: `A payment failed on ${day(since)}: update the payment method by ${day(until)} to keep making changes.`,
      };
    }
    case 'suspended':
      return {
        mode: 'read_only',
        status: 'suspended',
        message: 'This tenant is suspended for non-payment: it is read-only until it is paid.',
      };
    case 'cancelled':
      return {
        mode: 'read_only',
        status: 'cancelled',
        message: 'The subscription was cancelled: choose a plan to make changes again.',
      };
  }
}
