-- 0004_identity: what Clerk organisations, their members and platform operators need.
--   * A Clerk user may belong to several organisations (tenants): users are unique per
--     (tenant, Clerk user), no longer per Clerk user.
--   * Platform keys: an API key without a tenant carries exactly the 'platform' scope, and a
--     tenant's key never does.
--   * clerk_events: Svix message ids already handled, so a redelivered webhook has one effect.
--   * audit_logs gets a keyset index for auditLogs(first, after) across tenants.

ALTER TABLE public.users DROP CONSTRAINT users_clerk_user_id_key;
ALTER TABLE public.users ADD CONSTRAINT users_tenant_clerk_user_key UNIQUE (tenant_id, clerk_user_id);
CREATE INDEX idx_users_clerk_user ON public.users (clerk_user_id);
-- (tenant_id, clerk_user_id) UNIQUE indexes tenant_id first: the old single-column index is redundant.
DROP INDEX public.idx_users_tenant;

ALTER TABLE public.api_keys DROP CONSTRAINT api_keys_scopes_valid;
ALTER TABLE public.api_keys ADD CONSTRAINT api_keys_scopes_valid CHECK (
  CASE WHEN tenant_id IS NULL
    THEN scopes = ARRAY['platform']::text[]
    ELSE scopes <@ ARRAY['read', 'write']::text[] AND cardinality(scopes) > 0
  END);

CREATE TABLE public.clerk_events (
  id          text PRIMARY KEY,
  type        text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE public.clerk_events IS 'Clerk (Svix) webhook message ids already processed, for idempotent handling.';

CREATE INDEX idx_audit_logs_created_id ON public.audit_logs (created_at DESC, id DESC);
DROP INDEX public.idx_audit_logs_created;
