-- Customers by API: the customer audit log, the customer's own profile writes, and the search indexes.
--
-- 1. customer_audit_log: every change to a customer's contact, business details or billing settings, with
--    the row's changed fields before and after and who made it (an admin, the customer, or the system);
--    append-only for everyone (as service_action_log and invoice_action_log).
-- 2. The customer's own profile (phone, addresses, invoice e-mail) is written by the API's customer role
--    (api_customer) through column-level UPDATE grants and row policies on their own row only, and its audit
--    row is inserted by the same role, as the customer, for their own account only. The Data API's
--    `authenticated` gets nothing new.
-- 3. Search: prefix (text_pattern_ops) indexes on the lower-cased names, company name, e-mail, phone and
--    account number, and the newest-first list order. pg_trgm is not used: the embedded PostgreSQL the
--    project runs by default does not ship it (docs/adr/0131).

-- 1. customer_audit_log -------------------------------------------------------------------------------------

create table public.customer_audit_log (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  action text not null check (action in ('create', 'contact_change', 'billing_change', 'profile_change')),
  actor_type text not null check (actor_type in ('admin', 'customer', 'system')),
  actor_admin_id uuid references public.admin_users (id) on delete restrict,
  request_id text check (char_length(request_id) <= 200),
  changed_fields text[] not null default '{}',
  previous_data jsonb not null default '{}'::jsonb,
  new_data jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint customer_audit_log_admin_actor check ((actor_type = 'admin') = (actor_admin_id is not null))
);

create index customer_audit_log_customer_idx on public.customer_audit_log (customer_id, created_at desc, id desc);
create index customer_audit_log_actor_admin_id_idx on public.customer_audit_log (actor_admin_id);

create trigger customer_audit_log_append_only
  before update or delete on public.customer_audit_log
  for each row execute function public.refuse_append_only_change();
create trigger customer_audit_log_no_truncate
  before truncate on public.customer_audit_log
  for each statement execute function public.refuse_append_only_change();

alter table public.customer_audit_log enable row level security;
revoke all on public.customer_audit_log from public, anon, authenticated, api_customer, service_role;
grant select, insert on public.customer_audit_log to service_role;
grant insert on public.customer_audit_log to api_customer;

create policy customer_audit_log_no_update on public.customer_audit_log
  as restrictive for update
  using (false);
create policy customer_audit_log_no_delete on public.customer_audit_log
  as restrictive for delete
  using (false);
-- The customer's own profile change, recorded as the customer, on their own account only.
create policy customer_audit_log_insert_own_profile on public.customer_audit_log
  for insert to api_customer
  with check (
    customer_id = (select id from public.customers where auth_user_id = (select auth.uid()))
    and action = 'profile_change' and actor_type = 'customer' and actor_admin_id is null
  );

-- 2. The customer's own profile -----------------------------------------------------------------------------

grant update (phone, physical_address, postal_address) on public.customers to api_customer;
-- The backfill's index on the normalised phone evaluates this function on every phone write, as the writer.
grant execute on function public.normalize_za_phone(text) to api_customer;
grant update (invoice_email) on public.customer_billing to api_customer;

create policy customers_update_own on public.customers
  for update to api_customer
  using (auth_user_id = (select auth.uid()))
  with check (auth_user_id = (select auth.uid()));
create policy customer_billing_update_own on public.customer_billing
  for update to api_customer
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())))
  with check (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

-- 3. Search indexes -----------------------------------------------------------------------------------------

create index customers_last_name_prefix_idx on public.customers (lower(last_name) text_pattern_ops);
create index customers_first_name_prefix_idx on public.customers (lower(first_name) text_pattern_ops);
create index customers_company_name_prefix_idx on public.customers (lower(company_name) text_pattern_ops)
  where company_name is not null;
create index customers_email_prefix_idx on public.customers (lower(email) text_pattern_ops);
create index customers_phone_prefix_idx on public.customers (phone text_pattern_ops) where phone is not null;
create index customers_account_number_prefix_idx on public.customers (account_number text_pattern_ops);
create index customers_created_idx on public.customers (created_at desc, id desc);

-- The status filters: a service in a status is found through customer_services_customer_id_idx; an unpaid
-- invoice through this partial index (the search's conditions repeat its predicate).
create index customer_invoices_customer_unpaid_idx on public.customer_invoices (customer_id, due_date)
  where status in ('issued', 'partially_paid', 'overdue') and amount_due > 0;
