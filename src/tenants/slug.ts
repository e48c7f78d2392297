/**
 * Tenant slugs: 3 to 63 characters of lowercase letters, digits and single dashes, neither
 * starting nor ending with a dash, and not a reserved word. Errors name the rule that failed.
 */
import { BadUserInputError } from '../errors.js';

export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'admin',
  'administrator',
  'api',
  'app',
  'auth',
  'billing',
  'capliquify',
  'dashboard',
  'demo-admin',
  'docs',
  'graphql',
  'help',
  'internal',
  'login',
  'logout',
  'mail',
  'platform',
  'postgres',
  'public',
  'root',
  'settings',
  'signup',
  'sso',
  'static',
  'status',
  'support',
  'system',
  'tenant',
  'tenants',
  'webhooks',
  'www',
]);

const SLUG_MIN = 3;
const SLUG_MAX = 63;

/** Returns the rule a slug breaks, or undefined when it is acceptable. */
export function slugProblem(slug: string): string | undefined {
  if (slug.length < SLUG_MIN || slug.length > SLUG_MAX) {
    return `must be ${SLUG_MIN} to ${SLUG_MAX} characters long (got ${slug.length})`;
  }
  if (!/^[a-z0-9-]+$/.test(slug)) return 'may contain only lowercase letters, digits and dashes';
  if (slug.startsWith('-') || slug.endsWith('-')) return 'must not start or end with a dash';
  if (slug.includes('--')) return 'must not contain two dashes in a row';
  if (RESERVED_SLUGS.has(slug)) return 'is a reserved word';
  return undefined;
}

export function assertValidSlug(slug: string): string {
  const problem = slugProblem(slug);
  if (problem)
    throw new BadUserInputError(`Invalid slug "${slug}": it ${problem}.`, { field: 'slug' });
  return slug;
}
