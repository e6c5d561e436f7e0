-- Orders and services: consumer_orders (legacy website orders), customer_services,
-- service_suspensions and the append-only service_action_log.

-- Imported as they are from the legacy system, hence few NOT NULLs. created_at is the order date.
create table public.consumer_orders (
  id uuid primary key default gen_random_uuid(),
  order_number text unique,
  first_name text,
  last_name text,
  email text,
  phone text,
  installation_address jsonb,
  package_name text,
  service_package_id uuid references public.service_packages (id) on delete restrict,
  package_price numeric(12,2),
  status text,
  activation_date date,
  auth_user_id uuid,
  customer_id uuid references public.customers (id) on delete restrict,
  service_id uuid,  -- foreign key added below, once customer_services exists
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index consumer_orders_email_idx on public.consumer_orders (lower(btrim(email)));
create index consumer_orders_phone_idx on public.consumer_orders (phone);
create index consumer_orders_auth_user_id_idx on public.consumer_orders (auth_user_id);
create index consumer_orders_unlinked_idx on public.consumer_orders (id) where customer_id is null;
create index consumer_orders_customer_id_idx on public.consumer_orders (customer_id);

create trigger consumer_orders_set_updated_at
  before update on public.consumer_orders
  for each row execute function public.set_updated_at();

create table public.customer_services (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  package_id uuid not null references public.service_packages (id) on delete restrict,
  package_name text not null,
  service_type text not null check (service_type in ('fibre', 'lte', 'wireless')),
  status text not null default 'pending' check (status in ('pending', 'active', 'suspended', 'cancelled')),
  monthly_price numeric(12,2) not null check (monthly_price >= 0),
  activation_date date,
  suspension_date date,
  cancellation_date date,
  cancellation_effective_date date,
  cancellation_reason text,
  interstellio_subscriber_id text unique,
  installation_address jsonb,
  consumer_order_id uuid references public.consumer_orders (id) on delete restrict,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- target of composite foreign keys that keep a child row's customer_id equal to its service's
  constraint customer_services_id_customer_key unique (id, customer_id),
  constraint customer_services_activated_when_live
    check (status not in ('active', 'suspended') or activation_date is not null)
);

create index customer_services_customer_id_idx on public.customer_services (customer_id);
create index customer_services_status_idx on public.customer_services (status);
create index customer_services_package_id_idx on public.customer_services (package_id);
-- one service per order: a re-run of the backfill creates no duplicate
create unique index customer_services_consumer_order_key
  on public.customer_services (consumer_order_id) where consumer_order_id is not null;

create trigger customer_services_set_updated_at
  before update on public.customer_services
  for each row execute function public.set_updated_at();

alter table public.consumer_orders
  add constraint consumer_orders_service_id_fkey
  foreign key (service_id) references public.customer_services (id) on delete restrict;

create table public.service_suspensions (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null references public.customer_services (id) on delete restrict,
  customer_id uuid not null references public.customers (id) on delete restrict,
  suspension_type text not null check (suspension_type in
    ('non_payment', 'customer_request', 'fraud', 'technical', 'policy_violation', 'other')),
  pauses_billing boolean not null,
  reason text,
  notes text,
  suspended_at timestamptz not null default now(),
  planned_end date,
  reactivated_at timestamptz,
  suspended_by uuid references public.admin_users (id) on delete restrict,
  reactivated_by uuid references public.admin_users (id) on delete restrict,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint service_suspensions_service_customer_fkey foreign key (service_id, customer_id)
    references public.customer_services (id, customer_id) on delete restrict,
  constraint service_suspensions_reactivated_after_suspended
    check (reactivated_at is null or reactivated_at >= suspended_at)
);

create unique index service_suspensions_one_open_key
  on public.service_suspensions (service_id) where reactivated_at is null;
create index service_suspensions_service_id_idx on public.service_suspensions (service_id);
create index service_suspensions_customer_id_idx on public.service_suspensions (customer_id);

create trigger service_suspensions_set_updated_at
  before update on public.service_suspensions
  for each row execute function public.set_updated_at();

-- The server derives pauses_billing from the type; whatever a caller sends is overwritten.
create or replace function public.derive_suspension_pauses_billing() returns trigger
language plpgsql
as $$
begin
  new.pauses_billing := (new.suspension_type = 'customer_request');
  return new;
end
$$;

create trigger service_suspensions_derive_pauses_billing
  before insert or update on public.service_suspensions
  for each row execute function public.derive_suspension_pauses_billing();

create table public.service_action_log (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null references public.customer_services (id) on delete restrict,
  customer_id uuid not null references public.customers (id) on delete restrict,
  action text not null check (action in
    ('activate', 'suspend', 'reactivate', 'cancel', 'price_change', 'provider_retry')),
  previous_status text check (previous_status in ('pending', 'active', 'suspended', 'cancelled')),
  new_status text check (new_status in ('pending', 'active', 'suspended', 'cancelled')),
  reason text,
  notes text,
  actor_type text not null check (actor_type in ('admin', 'system')),
  actor_admin_id uuid references public.admin_users (id) on delete restrict,
  request_id text,
  previous_data jsonb,
  new_data jsonb,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint service_action_log_service_customer_fkey foreign key (service_id, customer_id)
    references public.customer_services (id, customer_id) on delete restrict,
  constraint service_action_log_admin_reason
    check (actor_type <> 'admin' or (reason is not null and btrim(reason) <> '')),
  constraint service_action_log_admin_actor
    check (actor_type <> 'admin' or actor_admin_id is not null)
);

create index service_action_log_service_idx
  on public.service_action_log (service_id, created_at desc, id desc);
create index service_action_log_customer_id_idx on public.service_action_log (customer_id);
create index service_action_log_actor_admin_id_idx on public.service_action_log (actor_admin_id);

-- Append-only for everyone, superusers and service_role included.
create or replace function public.refuse_append_only_change() returns trigger
language plpgsql
as $$
begin
  raise exception '% is append-only: % refused', tg_table_name, tg_op
    using errcode = '55000', hint = 'Write a new row instead.';
end
$$;

create trigger service_action_log_append_only
  before update or delete on public.service_action_log
  for each row execute function public.refuse_append_only_change();

create trigger service_action_log_no_truncate
  before truncate on public.service_action_log
  for each statement execute function public.refuse_append_only_change();
