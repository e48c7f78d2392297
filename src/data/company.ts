/**
 * The tenant's company (one per tenant today).
 */
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.js';

export const CompanyRow = z.object({
  id: z.string(),
  name: z.string(),
  legal_name: z.string().nullable(),
  registration_number: z.string().nullable(),
  tax_id: z.string().nullable(),
  industry: z.string().nullable(),
  primary_currency: z.string(),
  fiscal_year_start: z.string(),
  timezone: z.string(),
});
export type CompanyRow = z.infer<typeof CompanyRow>;

export async function firstCompany(db: CommonQueryMethods) {
  return db.maybeOne(sql.type(CompanyRow)`
    /* company */
    SELECT c.id, c.name, c.legal_name, c.registration_number, c.tax_id, c.industry,
      c.primary_currency, c.fiscal_year_start, c.timezone
    FROM companies c ORDER BY c.created_at, c.id LIMIT 1`);
}
