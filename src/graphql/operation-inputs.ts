/**
 * Every input of an operation checked before its first statement, by construction rather than
 * field by field: the request's variables and every argument of every field (root or nested,
 * literal or variable) pass through here once the operation is known.
 *
 * - Raw variables are bounded (depth, size) before anything converts them, then coerced with the
 *   schema's own scalars (Date, Money, ...), so a bad value is refused here, not mid-execution.
 * - Every text value (String and ID arguments, strings and object keys inside JSON) must be
 *   storable: no U+0000, no lone surrogate. The message names the path, never the value.
 * - Arguments with a meaning across the schema follow one rule wherever they appear: `first`
 *   (a page size), `after` (a cursor), `channel` (a sales channel) and a `from`/`to` pair of dates.
 *
 * Resolvers keep their own checks for the rest; these run first so that `sales(first: 101)` nested
 * under `products` is refused before `products` reads a row.
 */
import {
  getArgumentValues,
  getNamedType,
  getVariableValues,
  GraphQLError,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  typeFromAST,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { JSON_MAX_DEPTH } from '../data/json-values.js';
import { isAppError } from '../errors.js';
import { findInputProblem, formatPath, validChannel, type InputProblem } from '../validation.js';
import { optionalDateRange } from './arguments.js';
import { decodeCursor, pageSize } from './pagination.js';

/** Input objects wrap JSON values a few levels deep; JSON itself is bounded at JSON_MAX_DEPTH. */
export const INPUT_LIMITS = { maxDepth: JSON_MAX_DEPTH + 8, maxNodes: 50_000 } as const;

/**
 * The innermost input field along `path` below the argument `name` (JSON keys below a JSON
 * scalar are not fields): what `extensions.field` names, as resolvers' own refusals do.
 */
function fieldAt(
  name: string | undefined,
  type: GraphQLInputType | undefined,
  path: readonly (string | number)[],
): string | undefined {
  let field = name;
  let current = type;
  for (const segment of path) {
    while (current && (isNonNullType(current) || isListType(current))) current = current.ofType;
    if (!current || !isInputObjectType(current) || typeof segment !== 'string') {
      if (typeof segment === 'number') continue;
      break;
    }
    const next = current.getFields()[segment];
    if (!next) break;
    field = segment;
    current = next.type;
  }
  return field;
}

const refusal = (message: string, field?: string) =>
  new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', ...(field ? { field } : {}), http: { status: 400 } },
  });

function describe(problem: InputProblem, where: string): string {
  switch (problem.kind) {
    case 'text':
      return `${where} contains U+0000 or an unpaired surrogate, which cannot be stored.`;
    case 'depth':
      return `${where} is nested too deeply: at most ${INPUT_LIMITS.maxDepth} levels.`;
    case 'size':
      return `${where} is too large: at most ${INPUT_LIMITS.maxNodes} values.`;
  }
}

/** Whether the field's argument is a Date (a DateTime pair is compared by its resolver). */
const isDate = (definition: GraphQLField<unknown, unknown>, name: string) =>
  getNamedType(definition.args.find((each) => each.name === name)?.type)?.name === 'Date';

/** The cross-schema rules, on one field's coerced arguments. */
function checkArguments(
  args: Record<string, unknown>,
  definition: GraphQLField<unknown, unknown>,
): void {
  if ('first' in args) pageSize(args.first as number | null);
  if (typeof args.after === 'string') decodeCursor(args.after);
  if ('channel' in args) validChannel(args.channel as string | null);
  if (
    args.from instanceof Date &&
    args.to instanceof Date &&
    isDate(definition, 'from') &&
    isDate(definition, 'to')
  ) {
    optionalDateRange(args.from, args.to);
  }
}

/** Throws a BAD_USER_INPUT GraphQLError (HTTP 400) for the first input that is refused. */
export function checkOperationInputs(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): void {
  const raw = variables ?? {};
  for (const [name, value] of Object.entries(raw)) {
    const problem = findInputProblem(value, INPUT_LIMITS);
    if (!problem) continue;
    const definition = operation.variableDefinitions?.find(
      (each) => each.variable.name.value === name,
    );
    const type = definition
      ? (typeFromAST(schema, definition.type) as GraphQLInputType)
      : undefined;
    throw refusal(
      describe(problem, formatPath([`$${name}`, ...problem.path])),
      // A variable's own name is not a field: only an input field inside it is.
      fieldAt(undefined, type, problem.path),
    );
  }
  let coerced: Record<string, unknown> = {};
  if (operation.variableDefinitions?.length) {
    const result = getVariableValues(schema, operation.variableDefinitions, raw, { maxErrors: 1 });
    if (result.errors) {
      const [first] = result.errors;
      throw refusal(first?.message ?? 'Invalid variables.');
    }
    coerced = result.coerced;
  }

  const checkField = (
    definition: GraphQLField<unknown, unknown>,
    node: FieldNode,
    where: string,
  ) => {
    let args: Record<string, unknown>;
    try {
      args = getArgumentValues(definition, node, coerced);
    } catch (error) {
      throw refusal(error instanceof Error ? error.message : `Invalid arguments of ${where}.`);
    }
    // Variables were walked above, raw; only literals are left to walk.
    const literal = node.arguments?.some((argument) => argument.value.kind !== Kind.VARIABLE);
    const problem = literal ? findInputProblem(args, INPUT_LIMITS) : undefined;
    if (problem) {
      const [argument, ...inside] = problem.path;
      const type = definition.args.find((each) => each.name === argument)?.type;
      throw refusal(
        describe(problem, formatPath([where, ...problem.path])),
        typeof argument === 'string' ? fieldAt(argument, type, inside) : undefined,
      );
    }
    try {
      checkArguments(args, definition);
    } catch (error) {
      if (!isAppError(error)) throw error;
      const field = typeof error.details.field === 'string' ? error.details.field : undefined;
      throw refusal(error.message, field);
    }
  };

  // A walk of the selections with their parent types (cheaper than graphql-js's visitor with
  // TypeInfo): each fragment once, since its arguments are the same wherever it is spread.
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }
  const spread = new Set<string>();
  const walk = (
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType | null | undefined,
    path: string,
  ) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const where = path
          ? `${path}.${selection.alias?.value ?? selection.name.value}`
          : (selection.alias?.value ?? selection.name.value);
        const definition =
          isObjectType(parent) || isInterfaceType(parent)
            ? parent.getFields()[selection.name.value]
            : undefined;
        if (!definition) continue;
        if (selection.arguments?.length) checkField(definition, selection, where);
        if (selection.selectionSet)
          walk(selection.selectionSet, getNamedType(definition.type), where);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parent;
        walk(selection.selectionSet, type, path);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || spread.has(name)) continue;
        spread.add(name);
        walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), path);
      }
    }
  };
  walk(operation.selectionSet, schema.getRootType(operation.operation), '');
}
