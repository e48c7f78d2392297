/**
 * Counts the SQL statements a pool sends, the way dataloader's tests count batches.
 */
import type { Interceptor } from 'slonik';

export function statementCounter() {
  const statements: string[] = [];
  const interceptor: Interceptor = {
    name: 'test.statementCounter',
    beforeQueryExecution: (_context, query) => {
      statements.push(query.sql);
      return null;
    },
  };
  return {
    interceptor,
    statements,
    reset: () => statements.splice(0, statements.length),
  };
}
