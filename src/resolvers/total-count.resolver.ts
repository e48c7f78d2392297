import { FieldResolver, Int, Resolver, Root, type ClassType } from 'type-graphql';

/**
 * `totalCount` on a connection type: the page's own count(), run only when a client asks for it
 * (src/graphql/pagination.ts toPage). One resolver class per connection type.
 */
export function totalCountResolver<T extends { count: () => Promise<number> }>(
  connection: ClassType<T>,
  description: string,
) {
  @Resolver(() => connection)
  class TotalCountResolver {
    @FieldResolver(() => Int, { description })
    totalCount(@Root() page: T): Promise<number> {
      return page.count();
    }
  }
  return TotalCountResolver;
}
