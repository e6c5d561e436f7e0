-- The package catalogue, orders and provisioning, package changes and fixed-term contracts.
--
-- 1. service_packages gains what selling and provisioning need: the Interstellio service and profile a
--    package provisions, its minimum term in months (0 = month to month), is_sellable (a package with
--    subscribers is retired, never deleted), the default once-off installation and equipment fees.
-- 2. package_prices: the package's terms (VAT-inclusive monthly price, data cap, out-of-bundle price per GB)
--    as effective-dated history, append-only. public.package_terms_on(package, day) answers the terms in
--    force on a day; service_packages' own price, cap and out-of-bundle columns are the terms in force today
--    (public.apply_package_terms(day) copies them, called when a row takes effect).
-- 3. customer_services gains the order's facts (requested date, a negotiated price and its reason), the fixed
--    term (term_months from the package when sold; term_start and term_end from activation) and
--    provisioning_status: `requested` while Interstellio's
--    answer to creating the subscriber is unknown (retry-provider-sync finishes it), `provisioned` after.
-- 4. service_provider_work: each Interstellio change of the catalogue side (create the subscriber, switch
--    its profile), committed before the call (the intent) and settled after; a profile switch waits for its
--    effective date. Internal.
-- 5. service_change_requests: a customer asks for another sellable package; an admin approves or declines.
--    Customers read and create their own through the API's customer role; the Data API shows them nothing.
-- 6. service_action_log.action gains `order` (a service sold) and `package_change` (the profile side of a
--    package change applied at Interstellio); the existing values are kept, whatever they are.

-- 1. The catalogue ---------------------------------------------------------------------------------------

alter table public.service_packages
  add column interstellio_service_id text check (btrim(interstellio_service_id) <> ''),
  add column interstellio_profile_id text check (btrim(interstellio_profile_id) <> ''),
  add column minimum_term_months int not null default 0 check (minimum_term_months between 0 and 60),
  add column is_sellable boolean not null default true,
  add column installation_fee numeric(12,2) check (installation_fee >= 0),
  add column equipment_fee numeric(12,2) check (equipment_fee >= 0),
  add column retired_at timestamptz;

-- Sellable names are kept distinct by the API (409), not by an index: existing catalogues may hold
-- duplicates, and this migration must apply to them.

-- 2. Price history ---------------------------------------------------------------------------------------

create table public.package_prices (
  id uuid primary key default gen_random_uuid(),
  package_id uuid not null references public.service_packages (id) on delete restrict,
  effective_from date not null,
  monthly_price numeric(12,2) not null check (monthly_price >= 0),
  data_cap_gb int check (data_cap_gb > 0),
  out_of_bundle_price_per_gb numeric(12,2) check (out_of_bundle_price_per_gb >= 0),
  reason text check (reason is null or (btrim(reason) <> '' and length(reason) <= 500)),
  created_by uuid references public.admin_users (id) on delete restrict,
  created_at timestamptz not null default now(),
  constraint package_prices_package_day_key unique (package_id, effective_from)
);

create index package_prices_created_by_idx on public.package_prices (created_by);

create trigger package_prices_append_only
  before update or delete on public.package_prices
  for each row execute function public.refuse_append_only_change();

create trigger package_prices_no_truncate
  before truncate on public.package_prices
  for each statement execute function public.refuse_append_only_change();

alter table public.package_prices enable row level security;
revoke all on public.package_prices from public, anon, authenticated;
grant select, insert on public.package_prices to service_role;

-- Every package has its terms from the day it was created; a package inserted by any path gets its first row.
create or replace function public.create_first_package_price() returns trigger
language plpgsql
set search_path = pg_catalog, public
as $$
begin
  insert into public.package_prices (package_id, effective_from, monthly_price, data_cap_gb,
                                     out_of_bundle_price_per_gb, reason)
  values (new.id, (new.created_at at time zone 'Africa/Johannesburg')::date, new.monthly_price,
          new.data_cap_gb, new.out_of_bundle_price_per_gb, 'Terms at creation')
  on conflict on constraint package_prices_package_day_key do nothing;
  return new;
end
$$;

