import { Field, ID, ObjectType } from 'type-graphql';
import type { CompanyRow } from '../data/company.js';

@ObjectType({ simpleResolvers: true, description: "The tenant's company." })
export class Company {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  legalName!: string | null;

  @Field(() => String, { nullable: true })
  registrationNumber!: string | null;

  @Field(() => String, { nullable: true })
  taxId!: string | null;

  @Field(() => String, { nullable: true })
  industry!: string | null;

  @Field(() => String, { description: 'ISO 4217 code, e.g. GBP.' })
  primaryCurrency!: string;

  @Field(() => String, { description: 'MM-DD.' })
  fiscalYearStart!: string;

  @Field(() => String)
  timezone!: string;
}

export const companyFromRow = (row: CompanyRow): Company => ({
  id: row.id,
  name: row.name,
  legalName: row.legal_name,
  registrationNumber: row.registration_number,
  taxId: row.tax_id,
  industry: row.industry,
  primaryCurrency: row.primary_currency,
  fiscalYearStart: row.fiscal_year_start,
  timezone: row.timezone,
});
