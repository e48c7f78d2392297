import { sql } from '../db/sql.js';

/**
 * What makes a public.users row an active user (who may sign in, and who counts against the
 * plan's user limit): one definition for quotas, usage and the operators' figures.
 */
export const isActiveUser = (alias: string) =>
  sql.fragment`${sql.identifier([alias, 'is_active'])} AND ${sql.identifier([alias, 'deleted_at'])} IS NULL`;
