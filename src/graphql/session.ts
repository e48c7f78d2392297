/**
 * A tenant transaction that spans a whole GraphQL execution. Apollo's plugin hooks are not
 * callbacks that wrap execution, so the transaction is opened in one hook (once the operation's
 * type is known) and finished in another: the `withTenant` callback waits on a promise that the
 * finishing hook resolves. Slonik's transaction retry is off for it (withTenant), since resolvers
 * that already ran cannot be replayed.
 */
import type { DatabasePool } from 'slonik';
import {
  withoutTenant,
  withTenant,
  type TenantTransaction,
  type TenantTransactionOptions,
} from '../db/tenant-transaction.js';
import type { TenantRef } from '../tenants/names.js';

export type TenantSession = {
  tx: TenantTransaction;
  /** Commits (or rolls back) and resolves once the transaction has ended. */
  finish(outcome: 'commit' | 'rollback'): Promise<void>;
};

class Rollback extends Error {}

/** `tenant` null: an operator's request, in a transaction that enters no tenant. */
export function openTenantSession(
  pool: DatabasePool,
  tenant: TenantRef | null,
  options: TenantTransactionOptions,
): Promise<TenantSession> {
  return new Promise<TenantSession>((resolveSession, rejectSession) => {
    const decision = Promise.withResolvers<'commit' | 'rollback'>();
    let opened = false;
    const body = async (tx: TenantTransaction) => {
      opened = true;
      resolveSession({
        tx,
        finish: async (outcome) => {
          decision.resolve(outcome);
          await ended;
        },
      });
      if ((await decision.promise) === 'rollback') throw new Rollback();
    };
    const transaction = tenant
      ? withTenant(pool, tenant, options, body)
      : withoutTenant(pool, options, body);
    const ended = transaction.catch((error: unknown) => {
      if (error instanceof Rollback) return;
      if (!opened) rejectSession(error);
      throw error;
    });
    // Failures after opening reach the caller through finish(); keep them from going unhandled.
    ended.catch(() => {});
  });
}
