/**
 * Limits on what one GraphQL operation may ask for, checked during validation: an operation over a
 * limit is refused before any SQL runs. docs/api.md lists them for clients.
 */
import { ApolloArmor } from '@escape.tech/graphql-armor';

export const LIMITS = {
  /** Nesting depth of fields (products > edges > node > forecasts is 4). */
  maxDepth: 10,
  /** graphql-armor's cost: each object field 2, each scalar 1, multiplied by depth. */
  maxCost: 5000,
  /** Aliased fields per operation. */
  maxAliases: 15,
  /** Lexical tokens per document. */
  maxTokens: 2000,
  /** Directives per operation. */
  maxDirectives: 20,
} as const;

export function armor() {
  return new ApolloArmor({
    maxDepth: { n: LIMITS.maxDepth, ignoreIntrospection: true, exposeLimits: true },
    costLimit: { maxCost: LIMITS.maxCost, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: LIMITS.maxAliases, exposeLimits: true },
    maxTokens: { n: LIMITS.maxTokens, exposeLimits: true },
    maxDirectives: { n: LIMITS.maxDirectives, exposeLimits: true },
    blockFieldSuggestion: { enabled: true },
  }).protect();
}
