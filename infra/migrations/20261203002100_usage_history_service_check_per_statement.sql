-- usage_history's composite key (service_id, customer_id) -> customer_services (id, customer_id) was a
-- trigger call per row: on the 1,000,100-row back-fill benchmark about a quarter of the upsert's time
-- (EXPLAIN ANALYZE, 73,000-row chunk: 259-449 ms of 950-1,520 ms). The same rule is kept, checked once
-- per statement over the rows it wrote:
--
-- * every (service_id, customer_id) written, inserted or updated, is a row of customer_services, locked
--   FOR KEY SHARE as the key's own check locks it (a concurrent delete of the service, or a move to
--   another customer, waits for this transaction and then finds its rows; one that went first leaves no
--   row to lock and the write fails);
-- * deleting a service that has usage, or changing its id or customer, is refused (ON DELETE RESTRICT).
--
-- SQLSTATE 23503 (foreign_key_violation) either way, as before. Both functions run as the tables' owner,
-- as the key's checks do: the writer's privileges and row policies do not change what they see. What the built-in key did and this does
-- not: catch a service deleted in a REPEATABLE READ transaction while usage for it commits concurrently
-- (the key's check looks past its snapshot; a trigger cannot). Nothing deletes services (they are
-- cancelled, the row kept for its invoices and history) and no code runs above READ COMMITTED.

create function public.usage_history_check_services() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public
as $$
declare
  wanted bigint;
  locked bigint;
  missing record;
begin
  select count(*) into wanted from (select distinct service_id, customer_id from written) w;
  select count(*) into locked
    from (select 1
            from public.customer_services s
            join (select distinct service_id, customer_id from written) w
              on s.id = w.service_id and s.customer_id = w.customer_id
             for key share of s) l;
  if locked < wanted then
    select w.service_id, w.customer_id into missing
      from written w
     where not exists (select 1 from public.customer_services s
                        where s.id = w.service_id and s.customer_id = w.customer_id)
     limit 1;
    raise exception 'insert or update on table "usage_history" violates foreign key constraint "usage_history_service_customer_fkey"'
      using errcode = 'foreign_key_violation',
            constraint = 'usage_history_service_customer_fkey',
            table = 'usage_history',
            detail = format('Key (service_id, customer_id)=(%s, %s) is not present in table "customer_services".',
                            missing.service_id, missing.customer_id);
  end if;
  return null;
end
$$;

create function public.customer_services_restrict_usage() returns trigger
language plpgsql
security definer
set search_path = pg_catalog, public
as $$
begin
  if exists (select 1 from public.usage_history u where u.service_id = old.id and u.customer_id = old.customer_id)
  then
    raise exception 'update or delete on table "customer_services" violates foreign key constraint "usage_history_service_customer_fkey" on table "usage_history"'
      using errcode = 'foreign_key_violation',
            constraint = 'usage_history_service_customer_fkey',
            table = 'customer_services',
            detail = format('Key (id, customer_id)=(%s, %s) is still referenced from table "usage_history".',
                            old.id, old.customer_id);
  end if;
  return null;
end
$$;

revoke execute on function public.usage_history_check_services() from public, anon, authenticated;
revoke execute on function public.customer_services_restrict_usage() from public, anon, authenticated;

create trigger usage_history_services_inserted
  after insert on public.usage_history
  referencing new table as written
  for each statement execute function public.usage_history_check_services();

create trigger usage_history_services_updated
  after update on public.usage_history
  referencing new table as written
  for each statement execute function public.usage_history_check_services();

create trigger customer_services_usage_restrict_delete
  after delete on public.customer_services
  for each row execute function public.customer_services_restrict_usage();

create trigger customer_services_usage_restrict_key_change
  after update of id, customer_id on public.customer_services
  for each row when (old.id is distinct from new.id or old.customer_id is distinct from new.customer_id)
  execute function public.customer_services_restrict_usage();

alter table public.usage_history drop constraint usage_history_service_customer_fkey;
