DROP FUNCTION IF EXISTS public.verify_tenant_isolation();
