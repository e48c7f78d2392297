-- 0001_platform: the shared `public` schema (tenant registry, users, billing, audit, usage,
-- API keys, Stripe webhook de-duplication, per-tenant migration state).
--
-- Runs as one multi-statement string inside a transaction opened by the migration runner:
-- no BEGIN/COMMIT, no CONCURRENTLY, no ALTER TYPE ... ADD VALUE. Works on PostgreSQL 15+
-- (gen_random_uuid() is built in; no extensions). Every object is schema-qualified.
-- Constraint names are explicit because the server maps them to user-facing error messages.

-- ---------------------------------------------------------------------------------------------
-- Security: nobody but the owner creates objects in public (already the default on PG 15+,
-- stated here so older-initialised or restored clusters get the same guarantee).
-- ---------------------------------------------------------------------------------------------
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Enums (lowercase values)
-- ---------------------------------------------------------------------------------------------
CREATE TYPE public.subscription_tier AS ENUM ('starter', 'professional', 'enterprise');
CREATE TYPE public.subscription_status AS ENUM ('trial', 'active', 'past_due', 'cancelled', 'suspended');
CREATE TYPE public.user_role AS ENUM ('owner', 'admin', 'member', 'viewer');
CREATE TYPE public.billing_cycle AS ENUM ('monthly', 'quarterly', 'annual');
CREATE TYPE public.audit_severity AS ENUM ('info', 'warning', 'error', 'critical');

-- ---------------------------------------------------------------------------------------------
-- updated_at trigger function (also used by every tenant schema's tables)
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION public.set_updated_at()
RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

COMMENT ON FUNCTION public.set_updated_at() IS 'BEFORE UPDATE trigger: stamps updated_at with now() (transaction start time).';

-- ---------------------------------------------------------------------------------------------
-- tenants
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.tenants (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug                  varchar(63) NOT NULL,
  name                  varchar(255) NOT NULL,
  schema_name           varchar(100) NOT NULL,
  clerk_organization_id varchar(255),
  subscription_tier     public.subscription_tier NOT NULL DEFAULT 'starter',
  subscription_status   public.subscription_status NOT NULL DEFAULT 'trial',
  trial_ends_at         timestamptz,
  max_users             integer,
  max_entities          integer,
  max_storage_mb        integer,
  features              jsonb NOT NULL DEFAULT '{}'::jsonb,
  settings              jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  deleted_at            timestamptz,
  CONSTRAINT tenants_slug_key UNIQUE (slug),
  CONSTRAINT tenants_schema_name_key UNIQUE (schema_name),
  CONSTRAINT tenants_clerk_organization_id_key UNIQUE (clerk_organization_id),
  CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) BETWEEN 3 AND 63),
  CONSTRAINT tenants_schema_name_format CHECK (schema_name ~ '^tenant_[0-9a-f]{32}$'),
  CONSTRAINT tenants_max_users_positive CHECK (max_users IS NULL OR max_users > 0),
  CONSTRAINT tenants_max_entities_positive CHECK (max_entities IS NULL OR max_entities > 0),
  CONSTRAINT tenants_max_storage_mb_positive CHECK (max_storage_mb IS NULL OR max_storage_mb > 0)
);

-- slug, schema_name and clerk_organization_id are already indexed by their UNIQUE constraints.
CREATE INDEX idx_tenants_status ON public.tenants (subscription_status);
CREATE INDEX idx_tenants_active ON public.tenants (created_at, id) WHERE deleted_at IS NULL;

CREATE TRIGGER tenants_set_updated_at
  BEFORE UPDATE ON public.tenants
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

COMMENT ON TABLE public.tenants IS 'Registry of customer organisations; each row owns one tenant_<32 hex> schema (soft-deleted via deleted_at).';

-- ---------------------------------------------------------------------------------------------
-- users
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clerk_user_id varchar(255) NOT NULL,
  email         varchar(255),
  tenant_id     uuid NOT NULL,
  role          public.user_role NOT NULL DEFAULT 'member',
  is_active     boolean NOT NULL DEFAULT true,
  is_verified   boolean NOT NULL DEFAULT false,
  last_login_at timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  deleted_at    timestamptz,
  CONSTRAINT users_clerk_user_id_key UNIQUE (clerk_user_id),
  CONSTRAINT users_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants (id) ON DELETE CASCADE
);

-- clerk_user_id is already indexed by its UNIQUE constraint.
CREATE INDEX idx_users_tenant ON public.users (tenant_id);
CREATE INDEX idx_users_email ON public.users (email);
CREATE INDEX idx_users_role ON public.users (role);

