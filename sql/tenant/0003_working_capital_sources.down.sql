-- Reverts 0003_working_capital_sources.sql in the current tenant schema (search_path = tenant, public).

DO $$
BEGIN
  IF current_schema() IS NULL OR current_schema() IN ('public', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION 'tenant migration must run with search_path = <tenant schema>, public (current_schema() is %)',
      coalesce(current_schema(), 'NULL');
  END IF;
END
$$;

DROP TABLE IF EXISTS inventory_adjustments;
ALTER TABLE working_capital_metrics
  DROP CONSTRAINT IF EXISTS working_capital_metrics_source_valid,
  DROP COLUMN IF EXISTS source;
