-- The billing run (issue 11): once-off charges, line keys that make every line unique, and a set-based
-- guard on issued invoices' lines.

-- Why a line exists, as a key: charge:<service>:<period>, price_change:<audit row>, cancel_credit:<service>,
-- suspension_credit:<suspension>:<period>, once_off:<charge>, credit_balance:<customer>:<period>. Unique, so
-- a re-run, a re-delivered chunk or a second run can never invoice the same thing twice.
alter table public.invoice_line_items add column line_key text;
create unique index invoice_line_items_line_key_key on public.invoice_line_items (line_key)
  where line_key is not null;

-- Once-off charges (installation, equipment, adjustment), VAT-inclusive, carried by the next recurring
-- invoice on or after their due date, exactly once; a charge not yet invoiced can be cancelled.
create table public.customer_charges (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  kind text not null check (kind in ('installation', 'equipment', 'adjustment')),
  description text not null check (btrim(description) <> '' and length(description) <= 200),
  amount numeric(12,2) not null check (amount <> 0 and (kind = 'adjustment' or amount > 0)),
  due_date date not null,
  status text not null default 'pending' check (status in ('pending', 'invoiced', 'cancelled')),
  invoice_id uuid references public.customer_invoices (id) on delete restrict,
  created_by uuid references public.admin_users (id) on delete restrict,
  cancelled_at timestamptz,
  cancelled_by uuid references public.admin_users (id) on delete restrict,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint customer_charges_invoiced_has_invoice check ((status = 'invoiced') = (invoice_id is not null)),
  constraint customer_charges_cancelled_when check ((status = 'cancelled') = (cancelled_at is not null))
);

create index customer_charges_customer_idx on public.customer_charges (customer_id, created_at desc, id desc);
create index customer_charges_pending_idx on public.customer_charges (customer_id, due_date)
  where status = 'pending';
create index customer_charges_invoice_id_idx on public.customer_charges (invoice_id) where invoice_id is not null;

create trigger customer_charges_set_updated_at
  before update on public.customer_charges
  for each row execute function public.set_updated_at();

alter table public.customer_charges enable row level security;
-- Admin-only (the customer sees a charge as a line of an invoice): service_role, nothing for customers.
revoke all on public.customer_charges from anon, authenticated;
grant select, insert, update on public.customer_charges to service_role;

-- The price_change audit rows the billing run reads, by customer and action.
create index service_action_log_price_change_idx on public.service_action_log (customer_id)
  where action = 'price_change';

-- Issued invoices' lines are immutable: the same rule as before, checked once per statement over the
-- statement's rows (the billing run inserts lines by the thousand; the row trigger queried once per line).
drop trigger invoice_line_items_protect_issued on public.invoice_line_items;

create or replace function public.protect_issued_invoice_lines_statement() returns trigger
language plpgsql
security definer
set search_path = public
as $$
declare
  v_blocked text;
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
  return null;
end
$$;

-- Inserted lines may belong to an invoice inserted in the same transaction as issued: the run writes the
-- invoice and its lines together, so an INSERT of lines is allowed when their invoice is new in this
-- transaction (its row version is this transaction's and its created_at is this transaction's start), and
-- refused for any older issued invoice (an older invoice updated in this transaction keeps its created_at).
create or replace function public.protect_issued_invoice_lines_insert() returns trigger
language plpgsql
security definer
set search_path = public
as $$
declare
  v_blocked text;
begin
  select string_agg(distinct i.invoice_number || ' (' || i.status || ')', ', ') into v_blocked
    from new_rows r join public.customer_invoices i on i.id = r.invoice_id
   where i.status <> 'draft'
     and not (i.xmin::text::bigint = pg_current_xact_id()::text::bigint % 4294967296 and i.created_at = now());
  if v_blocked is not null then
    raise exception 'lines of invoice % cannot change once it is no longer a draft', v_blocked
      using errcode = '55000', hint = 'Correct it with a credit note.';
  end if;
  return null;
end
$$;

create trigger invoice_line_items_protect_issued_insert
  after insert on public.invoice_line_items
  referencing new table as new_rows
  for each statement execute function public.protect_issued_invoice_lines_insert();
create trigger invoice_line_items_protect_issued_update
  after update on public.invoice_line_items
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.protect_issued_invoice_lines_statement();
create trigger invoice_line_items_protect_issued_delete
  after delete on public.invoice_line_items
  referencing old table as old_rows
  for each statement execute function public.protect_issued_invoice_lines_statement();

-- The invoice number trigger only has work when no number was given (the run reserves a block).
drop trigger customer_invoices_assign_number on public.customer_invoices;
create trigger customer_invoices_assign_number
  before insert on public.customer_invoices
  for each row when (new.invoice_number is null)
  execute function public.assign_invoice_number();

-- A block of gap-free numbers in the caller's transaction: the same counter row as next_number().
create or replace function public.reserve_numbers(p_kind text, p_year int, p_count int) returns int
language sql
security definer
set search_path = public
as $$
  insert into public.number_counters (kind, year, last_value)
  values (p_kind, p_year, p_count)
  on conflict (kind, year) do update set last_value = number_counters.last_value + excluded.last_value
  returning last_value
$$;

revoke execute on function public.reserve_numbers(text, int, int) from public, anon, authenticated;
grant execute on function public.reserve_numbers(text, int, int) to service_role;
revoke execute on function public.protect_issued_invoice_lines_statement() from public, anon, authenticated;
revoke execute on function public.protect_issued_invoice_lines_insert() from public, anon, authenticated;

-- A cycle and its invoice reference each other: the run inserts the cycle already `invoiced` with the id of
-- the invoice it inserts next in the same transaction, so the cycle's reference is checked at commit
-- (one statement fewer per chunk than inserting it open and updating it).
alter table public.billing_cycles
  alter constraint billing_cycles_invoice_id_fkey deferrable initially deferred;
