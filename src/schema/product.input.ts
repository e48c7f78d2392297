import { Field, InputType, Int } from 'type-graphql';
import { GraphQLMoney } from '../graphql/scalars.js';

@InputType({ description: 'Narrows a product list.' })
export class ProductFilter {
  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => Boolean, { nullable: true })
  isActive?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Matches name or SKU, case-insensitive.' })
  search?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Available stock below the reorder point.' })
  belowReorderPoint?: boolean | null;
}

@InputType()
export class CreateProductInput {
  @Field(() => String)
  sku!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => GraphQLMoney, { nullable: true })
  unitCost?: string;

  @Field(() => GraphQLMoney, { nullable: true })
  unitPrice?: string;

  @Field(() => Int, { nullable: true })
  reorderPoint?: number;

  @Field(() => Int, { nullable: true })
  reorderQuantity?: number;

  @Field(() => Int, { nullable: true })
  leadTimeDays?: number;

  @Field(() => Int, { nullable: true })
  safetyStock?: number;
}

@InputType({ description: 'Fields to change; those left out keep their value.' })
export class UpdateProductInput {
  @Field(() => String, { nullable: true })
  sku?: string;

  @Field(() => String, { nullable: true })
  name?: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true })
  category?: string | null;

  @Field(() => GraphQLMoney, { nullable: true })
  unitCost?: string;

  @Field(() => GraphQLMoney, { nullable: true })
  unitPrice?: string;

  @Field(() => Int, { nullable: true })
  reorderPoint?: number;

  @Field(() => Int, { nullable: true })
  reorderQuantity?: number;

  @Field(() => Int, { nullable: true })
  leadTimeDays?: number;

  @Field(() => Int, { nullable: true })
  safetyStock?: number;

  @Field(() => Boolean, { nullable: true })
  isActive?: boolean;
}
