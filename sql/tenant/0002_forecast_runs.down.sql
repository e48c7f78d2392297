-- Reverts 0002_forecast_runs.sql in the current tenant schema (search_path = tenant, public).

DO $$
BEGIN
  IF current_schema() IS NULL OR current_schema() IN ('public', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION 'tenant migration must run with search_path = <tenant schema>, public (current_schema() is %)',
      coalesce(current_schema(), 'NULL');
  END IF;
END
$$;

ALTER TABLE forecasts
  DROP COLUMN IF EXISTS currency,
  DROP COLUMN IF EXISTS replaced_by_run_id,
  DROP COLUMN IF EXISTS run_id;
DROP TABLE IF EXISTS forecast_runs;
