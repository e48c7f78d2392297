-- 0001_business_tables: the business tables of ONE tenant schema.
--
-- Runs once per tenant, inside a transaction the runner opens, with
--   search_path = tenant_<32 hex>, public
-- so every object here is UNQUALIFIED and lands in the tenant schema. The only reference to
-- public is the trigger function public.set_updated_at(). No foreign keys leave the schema (user
-- ids are plain uuids) and no enum types are created (text + CHECK keeps each schema
-- self-contained and cheap in the catalog). Constraint names are explicit because the server
-- maps them to user-facing error messages.

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

-- ---------------------------------------------------------------------------------------------
-- companies
-- ---------------------------------------------------------------------------------------------
CREATE TABLE companies (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                varchar(255) NOT NULL,
  legal_name          varchar(255),
  registration_number varchar(100),
  tax_id              varchar(100),
  industry            varchar(100),
  primary_currency    char(3) NOT NULL DEFAULT 'GBP',
  fiscal_year_start   varchar(5) NOT NULL DEFAULT '01-01',
  timezone            varchar(50) NOT NULL DEFAULT 'UTC',
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT companies_primary_currency_format CHECK (primary_currency ~ '^[A-Z]{3}$'),
  CONSTRAINT companies_fiscal_year_start_format CHECK (fiscal_year_start ~ '^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$')
);

CREATE TRIGGER companies_set_updated_at
  BEFORE UPDATE ON companies
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- products
-- ---------------------------------------------------------------------------------------------
CREATE TABLE products (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id       uuid NOT NULL,
  sku              varchar(100) NOT NULL,
  name             varchar(255) NOT NULL,
  description      text,
  category         varchar(100),
  unit_cost        numeric(15,2) NOT NULL DEFAULT 0,
  unit_price       numeric(15,2) NOT NULL DEFAULT 0,
  reorder_point    integer NOT NULL DEFAULT 0,
  reorder_quantity integer NOT NULL DEFAULT 0,
  lead_time_days   integer NOT NULL DEFAULT 0,
  safety_stock     integer NOT NULL DEFAULT 0,
  is_active        boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT products_sku_key UNIQUE (sku),
  CONSTRAINT products_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT products_unit_cost_nonnegative CHECK (unit_cost >= 0),
  CONSTRAINT products_unit_price_nonnegative CHECK (unit_price >= 0),
  CONSTRAINT products_reorder_point_nonnegative CHECK (reorder_point >= 0),
  CONSTRAINT products_reorder_quantity_nonnegative CHECK (reorder_quantity >= 0),
  CONSTRAINT products_lead_time_days_nonnegative CHECK (lead_time_days >= 0),
  CONSTRAINT products_safety_stock_nonnegative CHECK (safety_stock >= 0)
);

CREATE INDEX idx_products_company ON products (company_id);
CREATE INDEX idx_products_category ON products (category);
CREATE INDEX idx_products_active ON products (is_active) WHERE is_active;
CREATE INDEX idx_products_name_lower ON products (lower(name));

CREATE TRIGGER products_set_updated_at
  BEFORE UPDATE ON products
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- sales
-- ---------------------------------------------------------------------------------------------
CREATE TABLE sales (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id        uuid NOT NULL,
  product_id        uuid NOT NULL,
  sale_date         date NOT NULL,
  quantity          integer NOT NULL,
  unit_price        numeric(15,2) NOT NULL,
  total_amount      numeric(15,2) NOT NULL,
  channel           varchar(50) NOT NULL,
  channel_order_id  varchar(255),
  commission_rate   numeric(5,4) NOT NULL DEFAULT 0,
  commission_amount numeric(15,2) NOT NULL DEFAULT 0,
  net_revenue       numeric(15,2) GENERATED ALWAYS AS (total_amount - commission_amount) STORED,
  market            varchar(10) NOT NULL,
  currency          char(3) NOT NULL DEFAULT 'GBP',
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT sales_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT sales_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE RESTRICT,
  CONSTRAINT sales_quantity_positive CHECK (quantity > 0),
  CONSTRAINT sales_unit_price_nonnegative CHECK (unit_price >= 0),
  CONSTRAINT sales_total_amount_nonnegative CHECK (total_amount >= 0),
  CONSTRAINT sales_channel_format CHECK (channel ~ '^[a-z0-9_]+$'),
  CONSTRAINT sales_commission_rate_range CHECK (commission_rate BETWEEN 0 AND 1),
  CONSTRAINT sales_commission_amount_nonnegative CHECK (commission_amount >= 0),
  CONSTRAINT sales_market_valid CHECK (market IN ('UK', 'EU', 'USA', 'ROW')),
  CONSTRAINT sales_currency_format CHECK (currency ~ '^[A-Z]{3}$')
);