revoke execute on function public.create_first_package_price() from public, anon, authenticated;

create trigger service_packages_first_price
  after insert on public.service_packages
  for each row execute function public.create_first_package_price();

insert into public.package_prices (package_id, effective_from, monthly_price, data_cap_gb,
                                   out_of_bundle_price_per_gb, reason)
select p.id, (p.created_at at time zone 'Africa/Johannesburg')::date, p.monthly_price, p.data_cap_gb,
       p.out_of_bundle_price_per_gb, 'Terms at creation'
  from public.service_packages p
on conflict on constraint package_prices_package_day_key do nothing;

-- The terms in force on a day: the latest row on or before it; before the first row, the first row (a
-- package's first terms also cover days before it was entered, as for a service backfilled from old orders).
create or replace function public.package_terms_on(p_package_id uuid, p_day date)
returns table (package_id uuid, effective_from date, monthly_price numeric(12,2), data_cap_gb int,
               out_of_bundle_price_per_gb numeric(12,2))
language sql
stable
set search_path = pg_catalog, public
as $$
  select pp.package_id, pp.effective_from, pp.monthly_price, pp.data_cap_gb, pp.out_of_bundle_price_per_gb
    from public.package_prices pp
   where pp.package_id = p_package_id
   order by (pp.effective_from <= p_day) desc,
            case when pp.effective_from <= p_day then pp.effective_from end desc,
            pp.effective_from asc
   limit 1
$$;

-- service_packages' price, cap and out-of-bundle columns become the terms in force on p_day, for every
-- package whose terms differ; returns how many changed.
create or replace function public.apply_package_terms(p_day date) returns int
language sql
set search_path = pg_catalog, public
as $$
  with changed as (
    update public.service_packages p
       set monthly_price = t.monthly_price,
           data_cap_gb = t.data_cap_gb,
           out_of_bundle_price_per_gb = t.out_of_bundle_price_per_gb
      from public.service_packages q
      cross join lateral public.package_terms_on(q.id, p_day) t
     where p.id = q.id
       and (p.monthly_price, p.data_cap_gb, p.out_of_bundle_price_per_gb)
           is distinct from (t.monthly_price, t.data_cap_gb, t.out_of_bundle_price_per_gb)
    returning p.id
  )
  select count(*)::int from changed
$$;

revoke execute on function public.package_terms_on(uuid, date) from public, anon, authenticated;
revoke execute on function public.apply_package_terms(date) from public, anon, authenticated;
grant execute on function public.package_terms_on(uuid, date) to service_role;
grant execute on function public.apply_package_terms(date) to service_role;

-- 3. Orders and fixed terms on the service -----------------------------------------------------------------

alter table public.customer_services
  add column requested_date date,
  add column price_override_reason text
    check (price_override_reason is null or (btrim(price_override_reason) <> ''
                                             and length(price_override_reason) <= 500)),
  add column term_months int not null default 0 check (term_months between 0 and 60),
  add column term_start date,
  add column term_end date,
  add column provisioning_status text check (provisioning_status in ('requested', 'provisioned')),
  add constraint customer_services_term_dates
    check ((term_start is null) = (term_end is null) and (term_start is null or term_months > 0)
           and (term_end is null or term_end > term_start));

-- The daily fixed-term notice job's work list.
create index customer_services_term_end_idx on public.customer_services (term_end)
  where term_end is not null and status in ('active', 'suspended');

-- 4. Interstellio work of the catalogue side ------------------------------------------------------------

create table public.service_provider_work (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null,
  customer_id uuid not null,
  kind text not null check (kind in ('create_subscriber', 'change_profile')),
  username text check (btrim(username) <> ''),
  subscriber_id text check (btrim(subscriber_id) <> ''),
  provider_service_id text,
  profile_id text not null check (btrim(profile_id) <> ''),
  package_id uuid references public.service_packages (id) on delete restrict,
  due_date date not null,
  activation_date date,
  status text not null default 'requested' check (status in ('requested', 'applied', 'refused', 'superseded')),
  attempts int not null default 0 check (attempts >= 0),
  last_error text,
  request_id text,
  actor_admin_id uuid references public.admin_users (id) on delete restrict,
  created_at timestamptz not null default now(),
  settled_at timestamptz,
  constraint service_provider_work_service_customer_fkey foreign key (service_id, customer_id)
    references public.customer_services (id, customer_id) on delete restrict,
  constraint service_provider_work_settled_when check ((status = 'requested') = (settled_at is null)),
  constraint service_provider_work_create_has_username
    check (kind <> 'create_subscriber' or (username is not null and provider_service_id is not null)),
  constraint service_provider_work_change_has_subscriber
    check (kind <> 'change_profile' or subscriber_id is not null)
);

-- One subscriber per service: never two open creations.
create unique index service_provider_work_one_open_create_key
  on public.service_provider_work (service_id) where kind = 'create_subscriber' and status = 'requested';
create index service_provider_work_due_idx
  on public.service_provider_work (due_date, created_at) where status = 'requested';
create index service_provider_work_service_idx on public.service_provider_work (service_id);
create index service_provider_work_package_id_idx on public.service_provider_work (package_id);
create index service_provider_work_actor_admin_id_idx on public.service_provider_work (actor_admin_id);

alter table public.service_provider_work enable row level security;
revoke all on public.service_provider_work from public, anon, authenticated;
grant select, insert, update on public.service_provider_work to service_role;

-- 5. Customers' package change requests ----------------------------------------------------------------

create table public.service_change_requests (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null,
  customer_id uuid not null,
  package_id uuid not null references public.service_packages (id) on delete restrict,
  note text check (note is null or length(note) <= 1000),
  status text not null default 'pending' check (status in ('pending', 'approved', 'declined')),
  effective_date date,
  decision_reason text check (decision_reason is null or (btrim(decision_reason) <> ''
                                                          and length(decision_reason) <= 500)),
  decided_by uuid references public.admin_users (id) on delete restrict,
  decided_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint service_change_requests_service_customer_fkey foreign key (service_id, customer_id)
    references public.customer_services (id, customer_id) on delete restrict,
  constraint service_change_requests_decided_when
    check ((status = 'pending') = (decided_at is null)
           and (status <> 'declined' or decision_reason is not null)
           and (status <> 'approved' or effective_date is not null))
);

-- One open request per service.
create unique index service_change_requests_one_pending_key
  on public.service_change_requests (service_id) where status = 'pending';
create index service_change_requests_customer_idx
  on public.service_change_requests (customer_id, created_at desc, id desc);
create index service_change_requests_status_idx
  on public.service_change_requests (created_at, id) where status = 'pending';
create index service_change_requests_package_id_idx on public.service_change_requests (package_id);
create index service_change_requests_decided_by_idx on public.service_change_requests (decided_by);

create trigger service_change_requests_set_updated_at
  before update on public.service_change_requests
  for each row execute function public.set_updated_at();

alter table public.service_change_requests enable row level security;
revoke all on public.service_change_requests from public, anon, authenticated, api_customer;
grant select, insert, update on public.service_change_requests to service_role;
-- The API's customer sessions: their own requests, created pending and undecided.
grant select, insert on public.service_change_requests to api_customer;

create policy service_change_requests_select_own on public.service_change_requests
  for select to api_customer
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy service_change_requests_insert_own on public.service_change_requests
  for insert to api_customer
  with check (customer_id = (select id from public.customers where auth_user_id = (select auth.uid()))
              and status = 'pending' and decided_by is null and decided_at is null
              and effective_date is null and decision_reason is null);

-- 6. Audit actions (kept composable: whatever values the constraint has are kept) -------------------------

do $do$
declare
  v_values text[];
begin
  select array_agg(distinct m[1]) into v_values
    from pg_constraint c,
         regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') as m
   where c.conrelid = 'public.service_action_log'::regclass
     and c.conname = 'service_action_log_action_check';
  v_values := array(select distinct unnest(coalesce(v_values, '{}') || array['order', 'package_change'])
                    order by 1);
  alter table public.service_action_log drop constraint if exists service_action_log_action_check;
  execute format('alter table public.service_action_log add constraint service_action_log_action_check'
                 ' check (action = any (%L::text[]))', v_values);
end
$do$;
