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

-- supabase_postgres holds the API roles WITH ADMIN OPTION: from PostgreSQL 16 on, CREATEROLE alone no longer
-- lets a role grant roles it did not create. The roles our migrations create (api_customer) and the runtime
-- role are, on a real project, created by `postgres` itself, which gives it that option; on this shared
-- cluster an earlier run may have created them as the superuser, so the option the creator would hold is
-- given here.
do $memberships$
declare
  pair record;
begin
  for pair in
    select * from (values
      ('anon', 'authenticator', false), ('authenticated', 'authenticator', false),
      ('service_role', 'authenticator', false),
      ('anon', 'supabase_postgres', true), ('authenticated', 'supabase_postgres', true),
      ('service_role', 'supabase_postgres', true),
      ('api_customer', 'supabase_postgres', true), ('isp_billing_runtime', 'supabase_postgres', true)
    ) as m(granted, member, admin)
  loop
    continue when not exists (select 1 from pg_roles where rolname = pair.granted);
    continue when exists (
      select 1 from pg_auth_members m
       where m.roleid = (select oid from pg_roles where rolname = pair.granted)
         and m.member = (select oid from pg_roles where rolname = pair.member)
         and (m.admin_option or not pair.admin)
    );
    begin
      execute format('grant %I to %I', pair.granted, pair.member)
        || case when pair.admin then ' with admin option' else '' end;
    exception when duplicate_object or unique_violation then
      null;
    end;
  end loop;
end
$memberships$;
