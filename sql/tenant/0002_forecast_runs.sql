-- Forecast runs: one row per generateForecasts (or `capliquify forecasts generate`), with its
-- progress, outcome and backtest accuracy; forecasts gain the run that wrote them, the run that
-- replaced them, the currency of a money forecast and the model that really produced them.

DO $$
BEGIN
  IF current_schema() IS NULL OR current_schema() IN ('public', 'pg_catalog', 'information_schema') THEN
    RAISE EXCEPTION 'tenant migration must run with search_path = <tenant schema>, public (current_schema() is %)',
      coalesce(current_schema(), 'NULL');
  END IF;
END
$$;

CREATE TABLE forecast_runs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  status           varchar(10) NOT NULL DEFAULT 'QUEUED',
  forecast_type    varchar(20) NOT NULL,
  period_type      varchar(10) NOT NULL,
  horizon          integer NOT NULL,
  model            varchar(20) NOT NULL,
  as_of            date NOT NULL,
  confidence_level numeric(5,4) NOT NULL,
  -- The products asked for; empty: every active product (resolved when the run starts).
  product_ids      uuid[] NOT NULL DEFAULT '{}',
  products_total   integer NOT NULL DEFAULT 0,
  products_done    integer NOT NULL DEFAULT 0,
  -- [{ productId, model, reason }] for every series that got a simpler model than asked for.
  fallbacks        jsonb NOT NULL DEFAULT '[]',
  mape             numeric(12,4),
  smape            numeric(12,4),
  mase             numeric(12,4),
  baseline_mape    numeric(12,4),
  error            text,
  attempts         integer NOT NULL DEFAULT 0,
  requested_by     varchar(255) NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  CONSTRAINT forecast_runs_status_valid CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED')),
  CONSTRAINT forecast_runs_forecast_type_valid CHECK (forecast_type IN ('DEMAND', 'REVENUE', 'CASH_FLOW')),
  CONSTRAINT forecast_runs_period_type_valid CHECK (period_type IN ('DAILY', 'WEEKLY', 'MONTHLY')),
  CONSTRAINT forecast_runs_model_valid CHECK (model IN ('SEASONAL_NAIVE', 'ETS', 'MSTL', 'AUTO')),
  CONSTRAINT forecast_runs_horizon_range CHECK (horizon BETWEEN 1 AND 366),
  CONSTRAINT forecast_runs_confidence_level_range CHECK (confidence_level > 0 AND confidence_level < 1),
  CONSTRAINT forecast_runs_progress_valid CHECK (products_done BETWEEN 0 AND products_total)
);
-- One run at a time per tenant: a second one while another is queued or running violates this.
CREATE UNIQUE INDEX forecast_runs_one_active ON forecast_runs ((true)) WHERE status IN ('QUEUED', 'RUNNING');
-- forecastRuns pages newest first; the monthly limit counts a month's runs.
CREATE INDEX idx_forecast_runs_created ON forecast_runs (created_at DESC, id DESC);

ALTER TABLE forecasts
  ADD COLUMN run_id uuid,
  ADD COLUMN replaced_by_run_id uuid,
  ADD COLUMN currency char(3),
  ADD CONSTRAINT forecasts_run_id_fkey FOREIGN KEY (run_id) REFERENCES forecast_runs (id) ON DELETE SET NULL,
  ADD CONSTRAINT forecasts_replaced_by_run_id_fkey FOREIGN KEY (replaced_by_run_id) REFERENCES forecast_runs (id) ON DELETE SET NULL,
  ADD CONSTRAINT forecasts_currency_format CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$');
CREATE INDEX idx_forecasts_run ON forecasts (run_id);
CREATE INDEX idx_forecasts_replaced_by_run ON forecasts (replaced_by_run_id);
