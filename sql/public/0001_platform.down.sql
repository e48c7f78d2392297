-- Reverts 0001_platform.sql. Run every tenant down migration (or drop the tenant schemas) first:
-- tenant tables' triggers use public.set_updated_at(), and it is dropped here without CASCADE
-- on purpose, so this fails loudly instead of silently stripping triggers from tenant schemas.
-- REVOKE CREATE ON SCHEMA public FROM PUBLIC is not undone (that is PostgreSQL 15+'s default).

DROP FUNCTION IF EXISTS public.list_tenant_schemas();

DROP TABLE IF EXISTS public.tenant_migration_state;
DROP TABLE IF EXISTS public.stripe_events;
DROP TABLE IF EXISTS public.api_keys;
DROP TABLE IF EXISTS public.usage_metrics;
DROP TABLE IF EXISTS public.audit_logs;
DROP TABLE IF EXISTS public.subscriptions;
DROP TABLE IF EXISTS public.users;
DROP TABLE IF EXISTS public.tenants;

DROP FUNCTION IF EXISTS public.set_updated_at();

DROP TYPE IF EXISTS public.audit_severity;
DROP TYPE IF EXISTS public.billing_cycle;
DROP TYPE IF EXISTS public.user_role;
DROP TYPE IF EXISTS public.subscription_status;
DROP TYPE IF EXISTS public.subscription_tier;