-- (product_id, sale_date) also serves the product_id foreign key.
CREATE INDEX idx_sales_product_date ON sales (product_id, sale_date);
CREATE INDEX idx_sales_date ON sales (sale_date);
CREATE INDEX idx_sales_channel_date ON sales (channel, sale_date);
CREATE INDEX idx_sales_company ON sales (company_id);
-- One line per product per marketplace order; a partial unique index (not a constraint),
-- named like one so the error mapping treats it the same way.
CREATE UNIQUE INDEX sales_channel_order_product_key
  ON sales (channel, channel_order_id, product_id)
  WHERE channel_order_id IS NOT NULL;

CREATE TRIGGER sales_set_updated_at
  BEFORE UPDATE ON sales
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- inventory
-- ---------------------------------------------------------------------------------------------
CREATE TABLE inventory (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id         uuid NOT NULL,
  product_id         uuid NOT NULL,
  location           varchar(100) NOT NULL,
  quantity_on_hand   integer NOT NULL DEFAULT 0,
  quantity_reserved  integer NOT NULL DEFAULT 0,
  quantity_available integer GENERATED ALWAYS AS (quantity_on_hand - quantity_reserved) STORED,
  last_counted_at    timestamptz,
  last_received_at   timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT inventory_product_location_key UNIQUE (product_id, location),
  CONSTRAINT inventory_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT inventory_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT inventory_quantity_on_hand_nonnegative CHECK (quantity_on_hand >= 0),
  CONSTRAINT inventory_quantity_reserved_nonnegative CHECK (quantity_reserved >= 0),
  CONSTRAINT inventory_reserved_within_on_hand CHECK (quantity_reserved <= quantity_on_hand)
);

-- (product_id, location) UNIQUE already serves the product_id foreign key.
CREATE INDEX idx_inventory_company ON inventory (company_id);

CREATE TRIGGER inventory_set_updated_at
  BEFORE UPDATE ON inventory
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- forecasts (product_id NULL = company-level forecast, e.g. CASH_FLOW)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE forecasts (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id          uuid NOT NULL,
  product_id          uuid,
  forecast_date       date NOT NULL,
  forecast_type       varchar(20) NOT NULL,
  period_type         varchar(10) NOT NULL,
  model_type          varchar(50) NOT NULL,
  model_version       varchar(50),
  predicted_value     numeric(15,2) NOT NULL,
  lower_bound         numeric(15,2),
  upper_bound         numeric(15,2),
  confidence_level    numeric(5,4),
  actual_value        numeric(15,2),
  accuracy_percentage numeric(5,2),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT forecasts_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT forecasts_product_id_fkey FOREIGN KEY (product_id) REFERENCES products (id) ON DELETE CASCADE,
  CONSTRAINT forecasts_forecast_type_valid CHECK (forecast_type IN ('DEMAND', 'REVENUE', 'CASH_FLOW')),
  CONSTRAINT forecasts_period_type_valid CHECK (period_type IN ('DAILY', 'WEEKLY', 'MONTHLY')),
  CONSTRAINT forecasts_lower_bound_within_prediction CHECK (lower_bound IS NULL OR lower_bound <= predicted_value),
  CONSTRAINT forecasts_upper_bound_within_prediction CHECK (upper_bound IS NULL OR predicted_value <= upper_bound),
  CONSTRAINT forecasts_confidence_level_range CHECK (confidence_level IS NULL OR confidence_level BETWEEN 0 AND 1)
);

-- (product_id, forecast_type, forecast_date) also serves the product_id foreign key.
CREATE INDEX idx_forecasts_product_type_date ON forecasts (product_id, forecast_type, forecast_date);
CREATE INDEX idx_forecasts_type_date ON forecasts (forecast_type, forecast_date);
CREATE INDEX idx_forecasts_company ON forecasts (company_id);

