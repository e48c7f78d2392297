/**
 * The root fields an operation selects, through fragments and inline fragments, keyed as the
 * permission table keys them ("Query.products"). Introspection fields (__schema, __type,
 * __typename) are left out: they reveal the schema, which every authenticated caller may read.
 */
import {
  Kind,
  type DocumentNode,
  type FieldNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

const TYPE_OF_OPERATION = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

export type RootField = { key: string; node: FieldNode };

/** Every selection of a root field, in document order (a field may be selected more than once). */
export function rootFieldSelections(
  document: DocumentNode,
  operation: OperationDefinitionNode,
): RootField[] {
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION
        ? [[definition.name.value, definition.selectionSet] as const]
        : [],
    ),
  );
  const type = TYPE_OF_OPERATION[operation.operation];
  const fields: RootField[] = [];
  const visited = new Set<string>();
  const walk = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!selection.name.value.startsWith('__')) {
          fields.push({ key: `${type}.${selection.name.value}`, node: selection });
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment && !visited.has(name)) {
          visited.add(name);
          walk(fragment);
        }
      }
    }
  };
  walk(operation.selectionSet);
  return fields;
}

export function rootFields(document: DocumentNode, operation: OperationDefinitionNode): string[] {
  return [...new Set(rootFieldSelections(document, operation).map((field) => field.key))];
}

/**
 * The value of a root field's argument when it is a string (or an integer literal, as IDs may be
 * written), from the literal or the request's variables; undefined otherwise.
 */
export function argumentText(
  field: FieldNode,
  name: string,
  variables: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  const value = field.arguments?.find((argument) => argument.name.value === name)?.value;
  if (!value) return undefined;
  if (value.kind === Kind.STRING || value.kind === Kind.INT) return value.value;
  if (value.kind === Kind.VARIABLE) {
    const given = variables?.[value.name.value];
    if (typeof given === 'string') return given;
    if (typeof given === 'number' && Number.isInteger(given)) return String(given);
  }
  return undefined;
}