CREATE TRIGGER users_set_updated_at
  BEFORE UPDATE ON public.users
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

COMMENT ON TABLE public.users IS 'Clerk users and their role inside their tenant.';

-- ---------------------------------------------------------------------------------------------
-- subscriptions
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.subscriptions (
  id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id              uuid NOT NULL,
  subscription_tier      public.subscription_tier NOT NULL DEFAULT 'starter',
  status                 public.subscription_status NOT NULL DEFAULT 'trial',
  billing_cycle          public.billing_cycle NOT NULL DEFAULT 'monthly',
  stripe_customer_id     varchar(255),
  stripe_subscription_id varchar(255),
  stripe_price_id        varchar(255),
  amount_cents           integer,
  currency               char(3),
  cancel_at_period_end   boolean NOT NULL DEFAULT false,
  current_period_start   timestamptz,
  current_period_end     timestamptz,
  trial_end              timestamptz,
  cancel_at              timestamptz,
  canceled_at            timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT subscriptions_stripe_subscription_id_key UNIQUE (stripe_subscription_id),
  CONSTRAINT subscriptions_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants (id) ON DELETE CASCADE,
  CONSTRAINT subscriptions_amount_cents_nonnegative CHECK (amount_cents IS NULL OR amount_cents >= 0),
  -- Stripe reports ISO 4217 codes in lowercase ('gbp'); accept either case.
  CONSTRAINT subscriptions_currency_format CHECK (currency IS NULL OR currency ~ '^[A-Za-z]{3}$'),
  CONSTRAINT subscriptions_period_order CHECK (
    current_period_start IS NULL OR current_period_end IS NULL OR current_period_end >= current_period_start
  )
);

CREATE INDEX idx_subscriptions_tenant ON public.subscriptions (tenant_id);

CREATE TRIGGER subscriptions_set_updated_at
  BEFORE UPDATE ON public.subscriptions
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

COMMENT ON TABLE public.subscriptions IS 'Stripe subscription state per tenant (tier, status, billing period, price).';

