-- Collections (issue 14): NetCash debit-order batches, mandates that may no longer be debited, and the
-- statement days reconciliation has settled. All three are job state: service_role only, RLS on, no
-- customer grant (a customer sees their collections as payment_transactions rows).

-- One NetCash batch per run. The row and its payment_transactions rows (status `submitted`) are committed
-- in ONE transaction before the upload (the intent), with status `uploading`. Every later step moves the
-- status forward: `uploaded` (file token known) -> `loaded` (load report read; rejected lines failed) ->
-- `authorised`. `unknown`: the upload's answer was lost or unreadable; the next run asks NetCash for the
-- batch by its name and never uploads it again. `rejected`: NetCash refused the whole file;
-- `not_submitted`: NetCash has no batch of that name (the upload never reached it); `needs_review`: NetCash
-- holds the batch but its count differs from ours and there is no token to read its report.
create table public.debit_order_batches (
  id uuid primary key default gen_random_uuid(),
  batch_name text not null unique check (batch_name ~ '^[A-Za-z0-9 _-]{1,50}$'),
  instruction text not null,
  action_date date not null,
  run_id uuid references public.cron_execution_log (id) on delete restrict,
  status text not null default 'uploading' check (status in
    ('uploading', 'unknown', 'uploaded', 'loaded', 'authorised', 'rejected', 'not_submitted', 'needs_review')),
  item_count int not null check (item_count > 0),
  total_amount numeric(14,2) not null check (total_amount > 0),
  file_token text,
  netcash_batch_id text,
  load_result text,
  error_message text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index debit_order_batches_open_idx on public.debit_order_batches (created_at)
  where status in ('uploading', 'unknown', 'uploaded', 'loaded');

create trigger debit_order_batches_set_updated_at
  before update on public.debit_order_batches
  for each row execute function public.set_updated_at();

-- A mandate that returned a permanent unpaid code (or two consecutive code 02s) is not debited again: the
-- customer needs a new mandate. Kept apart from customer_payment_methods, whose columns the customer's own
-- API may write under a guard trigger.
create table public.mandate_collection_blocks (
  id uuid primary key default gen_random_uuid(),
  payment_method_id uuid not null unique references public.customer_payment_methods (id) on delete restrict,
  customer_id uuid not null references public.customers (id) on delete restrict,
  unpaid_code text not null,
  reason text not null,
  transaction_id uuid references public.payment_transactions (id) on delete restrict,
  created_at timestamptz not null default now()
);

-- A NetCash statement day reconciliation has read (NO CHANGE included); re-running a day changes nothing.
create table public.netcash_statement_days (
  id uuid primary key default gen_random_uuid(),
  statement_date date not null unique,
  lines_read int not null default 0,
  reconciled_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);

-- Statement lines already applied (type + NetCash transaction id), so a re-read line has no second effect.
create table public.netcash_statement_lines (
  id uuid primary key default gen_random_uuid(),
  statement_date date not null,
  transaction_type text not null,
  netcash_transaction_id text not null,
  extra1 text,
  outcome text not null,
  created_at timestamptz not null default now(),
  unique (transaction_type, netcash_transaction_id)
);

alter table public.debit_order_batches enable row level security;
alter table public.mandate_collection_blocks enable row level security;
alter table public.netcash_statement_days enable row level security;
alter table public.netcash_statement_lines enable row level security;
revoke all on public.debit_order_batches, public.mandate_collection_blocks, public.netcash_statement_days,
  public.netcash_statement_lines from anon, authenticated;
grant select, insert, update on public.debit_order_batches to service_role;
grant select, insert on public.mandate_collection_blocks, public.netcash_statement_days,
  public.netcash_statement_lines to service_role;

-- The first debit-day date on or after `day` (a month without that day: its last day).
create or replace function public.debit_date_on_or_after(day date, debit_day int) returns date
language sql immutable  -- not STRICT: a strict call with a NULL constant is folded before the EXECUTE check, so PostgREST would answer it for anon
set search_path = pg_catalog
as $$
  select case when this_month >= day then this_month else next_month end
    from (select make_date(extract(year from day)::int, extract(month from day)::int,
                           least(debit_day, extract(day from (date_trunc('month', day) + interval '1 month'
                                                             - interval '1 day'))::int)) as this_month,
                 make_date(extract(year from next_start)::int, extract(month from next_start)::int,
                           least(debit_day, extract(day from (next_start + interval '1 month'
                                                             - interval '1 day'))::int)) as next_month
            from (select (date_trunc('month', day) + interval '1 month')::date as next_start) n) d
$$;

revoke execute on function public.debit_date_on_or_after(date, int) from public, anon, authenticated;
grant execute on function public.debit_date_on_or_after(date, int) to service_role;
