-- Which of these auth user ids have no auth.users row? The order backfill asks before it plans a customer
-- for an order: customers.auth_user_id references auth.users where that table exists (Supabase), and an
-- order naming a user that does not exist must become a validation error, not a foreign-key failure that
-- aborts the whole run (and that a dry run, writing nothing, would never meet).
--
-- SECURITY DEFINER: service_role has USAGE on schema auth but no privilege on auth.users on Supabase; the
-- owner of this function (the migrating user, `postgres` there) may read it. Without auth.users (plain
-- PostgreSQL, RDS) no id is missing: nothing references such a table.

create or replace function public.unknown_auth_user_ids(p_ids uuid[]) returns setof uuid
language plpgsql
stable
security definer
set search_path = pg_catalog
as $$
begin
  if to_regclass('auth.users') is null then
    return;
  end if;
  return query
    select distinct candidate.id
      from unnest(p_ids) as candidate(id)
     where candidate.id is not null
       and not exists (select 1 from auth.users u where u.id = candidate.id);
end
$$;

revoke execute on function public.unknown_auth_user_ids(uuid[]) from public, anon, authenticated;
grant execute on function public.unknown_auth_user_ids(uuid[]) to service_role;
