-- Reverts 0001_business_tables.sql in the current tenant schema (search_path = tenant, public).
-- Reverse dependency order; triggers and indexes go with their tables.

-- Guard: if the tenant schema were missing from search_path, unqualified statements would hit
-- public. Refuse to run unless the first schema on the path is a real, non-public schema.
DO $$
BEGIN
  IF current_schema() IS NULL OR current_schema() IN ('public', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION 'tenant migration must run with search_path = <tenant schema>, public (current_schema() is %)',
      coalesce(current_schema(), 'NULL');
  END IF;
END
$$;

DROP TABLE IF EXISTS user_preferences;
DROP TABLE IF EXISTS api_credentials;
DROP TABLE IF EXISTS scenarios;
DROP TABLE IF EXISTS working_capital_metrics;
DROP TABLE IF EXISTS forecasts;
DROP TABLE IF EXISTS inventory;
DROP TABLE IF EXISTS sales;
DROP TABLE IF EXISTS products;
DROP TABLE IF EXISTS companies;
