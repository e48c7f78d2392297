/**
 * Counts the SQL statements a pool sends, the way dataloader's tests count batches.
 */
import type { Interceptor } from 'slonik';

/**
 * Statements the server sends on timers, not for any request: the usage meter's flush (each
 * second) and the billing sweep. A count of a request's statements leaves them out.
 */
const BACKGROUND = /\/\* (flushUsage|suspendOverdueTenants|recordApiKeyUse) \*\//;

export function statementCounter() {
  const statements: string[] = [];
  const interceptor: Interceptor = {
    name: 'test.statementCounter',
    beforeQueryExecution: (_context, query) => {
      if (!BACKGROUND.test(query.sql)) statements.push(query.sql);
      return null;
    },
  };
  return {
    interceptor,
    statements,
    reset: () => statements.splice(0, statements.length),
  };
}
