-- Payment methods (debit-order mandates, card tokens, EFT) and payment transactions.
-- No column can hold a full bank account number or card number: accounts are stored masked,
-- cards as provider tokens with brand, last 4 and expiry.

create table public.customer_payment_methods (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  method_type text not null check (method_type in ('debit_order', 'card', 'eft')),
  display_name text,
  is_primary boolean not null default false,
  is_active boolean not null default true,
  deactivated_at timestamptz,
  -- debit order
  bank_name text,
  branch_code text check (branch_code ~ '^[0-9]{6}$'),
  account_type text check (account_type in ('cheque', 'savings', 'transmission')),
  account_number_masked text check (account_number_masked ~ '^\*{4}[0-9]{4}$'),
  account_holder text,
  mandate_reference text unique,
  mandate_status text check (mandate_status in ('pending', 'accepted', 'declined', 'cancelled', 'expired')),
  mandate_amount numeric(12,2) check (mandate_amount > 0),
  mandate_signed_at timestamptz,
  -- card
  card_brand text,
  card_last4 text check (card_last4 ~ '^[0-9]{4}$'),
  card_expiry_month int check (card_expiry_month between 1 and 12),
  card_expiry_year int check (card_expiry_year between 2000 and 2200),
  provider_token text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint customer_payment_methods_id_customer_key unique (id, customer_id),
  constraint customer_payment_methods_debit_order_fields check (
    method_type <> 'debit_order'
    or (branch_code is not null and account_type is not null
        and account_number_masked is not null and account_holder is not null)
  ),
  constraint customer_payment_methods_mandate_only_debit_order check (
    method_type = 'debit_order'
    or (mandate_reference is null and mandate_status is null and mandate_amount is null
        and mandate_signed_at is null)
  ),
  constraint customer_payment_methods_card_fields check (
    method_type <> 'card' or (provider_token is not null and card_last4 is not null)
  )
);

-- at most one active primary method per customer
create unique index customer_payment_methods_one_primary_key
  on public.customer_payment_methods (customer_id) where is_primary and is_active;
create index customer_payment_methods_customer_id_idx on public.customer_payment_methods (customer_id);

create trigger customer_payment_methods_set_updated_at
  before update on public.customer_payment_methods
  for each row execute function public.set_updated_at();

-- A customer (role authenticated, e.g. straight through PostgREST on Supabase) may add a method and
-- rename, re-prioritise or deactivate it (and record the mandate reference once), but never sets a
-- mandate's outcome or rewrites bank/card data.
create or replace function public.guard_customer_payment_method_write() returns trigger
language plpgsql
as $$
begin
  if current_user not in ('authenticated', 'anon') then
    return new;
  end if;
  if tg_op = 'INSERT' then
    new.mandate_status := case when new.method_type = 'debit_order' then 'pending' end;
    new.mandate_signed_at := null;
    return new;
  end if;
  if (new.customer_id, new.method_type, new.bank_name, new.branch_code, new.account_type,
      new.account_number_masked, new.account_holder,
      case when old.mandate_reference is not null then new.mandate_reference end, new.mandate_status,
      new.mandate_amount, new.mandate_signed_at, new.card_brand, new.card_last4,
      new.card_expiry_month, new.card_expiry_year, new.provider_token)
     is distinct from
     (old.customer_id, old.method_type, old.bank_name, old.branch_code, old.account_type,
      old.account_number_masked, old.account_holder, old.mandate_reference, old.mandate_status,
      old.mandate_amount, old.mandate_signed_at, old.card_brand, old.card_last4,
      old.card_expiry_month, old.card_expiry_year, old.provider_token) then
    raise exception 'only display_name, is_primary, is_active and deactivated_at can be changed'
      using errcode = '42501';
  end if;
  return new;
end
$$;

create trigger customer_payment_methods_guard_customer_write
  before insert or update on public.customer_payment_methods
  for each row execute function public.guard_customer_payment_method_write();

create table public.payment_transactions (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  invoice_id uuid references public.customer_invoices (id) on delete restrict,
  payment_method_id uuid references public.customer_payment_methods (id) on delete restrict,
  original_transaction_id uuid references public.payment_transactions (id) on delete restrict,
  amount numeric(12,2) not null check (amount > 0),
  kind text not null check (kind in ('collection', 'refund', 'reversal')),
  status text not null default 'pending' check (status in
    ('pending', 'submitted', 'successful', 'failed', 'reversed')),
  provider text not null check (provider in ('netcash', 'manual', 'eft')),
  provider_reference text,
  batch_reference text,
  action_date date,
  attempt_number int not null default 1 check (attempt_number >= 1),
  failure_code text,
  failure_reason text,
  provider_response jsonb,
  processed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint payment_transactions_invoice_customer_fkey foreign key (invoice_id, customer_id)
    references public.customer_invoices (id, customer_id) on delete restrict,
  constraint payment_transactions_method_customer_fkey foreign key (payment_method_id, customer_id)
    references public.customer_payment_methods (id, customer_id) on delete restrict
);

create unique index payment_transactions_provider_reference_key
  on public.payment_transactions (provider, provider_reference) where provider_reference is not null;
-- an invoice is never collected twice
create unique index payment_transactions_one_live_collection_key
  on public.payment_transactions (invoice_id)
  where kind = 'collection' and status in ('pending', 'submitted', 'successful');
create index payment_transactions_customer_id_idx on public.payment_transactions (customer_id);
create index payment_transactions_invoice_id_idx on public.payment_transactions (invoice_id);
create index payment_transactions_payment_method_id_idx on public.payment_transactions (payment_method_id);
create index payment_transactions_batch_reference_idx on public.payment_transactions (batch_reference)
  where batch_reference is not null;
create index payment_transactions_status_action_date_idx on public.payment_transactions (status, action_date);

create trigger payment_transactions_set_updated_at
  before update on public.payment_transactions
  for each row execute function public.set_updated_at();
