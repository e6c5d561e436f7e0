-- A PostgreSQL cluster's roles shaped like a Supabase project's (supabase/postgres init scripts and
-- Supabase's docs on roles), for the Supabase-shaped CI pass. Run as a superuser. Roles are cluster-wide and
-- several runs may overlap: every statement tolerates a role or membership another run created first.
--
-- `postgres` cannot be the stand-in for Supabase's `postgres` here (it is this server's superuser, which the
-- other passes need), so `supabase_postgres` plays it: NOT a superuser, CREATEROLE, CREATEDB, BYPASSRLS,
-- a member of anon, authenticated and service_role. supabase_admin (Supabase's superuser) is not created:
-- this server's superuser plays it.

do $roles$
declare
  spec record;
begin
  for spec in
    select * from (values
      ('anon', 'nologin noinherit'),
      ('authenticated', 'nologin noinherit'),
      ('service_role', 'nologin noinherit bypassrls'),
      ('authenticator', 'login noinherit'),
      ('supabase_auth_admin', 'login noinherit createrole noreplication'),
      ('dashboard_user', 'nologin nosuperuser createdb createrole'),
      ('supabase_postgres', 'login nosuperuser inherit createrole createdb bypassrls')
    ) as r(name, attributes)
  loop
    if not exists (select 1 from pg_roles where rolname = spec.name) then
      begin
        execute format('create role %I %s', spec.name, spec.attributes);
      exception when duplicate_object or unique_violation then
        null;  -- created by an overlapping run
      end;
    end if;
  end loop;
end
$roles$;

do $memberships$
declare
  pair record;
begin
  for pair in
    select * from (values
      ('anon', 'authenticator'), ('authenticated', 'authenticator'), ('service_role', 'authenticator'),
      ('anon', 'supabase_postgres'), ('authenticated', 'supabase_postgres'),
      ('service_role', 'supabase_postgres')
    ) as m(granted, member)
  loop
    if not pg_has_role(pair.member, pair.granted, 'member') then
      begin
        execute format('grant %I to %I', pair.granted, pair.member);
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;
end
$memberships$;
