-- Reference data and staff: admin_users, service_packages, vat_rates, declared_public_holidays,
-- unpaid_reason_codes.

create table public.admin_users (
  id uuid primary key default gen_random_uuid(),
  auth_user_id uuid unique,
  email text not null check (btrim(email) <> ''),
  full_name text not null check (btrim(full_name) <> ''),
  role text not null check (role in ('super_admin', 'billing_admin', 'support')),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create unique index admin_users_email_lower_key on public.admin_users (lower(email));

create trigger admin_users_set_updated_at
  before update on public.admin_users
  for each row execute function public.set_updated_at();

create table public.service_packages (
  id uuid primary key default gen_random_uuid(),
  name text not null check (btrim(name) <> ''),
  service_type text not null check (service_type in ('fibre', 'lte', 'wireless')),
  speed_down_mbps int check (speed_down_mbps > 0),
  speed_up_mbps int check (speed_up_mbps > 0),
  monthly_price numeric(12,2) not null check (monthly_price >= 0),
  data_cap_gb int check (data_cap_gb > 0),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index service_packages_active_idx on public.service_packages (is_active, service_type);

create trigger service_packages_set_updated_at
  before update on public.service_packages
  for each row execute function public.set_updated_at();

-- VAT is data with an effective date; each invoice stores the rate it used.
create table public.vat_rates (
  id uuid primary key default gen_random_uuid(),
  rate numeric(5,2) not null check (rate >= 0 and rate < 100),
  effective_from date not null unique,
  created_at timestamptz not null default now()
);

insert into public.vat_rates (rate, effective_from) values (15.00, date '2018-04-01')
on conflict (effective_from) do nothing;

-- Extra declared public holidays (beyond holidays.ZA) an admin can add; no debit-order action date on them.
create table public.declared_public_holidays (
  id uuid primary key default gen_random_uuid(),
  holiday_date date not null unique,
  name text not null check (btrim(name) <> ''),
  created_by uuid references public.admin_users (id) on delete restrict,
  created_at timestamptz not null default now()
);

-- NetCash / PASA unpaid (return) reason codes and what collection does next (providers-netcash.md §4.4).
-- permanent = stop collection and mark the mandate unusable (domain.md's list).
create table public.unpaid_reason_codes (
  id uuid not null unique default gen_random_uuid(),
  code text primary key check (code ~ '^[0-9]{2,3}$'),
  description text not null,
  action text not null check (action in ('retry_next_date', 'stop_new_mandate', 'stop_permanent')),
  permanent boolean not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint unpaid_reason_codes_permanent_action check (permanent = (action = 'stop_permanent'))
);

create trigger unpaid_reason_codes_set_updated_at
  before update on public.unpaid_reason_codes
  for each row execute function public.set_updated_at();

insert into public.unpaid_reason_codes (code, description, action, permanent) values
  ('02', 'Not provided for (insufficient funds)', 'retry_next_date', false),
  ('03', 'Debits not allowed to this account', 'stop_permanent', true),
  ('04', 'Payment stopped by account holder', 'stop_permanent', true),
  ('06', 'Account frozen', 'stop_permanent', true),
  ('08', 'Account in sequestration', 'stop_permanent', true),
  ('10', 'Account in liquidation', 'stop_permanent', true),
  ('12', 'Account closed', 'stop_permanent', true),
  ('14', 'Account transferred within banking group', 'stop_permanent', true),
  ('16', 'Account transferred to another banking group', 'stop_permanent', true),
  ('18', 'Account holder deceased', 'stop_permanent', true),
  ('22', 'Account effects not cleared', 'retry_next_date', false),
  ('26', 'No such account', 'stop_permanent', true),
  ('28', 'Recall or withdrawal by customer', 'stop_permanent', true),
  ('30', 'No authority to debit (dispute)', 'stop_permanent', true),
  ('32', 'Debit in contravention of payer''s authority', 'stop_permanent', true),
  ('34', 'Authorisation cancelled', 'stop_permanent', true),
  ('36', 'Previously stopped via stop payment advice', 'stop_permanent', true),
  ('50', 'Account number invalid', 'stop_permanent', true),
  ('51', 'Bank recall', 'stop_new_mandate', false),
  ('56', 'Not FICA compliant', 'stop_permanent', true),
  ('60', 'Consecutive unpaid rejection', 'stop_permanent', true),
  ('81', 'Card: token error', 'stop_new_mandate', false),
  ('82', 'Card: declined, call issuer', 'stop_new_mandate', false),
  ('83', 'Card: timeout', 'retry_next_date', false),
  ('84', 'Card: reported stolen', 'stop_new_mandate', false),
  ('85', 'Card: account closed', 'stop_new_mandate', false),
  ('86', 'Card: disputed', 'stop_new_mandate', false),
  ('87', 'Card: invalid number', 'stop_new_mandate', false),
  ('88', 'Card: expired', 'stop_new_mandate', false),
  ('89', 'Card: declined', 'stop_new_mandate', false),
  ('90', 'Card: non-possession of card', 'stop_new_mandate', false),
  ('145', 'Account failed final validation (credit payments)', 'stop_new_mandate', false)
on conflict (code) do nothing;
