CREATE INDEX idx_audit_logs_created ON public.audit_logs (created_at);
DROP INDEX public.idx_audit_logs_created_id;

DROP TABLE public.clerk_events;

DELETE FROM public.api_keys WHERE tenant_id IS NULL;
ALTER TABLE public.api_keys DROP CONSTRAINT api_keys_scopes_valid;
ALTER TABLE public.api_keys ADD CONSTRAINT api_keys_scopes_valid
  CHECK (scopes <@ ARRAY['read', 'write']::text[] AND cardinality(scopes) > 0);

CREATE INDEX idx_users_tenant ON public.users (tenant_id);
DROP INDEX public.idx_users_clerk_user;
ALTER TABLE public.users DROP CONSTRAINT users_tenant_clerk_user_key;
-- Fails if a Clerk user now belongs to several tenants: that data cannot go back to one row each.
ALTER TABLE public.users ADD CONSTRAINT users_clerk_user_id_key UNIQUE (clerk_user_id);
