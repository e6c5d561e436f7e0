-- Customers and their billing settings. A customer gets its account number (CUS-YYYY-NNNNN, YYYY =
-- SAST year of now()) and its customer_billing row in the same transaction as its insert.

create table public.customers (
  id uuid primary key default gen_random_uuid(),
  auth_user_id uuid unique,
  account_number text not null unique check (char_length(account_number) <= 22),
  first_name text not null check (btrim(first_name) <> ''),
  last_name text not null check (btrim(last_name) <> ''),
  email text not null check (btrim(email) <> '' and email = btrim(email)),
  phone text check (phone ~ '^\+[1-9][0-9]{7,14}$'),
  customer_type text not null default 'consumer' check (customer_type in ('consumer', 'business')),
  company_name text,
  vat_number text,
  physical_address jsonb,
  postal_address jsonb,
  is_test boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create unique index customers_email_lower_key on public.customers (lower(email));
create index customers_phone_idx on public.customers (phone);

create trigger customers_set_updated_at
  before update on public.customers
  for each row execute function public.set_updated_at();

create or replace function public.assign_customer_account_number() returns trigger
language plpgsql
security definer
set search_path = public
as $$
declare
  v_year int;
begin
  if new.account_number is null then
    v_year := extract(year from (now() at time zone 'Africa/Johannesburg'))::int;
    new.account_number := public.format_document_number('CUS', v_year, public.next_number('customer', v_year));
  end if;
  return new;
end
$$;

create trigger customers_assign_account_number
  before insert on public.customers
  for each row execute function public.assign_customer_account_number();

-- auth.users exists on Supabase only: link to it there.
do $do$
begin
  if to_regclass('auth.users') is not null then
    if not exists (select 1 from pg_constraint where conname = 'customers_auth_user_id_fkey'
                   and conrelid = 'public.customers'::regclass) then
      alter table public.customers
        add constraint customers_auth_user_id_fkey
        foreign key (auth_user_id) references auth.users (id) on delete set null;
    end if;
    if not exists (select 1 from pg_constraint where conname = 'admin_users_auth_user_id_fkey'
                   and conrelid = 'public.admin_users'::regclass) then
      alter table public.admin_users
        add constraint admin_users_auth_user_id_fkey
        foreign key (auth_user_id) references auth.users (id) on delete set null;
    end if;
  end if;
end
$do$;

create table public.customer_billing (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null unique references public.customers (id) on delete restrict,
  billing_day int not null default 1 check (billing_day between 1 and 31),
  payment_terms_days int not null default 7 check (payment_terms_days between 0 and 365),
  invoice_email text not null check (btrim(invoice_email) <> ''),
  auto_pay boolean not null default false,
  debit_day int check (debit_day between 1 and 31),
  credit_balance numeric(12,2) not null default 0 check (credit_balance >= 0),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger customer_billing_set_updated_at
  before update on public.customer_billing
  for each row execute function public.set_updated_at();

create or replace function public.create_customer_billing() returns trigger
language plpgsql
security definer
set search_path = public
as $$
begin
  insert into public.customer_billing (customer_id, invoice_email)
  values (new.id, new.email)
  on conflict (customer_id) do nothing;
  return null;
end
$$;

create trigger customers_create_billing
  after insert on public.customers
  for each row execute function public.create_customer_billing();
