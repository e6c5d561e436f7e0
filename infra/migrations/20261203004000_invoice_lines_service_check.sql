-- The billing run inserts ~2.4 lines per customer. Each line's service_id foreign key was a per-row trigger
-- call that read the service by key and locked it FOR KEY SHARE (a heap write and WAL on every service row of
-- the chunk), and its index took a random leaf page per line (service ids are random). No query reads that
-- index: it served only the key's ON DELETE RESTRICT check. Both go; what the key proved is now proved once
-- per statement, and more strictly:
--
-- 1. An inserted (or updated) line that names a service must name a service *of its invoice's customer*
--    (the key only proved the service existed). Checked by the statement guard that already joins the new
--    lines to their invoices (the issued-invoice guard), so it costs one set-based join, no lock.
-- 2. A service named by any line cannot be deleted (the key's ON DELETE RESTRICT): a statement trigger on
--    customer_services. Services are never deleted by the application (domain: nothing financial is ever
--    hard-deleted), so the check, which reads the lines without an index, runs only on that rare statement.
--    It first takes a SHARE lock on the deleted services' customers: the billing run holds FOR NO KEY UPDATE
--    on its customers until it commits, so a delete racing a run waits for the run's lines and then sees
--    them (a fresh snapshot per statement), and a run that waited for the delete no longer sees the service
--    (and check 1 refuses a line naming it).
-- 3. The guard's join reads invoices (and services) by primary key whatever the planner estimates (below).

alter table public.invoice_line_items drop constraint invoice_line_items_service_id_fkey;
drop index public.invoice_line_items_service_id_idx;

-- The service check is written into both trigger functions: a transition table is visible only to the
-- statements of the trigger function itself, not to a function it calls.
-- The guard's join reads invoices and services by primary key, a probe per line: the planner settings are
-- the function's own (restored when it returns, nothing outlives the call), and the query is EXECUTEd, so
-- it is planned for the book as it is. The old guard's static query kept the plan made for the session's
-- first chunk, while the tables were small, and its cost grew with the book: 7 ms of a chunk at the start
-- of a 100,000-customer run, 51 ms at its end (~0.5 s at a million invoices); now ~10 ms, flat.
create or replace function public.protect_issued_invoice_lines_insert() returns trigger
language plpgsql
security definer
set search_path = public
set enable_seqscan = off
set enable_hashjoin = off
set enable_mergejoin = off
as $$
declare
  v_blocked text;
  v_service uuid;
  v_invoice uuid;
begin
  -- One pass over the new lines and their invoices for both checks; EXECUTE, so it is planned for the
  -- book as it is now, not once for the whole session when the tables were small.
  execute $q$
    select string_agg(distinct i.invoice_number || ' (' || i.status || ')', ', ')
             filter (where i.status <> 'draft' and not (i.xmin::text::bigint
                     = pg_current_xact_id()::text::bigint % 4294967296 and i.created_at = now())),
           (array_agg(r.service_id) filter (where r.service_id is not null and s.id is null))[1],
           (array_agg(r.invoice_id) filter (where r.service_id is not null and s.id is null))[1]
      from new_rows r
      join public.customer_invoices i on i.id = r.invoice_id
      left join public.customer_services s on s.id = r.service_id and s.customer_id = i.customer_id
  $q$ into v_blocked, v_service, v_invoice;
  if v_blocked is not null then
    raise exception 'lines of invoice % cannot change once it is no longer a draft', v_blocked
      using errcode = '55000', hint = 'Correct it with a credit note.';
  end if;
  if v_service is not null then
    raise exception 'service % is not a service of the customer of invoice %', v_service, v_invoice
      using errcode = '23503', hint = 'A line names a service of its own invoice''s customer.';
  end if;
  return null;
end
$$;

create or replace function public.protect_issued_invoice_lines_statement() returns trigger
language plpgsql
security definer
set search_path = public
set enable_seqscan = off
set enable_hashjoin = off
set enable_mergejoin = off
as $$
declare
  v_blocked text;
  v_line record;
begin
  if tg_op = 'INSERT' then
    select string_agg(distinct i.invoice_number || ' (' || i.status || ')', ', ') into v_blocked
      from new_rows r join public.customer_invoices i on i.id = r.invoice_id
     where i.status <> 'draft';
  elsif tg_op = 'UPDATE' then
    select string_agg(distinct i.invoice_number || ' (' || i.status || ')', ', ') into v_blocked
      from (select invoice_id from old_rows union select invoice_id from new_rows) r
      join public.customer_invoices i on i.id = r.invoice_id
     where i.status <> 'draft';
  else
    select string_agg(distinct i.invoice_number || ' (' || i.status || ')', ', ') into v_blocked
      from old_rows r join public.customer_invoices i on i.id = r.invoice_id
     where i.status <> 'draft';
  end if;
  if v_blocked is not null then
    raise exception 'lines of invoice % cannot change once it is no longer a draft', v_blocked
      using errcode = '55000', hint = 'Correct it with a credit note.';
  end if;
  if tg_op = 'UPDATE' then
    select r.service_id, r.invoice_id into v_line
      from new_rows r
      join public.customer_invoices i on i.id = r.invoice_id
      left join public.customer_services s on s.id = r.service_id and s.customer_id = i.customer_id
     where r.service_id is not null and s.id is null
     limit 1;
    if found then
      raise exception 'service % is not a service of the customer of invoice %', v_line.service_id,
        v_line.invoice_id
        using errcode = '23503', hint = 'A line names a service of its own invoice''s customer.';
    end if;
  end if;
  return null;
end
$$;

-- A service named by an invoice line is never deleted (what the dropped key's ON DELETE RESTRICT kept).
create or replace function public.refuse_delete_of_invoiced_service() returns trigger
language plpgsql
security definer
set search_path = public
as $$
declare
  v_service uuid;
begin
  perform 1 from public.customers c where c.id in (select customer_id from old_rows) order by c.id for share;
  select l.service_id into v_service
    from public.invoice_line_items l
   where l.service_id in (select id from old_rows)
   limit 1;
  if found then
    raise exception 'service % is named by an invoice line and cannot be deleted', v_service
      using errcode = '23503', hint = 'Cancel the service instead; invoices are kept.';
  end if;
  return null;
end
$$;

create trigger customer_services_keep_invoiced
  after delete on public.customer_services
  referencing old table as old_rows
  for each statement execute function public.refuse_delete_of_invoiced_service();

revoke execute on function public.protect_issued_invoice_lines_insert() from public, anon, authenticated;
revoke execute on function public.protect_issued_invoice_lines_statement() from public, anon, authenticated;
revoke execute on function public.refuse_delete_of_invoiced_service() from public, anon, authenticated;