-- ---------------------------------------------------------------------------------------------
-- audit_logs (no foreign keys: the trail must survive a purged tenant or user)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.audit_logs (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid,
  user_id       uuid,
  actor         text,
  action        varchar(100) NOT NULL,
  resource_type varchar(100),
  resource_id   text,
  severity      public.audit_severity NOT NULL DEFAULT 'info',
  changes       jsonb,
  metadata      jsonb,
  ip_address    inet,
  user_agent    text,
  success       boolean NOT NULL DEFAULT true,
  error_message text,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX idx_audit_logs_tenant_created ON public.audit_logs (tenant_id, created_at DESC);
CREATE INDEX idx_audit_logs_action ON public.audit_logs (action);
CREATE INDEX idx_audit_logs_created ON public.audit_logs (created_at);

COMMENT ON TABLE public.audit_logs IS 'Append-only platform audit trail; tenant_id/user_id are deliberately not foreign keys.';

-- ---------------------------------------------------------------------------------------------
-- usage_metrics
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.usage_metrics (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id            uuid NOT NULL,
  period_start         timestamptz NOT NULL,
  period_end           timestamptz NOT NULL,
  active_users_count   integer NOT NULL DEFAULT 0,
  total_entities_count integer NOT NULL DEFAULT 0,
  storage_used_mb      integer NOT NULL DEFAULT 0,
  api_requests_count   bigint NOT NULL DEFAULT 0,
  api_errors_count     bigint NOT NULL DEFAULT 0,
  forecasts_generated  integer NOT NULL DEFAULT 0,
  reports_exported     integer NOT NULL DEFAULT 0,
  integrations_synced  integer NOT NULL DEFAULT 0,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT usage_metrics_tenant_period_key UNIQUE (tenant_id, period_start),
  CONSTRAINT usage_metrics_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants (id) ON DELETE CASCADE,
  CONSTRAINT usage_metrics_period_order CHECK (period_end > period_start),
  CONSTRAINT usage_metrics_active_users_count_nonnegative CHECK (active_users_count >= 0),
  CONSTRAINT usage_metrics_total_entities_count_nonnegative CHECK (total_entities_count >= 0),
  CONSTRAINT usage_metrics_storage_used_mb_nonnegative CHECK (storage_used_mb >= 0),
  CONSTRAINT usage_metrics_api_requests_count_nonnegative CHECK (api_requests_count >= 0),
  CONSTRAINT usage_metrics_api_errors_count_nonnegative CHECK (api_errors_count >= 0),
  CONSTRAINT usage_metrics_forecasts_generated_nonnegative CHECK (forecasts_generated >= 0),
  CONSTRAINT usage_metrics_reports_exported_nonnegative CHECK (reports_exported >= 0),
  CONSTRAINT usage_metrics_integrations_synced_nonnegative CHECK (integrations_synced >= 0)
);

-- (tenant_id, period_start) UNIQUE already indexes tenant_id.

CREATE TRIGGER usage_metrics_set_updated_at
  BEFORE UPDATE ON public.usage_metrics
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

COMMENT ON TABLE public.usage_metrics IS 'Per-tenant resource and request counters per period, for quotas and usage billing.';

-- ---------------------------------------------------------------------------------------------
-- api_keys (only the SHA-256 of the secret is stored)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.api_keys (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid,
  name         varchar(100) NOT NULL,
  key_prefix   varchar(32) NOT NULL,
  key_hash     bytea NOT NULL,
  scopes       text[] NOT NULL DEFAULT '{read}'::text[],
  expires_at   timestamptz,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  created_by   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
  CONSTRAINT api_keys_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants (id) ON DELETE CASCADE,
  CONSTRAINT api_keys_key_hash_sha256 CHECK (octet_length(key_hash) = 32),
  CONSTRAINT api_keys_scopes_valid CHECK (scopes <@ ARRAY['read', 'write']::text[] AND cardinality(scopes) > 0)
);

CREATE INDEX idx_api_keys_tenant ON public.api_keys (tenant_id);

CREATE TRIGGER api_keys_set_updated_at
  BEFORE UPDATE ON public.api_keys
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

COMMENT ON TABLE public.api_keys IS 'Partner API keys (SHA-256 hash only); tenant_id NULL marks a platform key.';

-- ---------------------------------------------------------------------------------------------
-- stripe_events (webhook ids already handled)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.stripe_events (
  id                text PRIMARY KEY,
  type              text NOT NULL,
  tenant_id         uuid,
  stripe_created_at timestamptz,
  received_at       timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.stripe_events IS 'Stripe webhook event ids already processed, for idempotent handling.';

-- ---------------------------------------------------------------------------------------------
-- tenant_migration_state (applied tenant migration version per tenant)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.tenant_migration_state (
  tenant_id       uuid PRIMARY KEY,
  version         integer NOT NULL DEFAULT 0,
  last_error      text,
  last_attempt_at timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenant_migration_state_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES public.tenants (id) ON DELETE CASCADE,
  CONSTRAINT tenant_migration_state_version_nonnegative CHECK (version >= 0)
);

CREATE INDEX idx_tenant_migration_state_version ON public.tenant_migration_state (version);

CREATE TRIGGER tenant_migration_state_set_updated_at
  BEFORE UPDATE ON public.tenant_migration_state
  FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();

COMMENT ON TABLE public.tenant_migration_state IS 'Highest tenant migration applied to each tenant schema, so "nothing pending" is one query.';

-- ---------------------------------------------------------------------------------------------
-- list_tenant_schemas(): one row per tenants row (deleted ones too) with its schema's footprint
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION public.list_tenant_schemas()
RETURNS TABLE (
  tenant_id     uuid,
  slug          text,
  schema_name   text,
  schema_exists boolean,
  table_count   integer,
  size_bytes    bigint,
  deleted_at    timestamptz
)
LANGUAGE sql
STABLE
SET search_path = pg_catalog
AS $$
  SELECT t.id,
         t.slug::text,
         t.schema_name::text,
         n.oid IS NOT NULL,
         coalesce(s.table_count, 0)::integer,
         coalesce(s.size_bytes, 0)::bigint,
         t.deleted_at
    FROM public.tenants AS t
    LEFT JOIN pg_catalog.pg_namespace AS n
           ON n.nspname = t.schema_name::name
    LEFT JOIN LATERAL (
           SELECT count(*) AS table_count,
                  sum(pg_catalog.pg_total_relation_size(c.oid)) AS size_bytes
             FROM pg_catalog.pg_class AS c
            WHERE c.relnamespace = n.oid
              AND c.relkind = 'r'
         ) AS s ON true
   ORDER BY t.created_at, t.id
$$;

REVOKE ALL ON FUNCTION public.list_tenant_schemas() FROM PUBLIC;

COMMENT ON FUNCTION public.list_tenant_schemas() IS 'Every tenant row with whether its schema exists, its ordinary-table count and total size in bytes.';