CREATE TRIGGER forecasts_set_updated_at
  BEFORE UPDATE ON forecasts
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- working_capital_metrics
--
--   CA  = cash + accounts_receivable + inventory + other_current_assets
--   CL  = accounts_payable + short_term_debt + other_current_liabilities
--   DSO = AR  * days_in_period / revenue
--   DIO = inventory * days_in_period / cost_of_goods_sold
--   DPO = AP  * days_in_period / cost_of_goods_sold
--   CCC = DSO + DIO - DPO   (of the rounded DSO / DIO / DPO, so the columns add up)
--
-- A generated column may not reference another generated column, so each expression is written
-- out in full. A ratio is NULL when its denominator is 0 or NULL, and also when its rounded value
-- would not fit its column (numeric(10,4): |x| <= 999999.9999; numeric(10,2): |x| <= 99999999.99),
-- so a degenerate period (e.g. revenue 0.01) stores NULL instead of failing the INSERT with
-- "numeric field overflow". CCC is NULL whenever any of DSO / DIO / DPO is NULL.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE working_capital_metrics (
  id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id                uuid NOT NULL,
  period_date               date NOT NULL,
  period_type               varchar(10) NOT NULL DEFAULT 'MONTHLY',

  -- current assets
  cash                      numeric(15,2) NOT NULL DEFAULT 0,
  accounts_receivable       numeric(15,2) NOT NULL DEFAULT 0,
  inventory                 numeric(15,2) NOT NULL DEFAULT 0,
  other_current_assets      numeric(15,2) NOT NULL DEFAULT 0,

  -- current liabilities
  accounts_payable          numeric(15,2) NOT NULL DEFAULT 0,
  short_term_debt           numeric(15,2) NOT NULL DEFAULT 0,
  other_current_liabilities numeric(15,2) NOT NULL DEFAULT 0,

  -- inputs of the day-count ratios
  revenue                   numeric(15,2),
  cost_of_goods_sold        numeric(15,2),
  days_in_period            integer NOT NULL DEFAULT 30,

  total_current_assets numeric(15,2) GENERATED ALWAYS AS (
    cash + accounts_receivable + inventory + other_current_assets
  ) STORED,

  total_current_liabilities numeric(15,2) GENERATED ALWAYS AS (
    accounts_payable + short_term_debt + other_current_liabilities
  ) STORED,

  working_capital numeric(15,2) GENERATED ALWAYS AS (
    (cash + accounts_receivable + inventory + other_current_assets)
    - (accounts_payable + short_term_debt + other_current_liabilities)
  ) STORED,

  current_ratio numeric(10,4) GENERATED ALWAYS AS (
    CASE
      WHEN abs(round((cash + accounts_receivable + inventory + other_current_assets)
                     / NULLIF(accounts_payable + short_term_debt + other_current_liabilities, 0), 4))
           <= 999999.9999
      THEN round((cash + accounts_receivable + inventory + other_current_assets)
                 / NULLIF(accounts_payable + short_term_debt + other_current_liabilities, 0), 4)
    END
  ) STORED,

  quick_ratio numeric(10,4) GENERATED ALWAYS AS (
    CASE
      WHEN abs(round((cash + accounts_receivable + other_current_assets)
                     / NULLIF(accounts_payable + short_term_debt + other_current_liabilities, 0), 4))
           <= 999999.9999
      THEN round((cash + accounts_receivable + other_current_assets)
                 / NULLIF(accounts_payable + short_term_debt + other_current_liabilities, 0), 4)
    END
  ) STORED,

  days_sales_outstanding numeric(10,2) GENERATED ALWAYS AS (
    CASE
      WHEN abs(round(accounts_receivable * days_in_period / NULLIF(revenue, 0), 2)) <= 99999999.99
      THEN round(accounts_receivable * days_in_period / NULLIF(revenue, 0), 2)
    END
  ) STORED,

  days_inventory_outstanding numeric(10,2) GENERATED ALWAYS AS (
    CASE
      WHEN abs(round(inventory * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)) <= 99999999.99
      THEN round(inventory * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)
    END
  ) STORED,

  days_payables_outstanding numeric(10,2) GENERATED ALWAYS AS (
    CASE
      WHEN abs(round(accounts_payable * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)) <= 99999999.99
      THEN round(accounts_payable * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)
    END
  ) STORED,

  cash_conversion_cycle numeric(10,2) GENERATED ALWAYS AS (
    CASE
      WHEN abs(round(accounts_receivable * days_in_period / NULLIF(revenue, 0), 2)) <= 99999999.99
       AND abs(round(inventory * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)) <= 99999999.99
       AND abs(round(accounts_payable * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)) <= 99999999.99
       AND abs(  round(accounts_receivable * days_in_period / NULLIF(revenue, 0), 2)
               + round(inventory * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)
               - round(accounts_payable * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)) <= 99999999.99
      THEN round(accounts_receivable * days_in_period / NULLIF(revenue, 0), 2)
         + round(inventory * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)
         - round(accounts_payable * days_in_period / NULLIF(cost_of_goods_sold, 0), 2)
    END
  ) STORED,

  notes                     text,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT working_capital_metrics_company_period_key UNIQUE (company_id, period_type, period_date),
  CONSTRAINT working_capital_metrics_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT working_capital_metrics_period_type_valid CHECK (period_type IN ('DAILY', 'WEEKLY', 'MONTHLY', 'QUARTERLY')),
  CONSTRAINT working_capital_metrics_days_in_period_positive CHECK (days_in_period > 0)
);

