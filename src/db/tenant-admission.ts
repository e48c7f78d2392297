/**
 * A per-tenant cap on concurrent request transactions, per server: one tenant whose requests stall
 * (a lock, a slow query) holds at most `max` pooled connections, and the rest of the pool stays
 * free for everyone else. A request over the cap waits up to `waitMs` for one of the tenant's
 * transactions to end, then gets RATE_LIMITED with Retry-After. In memory: a counter per tenant
 * with requests in flight, and a queue only while some wait.
 */
import type { TenantTransactionLimits } from '../config.js';
import { RateLimitedError } from '../errors.js';

type Waiter = { admit: () => void };

export class TenantAdmission {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly limits: TenantTransactionLimits) {}

  /** Takes one of the tenant's turns; the returned function gives it back (once). */
  async enter(tenantId: string): Promise<() => void> {
    const open = this.active.get(tenantId) ?? 0;
    if (open < this.limits.max) {
      this.active.set(tenantId, open + 1);
      return this.releaser(tenantId);
    }
    if (this.limits.waitMs === 0) throw this.refusal();
    return new Promise<() => void>((resolve, reject) => {
      const queue = this.waiting.get(tenantId) ?? [];
      this.waiting.set(tenantId, queue);
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(timer);
          resolve(this.releaser(tenantId));
        },
      };
      const timer = setTimeout(() => {
        const index = queue.indexOf(waiter);
        if (index !== -1) queue.splice(index, 1);
        if (queue.length === 0 && this.waiting.get(tenantId) === queue) {
          this.waiting.delete(tenantId);
        }
        reject(this.refusal());
      }, this.limits.waitMs);
      queue.push(waiter);
    });
  }

  /** Transactions of the tenant open now (for tests and metrics). */
  openFor(tenantId: string): number {
    return this.active.get(tenantId) ?? 0;
  }

  private releaser(tenantId: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const queue = this.waiting.get(tenantId);
      const next = queue?.shift();
      if (queue && queue.length === 0) this.waiting.delete(tenantId);
      // The turn passes straight to the next waiter: the count stays as it is.
      if (next) return next.admit();
      const open = (this.active.get(tenantId) ?? 1) - 1;
      if (open > 0) this.active.set(tenantId, open);
      else this.active.delete(tenantId);
    };
  }

  private refusal(): RateLimitedError {
    return new RateLimitedError(
      `Too many concurrent requests for this tenant: at most ${this.limits.max} run at once on each server. Retry in 1 s.`,
      { retryAfterSeconds: 1, extensions: { limit: this.limits.max, retryAfterSeconds: 1 } },
    );
  }
}
