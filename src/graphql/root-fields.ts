/**
 * The root fields an operation selects, through fragments and inline fragments, keyed as the
 * permission table keys them ("Query.products"). Introspection fields (__schema, __type,
 * __typename) are left out: they reveal the schema, which every authenticated caller may read.
 */
import {
  Kind,
  type DocumentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

const TYPE_OF_OPERATION = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };

export function rootFields(document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const fragments = new Map(
    document.definitions.flatMap((definition) =>
      definition.kind === Kind.FRAGMENT_DEFINITION
        ? [[definition.name.value, definition.selectionSet] as const]
        : [],
    ),
  );
  const type = TYPE_OF_OPERATION[operation.operation];
  const names = new Set<string>();
  const visited = new Set<string>();
  const walk = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!selection.name.value.startsWith('__')) names.add(`${type}.${selection.name.value}`);
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
  return [...names];
}
