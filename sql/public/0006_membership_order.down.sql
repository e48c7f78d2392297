ALTER TABLE public.users DROP COLUMN clerk_updated_at;
