import { Field, ID, Int, ObjectType } from 'type-graphql';
import type { InventoryRow } from '../data/inventory.js';
import type { ProductRow } from '../data/products.js';
import { GraphQLDateTime, GraphQLMoney } from '../graphql/scalars.js';
import { PageInfo } from './page-info.type.js';

@ObjectType({ simpleResolvers: true, description: 'A product (SKU).' })
export class Product {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  sku!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, { nullable: true })
  category!: string | null;

  @Field(() => GraphQLMoney)
  unitCost!: string;

  @Field(() => GraphQLMoney)
  unitPrice!: string;

  @Field(() => Int, { description: 'Available stock (all locations) below which to reorder.' })
  reorderPoint!: number;

  @Field(() => Int)
  reorderQuantity!: number;

  @Field(() => Int)
  leadTimeDays!: number;

  @Field(() => Int)
  safetyStock!: number;

  @Field(() => Boolean)
  isActive!: boolean;

  @Field(() => GraphQLDateTime)
  createdAt!: Date;

  @Field(() => GraphQLDateTime)
  updatedAt!: Date;
}

export const productFromRow = (row: ProductRow): Product => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  description: row.description,
  category: row.category,
  unitCost: row.unit_cost,
  unitPrice: row.unit_price,
  reorderPoint: row.reorder_point,
  reorderQuantity: row.reorder_quantity,
  leadTimeDays: row.lead_time_days,
  safetyStock: row.safety_stock,
  isActive: row.is_active,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

@ObjectType({ simpleResolvers: true, description: 'Stock of one product at one location.' })
export class InventoryLevel {
  @Field(() => String)
  location!: string;

  @Field(() => Int)
  onHand!: number;

  @Field(() => Int)
  reserved!: number;

  @Field(() => Int)
  available!: number;

  @Field(() => GraphQLDateTime, { nullable: true })
  lastCountedAt!: Date | null;

  @Field(() => GraphQLDateTime, { nullable: true })
  lastReceivedAt!: Date | null;
}

export const inventoryLevelFromRow = (row: InventoryRow): InventoryLevel => ({
  location: row.location,
  onHand: row.quantity_on_hand,
  reserved: row.quantity_reserved,
  available: row.quantity_available,
  lastCountedAt: row.last_counted_at,
  lastReceivedAt: row.last_received_at,
});

@ObjectType({
  simpleResolvers: true,
  description: 'Stock of one product summed over its locations.',
})
export class Stock {
  @Field(() => Int)
  onHand!: number;

  @Field(() => Int)
  reserved!: number;

  @Field(() => Int)
  available!: number;
}

@ObjectType({ simpleResolvers: true, description: 'Sales of one product over a period.' })
export class SalesTotals {
  @Field(() => Int)
  quantity!: number;

  @Field(() => GraphQLMoney, { description: 'Total amount before commission.' })
  revenue!: string;

  @Field(() => GraphQLMoney)
  commission!: string;

  @Field(() => GraphQLMoney)
  netRevenue!: string;

  @Field(() => Int, { description: 'Number of sale rows.' })
  orders!: number;
}

@ObjectType({ simpleResolvers: true })
export class ProductEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Product)
  node!: Product;
}

@ObjectType({ simpleResolvers: true, description: 'A page of products.' })
export class ProductConnection {
  @Field(() => [ProductEdge])
  edges!: ProductEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Counts all matching products (not a GraphQL field: see ProductConnectionResolver). */
  count!: () => Promise<number>;
}
