-- Supabase compatibility: the roles, the auth schema and auth.uid()/auth.role()/auth.jwt().
-- Everything here is created only where missing, so on Supabase its own objects are kept and this
-- file can be applied any number of times.

do $do$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$do$;

-- A non-superuser migrating user (Supabase's postgres, RDS's master user) must be able to SET ROLE.
do $do$
declare
  r text;
begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    foreach r in array array['anon', 'authenticated', 'service_role'] loop
      if not pg_has_role(current_user, r, 'member') then
        execute format('grant %I to %I', r, current_user);
      end if;
    end loop;
  end if;
end
$do$;

create schema if not exists auth;

do $do$
begin
  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'uid'
  ) then
    create function auth.uid() returns uuid
    language sql stable
    as $fn$
      select nullif(
        coalesce(
          nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub',
          nullif(current_setting('request.jwt.claim.sub', true), '')
        ),
        ''
      )::uuid
    $fn$;
  end if;

  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'role'
  ) then
    create function auth.role() returns text
    language sql stable
    as $fn$
      select nullif(
        coalesce(
          nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role',
          nullif(current_setting('request.jwt.claim.role', true), '')
        ),
        ''
      )::text
    $fn$;
  end if;

  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'jwt'
  ) then
    create function auth.jwt() returns jsonb
    language sql stable
    as $fn$
      select coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
    $fn$;
  end if;
end
$do$;

grant usage on schema public, auth to anon, authenticated, service_role;