-- (company_id, period_type, period_date) UNIQUE already serves the company_id foreign key.

CREATE TRIGGER working_capital_metrics_set_updated_at
  BEFORE UPDATE ON working_capital_metrics
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- scenarios
-- ---------------------------------------------------------------------------------------------
CREATE TABLE scenarios (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id           uuid NOT NULL,
  name                 varchar(255) NOT NULL,
  description          text,
  scenario_type        varchar(20) NOT NULL,
  parameters           jsonb NOT NULL DEFAULT '{}'::jsonb,
  results              jsonb,
  baseline_scenario_id uuid,
  impact_summary       jsonb,
  created_by           uuid,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT scenarios_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT scenarios_baseline_scenario_id_fkey FOREIGN KEY (baseline_scenario_id) REFERENCES scenarios (id) ON DELETE SET NULL,
  CONSTRAINT scenarios_scenario_type_valid CHECK (scenario_type IN ('WHAT_IF', 'OPTIMIZATION', 'SENSITIVITY')),
  CONSTRAINT scenarios_baseline_not_self CHECK (baseline_scenario_id IS NULL OR baseline_scenario_id <> id)
);

CREATE INDEX idx_scenarios_company ON scenarios (company_id);
CREATE INDEX idx_scenarios_baseline ON scenarios (baseline_scenario_id);

CREATE TRIGGER scenarios_set_updated_at
  BEFORE UPDATE ON scenarios
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- api_credentials (secrets are encrypted by the application, AES-256-GCM; key_version says with
-- which key, last_four is for display)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE api_credentials (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id              uuid NOT NULL,
  service_name            varchar(100) NOT NULL,
  service_type            varchar(50),
  credentials_encrypted   text,
  access_token_encrypted  text,
  refresh_token_encrypted text,
  key_version             integer NOT NULL DEFAULT 1,
  last_four               varchar(4),
  token_expires_at        timestamptz,
  is_active               boolean NOT NULL DEFAULT true,
  last_sync_at            timestamptz,
  last_sync_status        varchar(50),
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT api_credentials_company_service_key UNIQUE (company_id, service_name),
  CONSTRAINT api_credentials_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT api_credentials_service_name_format CHECK (service_name ~ '^[a-z0-9_]+$'),
  CONSTRAINT api_credentials_key_version_positive CHECK (key_version > 0),
  CONSTRAINT api_credentials_last_sync_status_valid CHECK (last_sync_status IN ('SUCCESS', 'FAILURE', 'PENDING'))
);

-- (company_id, service_name) UNIQUE already serves the company_id foreign key.

CREATE TRIGGER api_credentials_set_updated_at
  BEFORE UPDATE ON api_credentials
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

-- ---------------------------------------------------------------------------------------------
-- user_preferences (user_id is public.users.id, deliberately not a foreign key)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE user_preferences (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id             uuid NOT NULL,
  company_id          uuid NOT NULL,
  dashboard_layout    jsonb NOT NULL DEFAULT '{}'::jsonb,
  widget_preferences  jsonb NOT NULL DEFAULT '{}'::jsonb,
  email_notifications jsonb NOT NULL DEFAULT '{}'::jsonb,
  push_notifications  jsonb NOT NULL DEFAULT '{}'::jsonb,
  theme               varchar(20) NOT NULL DEFAULT 'auto',
  locale              varchar(10),
  timezone            varchar(50),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_preferences_user_company_key UNIQUE (user_id, company_id),
  CONSTRAINT user_preferences_company_id_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT user_preferences_theme_valid CHECK (theme IN ('light', 'dark', 'auto'))
);

CREATE INDEX idx_user_preferences_company ON user_preferences (company_id);

CREATE TRIGGER user_preferences_set_updated_at
  BEFORE UPDATE ON user_preferences
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
