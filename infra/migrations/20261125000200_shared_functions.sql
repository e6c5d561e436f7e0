-- Shared building blocks: the updated_at trigger function and the gap-free per-year number counters
-- used by customer account numbers (CUS-YYYY-NNNNN) and invoice numbers (INV-YYYY-NNNNN).

create or replace function public.set_updated_at() returns trigger
language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- One row per (kind, year). Incremented with insert-or-update-returning inside the caller's own
-- transaction: the row lock serialises concurrent writers and a rollback returns the number,
-- so numbers are gap-free per year (never a sequence, never max+1).
create table public.number_counters (
  id uuid not null unique default gen_random_uuid(),
  kind text not null check (kind in ('customer', 'invoice')),
  year int not null check (year between 2000 and 9999),
  last_value int not null default 0 check (last_value >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (kind, year)
);

create trigger number_counters_set_updated_at
  before update on public.number_counters
  for each row execute function public.set_updated_at();

create or replace function public.next_number(p_kind text, p_year int) returns int
language sql
security definer
set search_path = public
as $$
  insert into public.number_counters (kind, year, last_value)
  values (p_kind, p_year, 1)
  on conflict (kind, year) do update set last_value = number_counters.last_value + 1
  returning last_value
$$;

-- PREFIX-YYYY-NNNNN: at least 5 digits, growing past 5 naturally (lpad alone would truncate).
create or replace function public.format_document_number(p_prefix text, p_year int, p_value int)
returns text
language sql
immutable
as $$
  select p_prefix || '-' || p_year::text || '-'
         || case when length(p_value::text) >= 5 then p_value::text else lpad(p_value::text, 5, '0') end
$$;

revoke execute on function public.next_number(text, int) from public;
