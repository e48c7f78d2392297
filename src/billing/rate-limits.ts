/**
 * Per-key request rates (requests per minute, from the plan), counted in memory per server with
 * rate-limiter-flexible. A tenant API key is limited by its id, a signed-in user by tenant and
 * user; platform keys are not limited. With several servers behind a balancer each counts its own
 * share, so the effective rate is up to servers x the plan's (docs/billing.md).
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Principal } from '../auth/principal.js';
import { RateLimitedError } from '../errors.js';
import type { Tier } from '../tenants/tiers.js';
import { PLANS } from './plans.js';

const WINDOW_SECONDS = 60;

/** Who a rate applies to, or undefined for principals that are not limited. */
function subjectOf(principal: Principal): string | undefined {
  switch (principal.kind) {
    case 'api_key':
      return `key:${principal.keyId}`;
    case 'user':
      return principal.tenant ? `user:${principal.tenant.id}:${principal.clerkUserId}` : undefined;
    case 'platform_key':
      return undefined;
  }
}

export class RequestLimiter {
  private readonly limiters = new Map<Tier, RateLimiterMemory>();

  /** `requestsPerMinute` replaces every plan's rate (benchmarks that measure throughput only). */
  constructor(private readonly requestsPerMinute?: number) {}

  private rateOf(tier: Tier): number {
    return this.requestsPerMinute ?? PLANS[tier].limits.requestsPerMinute;
  }

  private limiterOf(tier: Tier): RateLimiterMemory {
    let limiter = this.limiters.get(tier);
    if (!limiter) {
      limiter = new RateLimiterMemory({
        keyPrefix: tier,
        points: this.rateOf(tier),
        duration: WINDOW_SECONDS,
      });
      this.limiters.set(tier, limiter);
    }
    return limiter;
  }

  /** Counts one request; RATE_LIMITED (with the seconds to wait) beyond the plan's rate. */
  async consume(principal: Principal): Promise<void> {
    const subject = subjectOf(principal);
    const tenant = principal.tenant;
    if (subject === undefined || tenant === null) return;
    try {
      await this.limiterOf(tenant.tier).consume(subject);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const perMinute = this.rateOf(tenant.tier);
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new RateLimitedError(
        `Rate limit reached: the ${PLANS[tenant.tier].name} plan allows ${perMinute} requests a minute per ${principal.kind === 'api_key' ? 'API key' : 'user'}. Retry in ${retryAfterSeconds} s.`,
        { retryAfterSeconds, extensions: { limit: perMinute, retryAfterSeconds } },
      );
    }
  }
}
