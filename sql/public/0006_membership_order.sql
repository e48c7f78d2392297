-- 0006_membership_order: Clerk may deliver membership events out of order (a retry of an older
-- one after a newer one). users.clerk_updated_at keeps the membership's updated_at as of the
-- newest event applied, so an older event changes nothing.
ALTER TABLE public.users ADD COLUMN clerk_updated_at timestamptz;
