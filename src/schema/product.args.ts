import { ArgsType, Field, Int } from 'type-graphql';
import { ProductOrderEnum } from './enums.js';
import { ProductFilter } from './product.input.js';

@ArgsType()
export class ProductsArgs {
  @Field(() => Int, { nullable: true, description: 'Page size, 0 to 100 (default 20).' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'endCursor of the previous page.' })
  after?: string | null;

  @Field(() => ProductFilter, { nullable: true })
  filter?: ProductFilter | null;

  @Field(() => ProductOrderEnum, { nullable: true, defaultValue: ProductOrderEnum.NAME_ASC })
  orderBy?: ProductOrderEnum | null;
}
