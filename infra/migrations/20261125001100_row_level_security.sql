-- Row Level Security on every table in public. Customers (role authenticated) read only their own
-- rows and write only their payment methods; anon sees nothing; service_role bypasses RLS.
-- Tables with no policy below are closed to customers: service_action_log, cron_execution_log,
-- admin_users, consumer_orders, validation_errors, migration_review_queue, idempotency_keys,
-- webhook_deliveries, number_counters, unpaid_reason_codes.

alter table public.number_counters enable row level security;
alter table public.admin_users enable row level security;
alter table public.service_packages enable row level security;
alter table public.vat_rates enable row level security;
alter table public.declared_public_holidays enable row level security;
alter table public.unpaid_reason_codes enable row level security;
alter table public.customers enable row level security;
alter table public.customer_billing enable row level security;
alter table public.consumer_orders enable row level security;
alter table public.customer_services enable row level security;
alter table public.service_suspensions enable row level security;
alter table public.service_action_log enable row level security;
alter table public.billing_cycles enable row level security;
alter table public.customer_invoices enable row level security;
alter table public.invoice_line_items enable row level security;
alter table public.customer_payment_methods enable row level security;
alter table public.payment_transactions enable row level security;
alter table public.usage_history enable row level security;
alter table public.cron_execution_log enable row level security;
alter table public.validation_errors enable row level security;
alter table public.migration_review_queue enable row level security;
alter table public.idempotency_keys enable row level security;
alter table public.webhook_deliveries enable row level security;

create policy customers_select_own on public.customers
  for select to authenticated
  using (auth_user_id = (select auth.uid()));

create policy customer_services_select_own on public.customer_services
  for select to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy customer_billing_select_own on public.customer_billing
  for select to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy customer_invoices_select_own on public.customer_invoices
  for select to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy invoice_line_items_select_own on public.invoice_line_items
  for select to authenticated
  using (invoice_id in (
    select i.id from public.customer_invoices i
    where i.customer_id = (select id from public.customers where auth_user_id = (select auth.uid()))
  ));

create policy customer_payment_methods_select_own on public.customer_payment_methods
  for select to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy customer_payment_methods_insert_own on public.customer_payment_methods
  for insert to authenticated
  with check (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy customer_payment_methods_update_own on public.customer_payment_methods
  for update to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())))
  with check (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy payment_transactions_select_own on public.payment_transactions
  for select to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy usage_history_select_own on public.usage_history
  for select to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy billing_cycles_select_own on public.billing_cycles
  for select to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy service_suspensions_select_own on public.service_suspensions
  for select to authenticated
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid())));

create policy service_packages_select_active on public.service_packages
  for select to authenticated
  using (is_active);

create policy vat_rates_select_all on public.vat_rates
  for select to authenticated
  using (true);

create policy declared_public_holidays_select_all on public.declared_public_holidays
  for select to authenticated
  using (true);
