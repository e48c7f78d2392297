/**
 * Limits on what one GraphQL operation may ask for, checked during validation: an operation over a
 * limit is refused before any SQL runs. docs/api.md lists them for clients.
 */
import { ApolloArmor } from '@escape.tech/graphql-armor';

export const LIMITS = {
  /** Nesting depth of fields (products > edges > node > forecasts is 4). */
  maxDepth: 10,
  /**
   * graphql-armor's static cost (object fields 2, scalars 1, growing with depth; list sizes are not
   * counted, `first` is capped at 100 instead). A page of 100 products with inventory, stock,
   * sales totals and forecasts costs about 10,000.
   */
  maxCost: 20000,
  /** Aliased fields per operation. */
  maxAliases: 15,
  /** Lexical tokens per document (enforced by graphql-js's parser, see server.ts). */
  maxTokens: 2000,
  /** Directives per operation. */
  maxDirectives: 20,
} as const;

export function armor() {
  return new ApolloArmor({
    maxDepth: { n: LIMITS.maxDepth, ignoreIntrospection: true, exposeLimits: true },
    costLimit: { maxCost: LIMITS.maxCost, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: LIMITS.maxAliases, exposeLimits: true },
    // Counted by graphql-js's own parser (ApolloServer parseOptions), whose failures Apollo
    // reports as 400 GRAPHQL_PARSE_FAILED like any syntax error; armor's plugin answered 500.
    maxTokens: { enabled: false },
    maxDirectives: { n: LIMITS.maxDirectives, exposeLimits: true },
    blockFieldSuggestion: { enabled: true },
  }).protect();
}
