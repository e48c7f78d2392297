/**
 * A tenant transaction that spans a whole GraphQL execution. Apollo's plugin hooks are not
 * callbacks that wrap execution, so the transaction is opened in one hook (once the operation's
 * type is known) and finished in another: the `withTenant` callback waits on a promise that the
 * finishing hook resolves. Slonik's transaction retry is off for it (withTenant), since resolvers
 * that already ran cannot be replayed.
 */
import type { DatabasePool } from 'slonik';
import { withTenant, type TenantTransaction } from '../db/tenant-transaction.js';
import type { TenantRef } from '../tenants/names.js';

export type TenantSession = {
  tx: TenantTransaction;
  /** Commits (or rolls back) and resolves once the transaction has ended. */
  finish(outcome: 'commit' | 'rollback'): Promise<void>;
};

class Rollback extends Error {}

export function openTenantSession(
  pool: DatabasePool,
  tenant: TenantRef,
  options: { readOnly: boolean },
): Promise<TenantSession> {
  return new Promise<TenantSession>((resolveSession, rejectSession) => {
    const decision = Promise.withResolvers<'commit' | 'rollback'>();
    let opened = false;
    const ended = withTenant(pool, tenant, options, async (tx) => {
      opened = true;
      resolveSession({
        tx,
        finish: async (outcome) => {
          decision.resolve(outcome);
          await ended;
        },
      });
      if ((await decision.promise) === 'rollback') throw new Rollback();
    }).catch((error: unknown) => {
      if (error instanceof Rollback) return;
      if (!opened) rejectSession(error);
      throw error;
    });
    // Failures after opening reach the caller through finish(); keep them from going unhandled.
    ended.catch(() => {});
  });
}
