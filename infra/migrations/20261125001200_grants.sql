-- Privileges, Supabase style: anon gets nothing, authenticated gets what its policies allow,
-- service_role gets everything (it bypasses RLS). Supabase grants broadly by default, so start clean.

revoke all on all tables in schema public from anon;
revoke all on all tables in schema public from authenticated;

grant select on
  public.customers,
  public.customer_services,
  public.customer_billing,
  public.customer_invoices,
  public.invoice_line_items,
  public.customer_payment_methods,
  public.payment_transactions,
  public.usage_history,
  public.billing_cycles,
  public.service_suspensions,
  public.service_packages,
  public.vat_rates,
  public.declared_public_holidays
to authenticated;

grant insert, update on public.customer_payment_methods to authenticated;

grant all on all tables in schema public to service_role;
grant usage, select on all sequences in schema public to service_role;
grant execute on all functions in schema public to service_role;

-- Security-definer helpers are not for customers (Supabase would expose them as RPCs).
revoke execute on function public.next_number(text, int) from public, anon, authenticated;

-- Tables created later by this user: nothing for anon, everything for service_role.
alter default privileges in schema public revoke all on tables from anon;
alter default privileges in schema public revoke execute on functions from anon;
alter default privileges in schema public grant all on tables to service_role;
alter default privileges in schema public grant usage, select on sequences to service_role;
alter default privileges in schema public grant execute on functions to service_role;
