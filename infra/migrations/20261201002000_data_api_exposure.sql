-- Tables exposed through Supabase's Data API (PostgREST) are as safe as our API (issue 9).
--
-- On Supabase every grant to `authenticated` is an HTTP endpoint for every signed-in customer, and every
-- function in `public` with EXECUTE for a role is an RPC for it. So:
-- 1. The API's own customer sessions run as `api_customer`, a NOLOGIN role of ours that PostgREST never
--    switches to (not granted to authenticator, anon, authenticated or service_role). It holds the customer
--    write grants and policies; the API's rules (409s) stay in the API, and the guard trigger stays behind it.
-- 2. `authenticated` (a customer's JWT) is reduced to column-level SELECT of the customer-facing columns, so a
--    column added later is hidden until someone grants it; rows are limited to the customer's own
--    customer-facing rows (no draft or void invoice, no fraud suspension, no billing cycle).
-- 3. `anon` and PUBLIC reach nothing in public: no table, no sequence, no function (trigger functions and
--    security-definer helpers included). Only service_role and api_customer execute what they need.
-- 4. The idempotency functions check the caller's role, not only auth.uid().
-- 5. Default privileges: what the migrating user creates later is reachable by no API role (Supabase's
--    defaults grant everything in public to anon and authenticated).
-- docs/decisions.md "2026-12-01 Data API exposure" has the per-column table and the reasons.

-- 1. The API's customer role ------------------------------------------------------------------------------

do $do$
declare
  v_role pg_roles%rowtype;
begin
  begin
    create role api_customer nologin;
  exception when duplicate_object or unique_violation then
    null;  -- created already, by an earlier or a concurrent run (roles are cluster-wide)
  end;
  select * into v_role from pg_roles where rolname = 'api_customer';
  if v_role.rolcanlogin or v_role.rolsuper or v_role.rolbypassrls or v_role.rolcreaterole then
    raise exception 'role api_customer exists with LOGIN, SUPERUSER, BYPASSRLS or CREATEROLE; it must be a plain NOLOGIN role'
      using hint = 'ALTER ROLE api_customer NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE, then migrate again';
  end if;
  -- A non-superuser migrating user (Supabase's postgres, RDS's master user) connects the functions today:
  -- it must be able to switch to the role. The runtime login role is granted it where it is created.
  if not (select rolsuper from pg_roles where rolname = current_user)
     and not pg_has_role(current_user, 'api_customer', 'member') then
    execute format('grant api_customer to %I', current_user);
  end if;
end
$do$;

-- Its policies call auth.uid(): it needs the auth schema. Where the migrating user owns `auth` (plain
-- PostgreSQL, RDS) a grant does it; on Supabase `auth` belongs to supabase_auth_admin and that grant only
-- warns, so the role inherits `authenticated`'s use of it instead (membership in authenticated gives it
-- nothing of its own beyond what a customer's JWT already has, and authenticated still cannot become it).
grant usage on schema public, auth to api_customer;
do $do$
begin
  if not (has_schema_privilege('api_customer', 'auth', 'usage')
          and has_function_privilege('api_customer', 'auth.uid()', 'execute')) then
    if not (select rolinherit from pg_roles where rolname = 'api_customer') then
      alter role api_customer inherit;
    end if;
    if current_setting('server_version_num')::int >= 160000 then
      execute 'grant authenticated to api_customer with inherit true';  -- PostgreSQL 16+: per grant
    else
      grant authenticated to api_customer;
    end if;
  end if;
  if not (has_schema_privilege('api_customer', 'auth', 'usage')
          and has_function_privilege('api_customer', 'auth.uid()', 'execute')) then
    raise exception 'role api_customer cannot call auth.uid()'
      using hint = 'grant usage on schema auth and execute on auth.uid() to api_customer (as the owner of auth), then migrate again';
  end if;
end
$do$;

-- The customer write guard now covers the API's customer role (the write grants moved to it).
create or replace function public.guard_customer_payment_method_write() returns trigger
language plpgsql
as $$
begin
  if current_user not in ('api_customer', 'authenticated', 'anon') then
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
      case when old.method_type = 'card' then old.card_expiry_month else new.card_expiry_month end,
      case when old.method_type = 'card' then old.card_expiry_year else new.card_expiry_year end,
      new.provider_token, new.mandate_url)
     is distinct from
     (old.customer_id, old.method_type, old.bank_name, old.branch_code, old.account_type,
      old.account_number_masked, old.account_holder, old.mandate_reference, old.mandate_status,
      old.mandate_amount, old.mandate_signed_at, old.card_brand, old.card_last4,
      old.card_expiry_month, old.card_expiry_year, old.provider_token, old.mandate_url) then
    raise exception 'only display_name, is_primary, is_active, deactivated_at and a card''s expiry can be changed'
      using errcode = '42501';
  end if;
  return new;
end
$$;

-- 2 and 3. Privileges: start clean, then grant exactly ------------------------------------------------------

-- Revoking table privileges also revokes column privileges; service_role's grants are left as they were.
revoke all on all tables in schema public from public, anon, authenticated, api_customer;
revoke all on all sequences in schema public from public, anon, authenticated, api_customer;
revoke all on all routines in schema public from public, anon, authenticated, api_customer;

grant select (id, auth_user_id, account_number, first_name, last_name, email, phone, customer_type,
              company_name, vat_number, physical_address, postal_address, created_at, updated_at)
  on public.customers to authenticated;
grant select (id, customer_id, billing_day, payment_terms_days, invoice_email, auto_pay, debit_day,
              credit_balance, created_at, updated_at)
  on public.customer_billing to authenticated;
grant select (id, customer_id, package_id, package_name, service_type, status, monthly_price, activation_date,
              suspension_date, cancellation_date, cancellation_effective_date, installation_address,
              created_at, updated_at)
  on public.customer_services to authenticated;
grant select (id, service_id, customer_id, suspension_type, pauses_billing, suspended_at, planned_end,
              reactivated_at, created_at, updated_at)
  on public.service_suspensions to authenticated;
grant select (id, customer_id, invoice_number, kind, invoice_date, due_date, period_start, period_end, subtotal,
              vat_rate, vat_amount, total_amount, amount_paid, amount_due, status, paid_at, pdf_url,
              pdf_generated_at, credit_note_for, created_at, updated_at)
  on public.customer_invoices to authenticated;
grant select (id, invoice_id, service_id, kind, description, quantity, unit_amount, amount, period_start,
              period_end, created_at, updated_at)
  on public.invoice_line_items to authenticated;
grant select (id, customer_id, method_type, display_name, is_primary, is_active, deactivated_at, bank_name,
              account_type, account_number_masked, account_holder, mandate_status, mandate_amount,
              mandate_signed_at, mandate_url, card_brand, card_last4, card_expiry_month, card_expiry_year,
              created_at, updated_at)
  on public.customer_payment_methods to authenticated;
grant select (id, customer_id, invoice_id, payment_method_id, original_transaction_id, amount, kind, status,
              provider, action_date, failure_code, failure_reason, processed_at, created_at, updated_at)
  on public.payment_transactions to authenticated;
grant select (id, customer_id, service_id, usage_date, upload_mb, download_mb, total_mb, source, created_at,
              updated_at)
  on public.usage_history to authenticated;
grant select (id, name, service_type, speed_down_mbps, speed_up_mbps, monthly_price, data_cap_gb, is_active,
              created_at, updated_at)
  on public.service_packages to authenticated;
grant select (id, rate, effective_from, created_at) on public.vat_rates to authenticated;
grant select (id, holiday_date, name, created_at) on public.declared_public_holidays to authenticated;

-- The API's customer sessions read whole rows (its code chooses the columns it shows, and a column added
-- for the API must not break it) and write payment methods under the guard trigger.
grant select on
  public.customers,
  public.customer_billing,
  public.customer_services,
  public.service_suspensions,
  public.customer_invoices,
  public.invoice_line_items,
  public.customer_payment_methods,
  public.payment_transactions,
  public.usage_history,
  public.service_packages,
  public.vat_rates,
  public.declared_public_holidays
to api_customer;
grant insert, update on public.customer_payment_methods to api_customer;

-- Row policies: one per table for both customer roles (the same rows either way), writes for api_customer.
alter policy customers_select_own on public.customers to authenticated, api_customer;
alter policy customer_billing_select_own on public.customer_billing to authenticated, api_customer;
alter policy customer_services_select_own on public.customer_services to authenticated, api_customer;
alter policy customer_payment_methods_select_own on public.customer_payment_methods
  to authenticated, api_customer;
alter policy payment_transactions_select_own on public.payment_transactions to authenticated, api_customer;
alter policy usage_history_select_own on public.usage_history to authenticated, api_customer;
alter policy service_packages_select_active on public.service_packages to authenticated, api_customer;
alter policy vat_rates_select_all on public.vat_rates to authenticated, api_customer;
alter policy declared_public_holidays_select_all on public.declared_public_holidays
  to authenticated, api_customer;

-- Drafts are not invoices yet; a void invoice was withdrawn.
alter policy customer_invoices_select_own on public.customer_invoices to authenticated, api_customer
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid()))
         and status not in ('draft', 'void'));
alter policy invoice_line_items_select_own on public.invoice_line_items to authenticated, api_customer
  using (invoice_id in (
    select i.id from public.customer_invoices i
     where i.customer_id = (select id from public.customers where auth_user_id = (select auth.uid()))
       and i.status not in ('draft', 'void')
  ));
-- An open fraud investigation is not disclosed to its subject.
alter policy service_suspensions_select_own on public.service_suspensions to authenticated, api_customer
  using (customer_id = (select id from public.customers where auth_user_id = (select auth.uid()))
         and suspension_type <> 'fraud');
-- Billing cycles are the billing run's bookkeeping (a skipped period is an internal decision).
drop policy billing_cycles_select_own on public.billing_cycles;

alter policy customer_payment_methods_insert_own on public.customer_payment_methods to api_customer;
alter policy customer_payment_methods_update_own on public.customer_payment_methods to api_customer;

-- 4. Idempotency functions that check the caller's role --------------------------------------------------
--
-- The caller's role: current_user is the owner inside a SECURITY DEFINER function, so it cannot tell; the
-- `role` setting is what SET ROLE / set_config('role', ..., true) chose (only a member can choose a role),
-- and the session user when none was chosen. service_role and the table's owner (migrations, tests) act for
-- no customer; api_customer only for the customer of its claims; any other role (authenticated, anon) is
-- refused even if it were granted EXECUTE. Before, a caller without `sub` in its claims was treated as the
-- service and could complete another customer's key.

drop function public.idempotency_caller_customer_id();

create or replace function public.claim_idempotency_key(
  p_scope text, p_key text, p_request_hash text, p_customer_id uuid
) returns table (claimed boolean, request_hash text, status text, response_status int, response_body jsonb)
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  v_role text := coalesce(nullif(current_setting('role'), 'none'), session_user);
  v_caller uuid;
begin
  if v_role = 'api_customer' then
    v_caller := (select c.id from public.customers c where c.auth_user_id = auth.uid());
    if v_caller is null or p_customer_id is distinct from v_caller
       or right(p_scope, length(v_caller::text) + 1) <> ':' || v_caller::text then
      raise exception 'idempotency keys of another customer' using errcode = '42501';
    end if;
  elsif v_role <> 'service_role'
        and not pg_has_role(v_role, (select relowner from pg_class where oid = 'public.idempotency_keys'::regclass), 'usage') then
    raise exception 'idempotency keys are claimed by the API''s own sessions only' using errcode = '42501';
  end if;
  return query
    insert into public.idempotency_keys as k (scope, key, request_hash, customer_id)
    values (p_scope, p_key, p_request_hash, p_customer_id)
    on conflict on constraint idempotency_keys_scope_key_key do nothing
    returning true, k.request_hash, k.status, k.response_status, k.response_body;
  if found then
    return;
  end if;
  return query
    select false, k.request_hash, k.status, k.response_status, k.response_body
      from public.idempotency_keys k
     where k.scope = p_scope and k.key = p_key;
end
$$;

create or replace function public.complete_idempotency_key(
  p_scope text, p_key text, p_response_status int, p_response_body jsonb
) returns boolean
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  v_role text := coalesce(nullif(current_setting('role'), 'none'), session_user);
  v_caller uuid;
begin
  if v_role = 'api_customer' then
    v_caller := (select c.id from public.customers c where c.auth_user_id = auth.uid());
    if v_caller is null then
      raise exception 'idempotency keys of another customer' using errcode = '42501';
    end if;
  elsif v_role <> 'service_role'
        and not pg_has_role(v_role, (select relowner from pg_class where oid = 'public.idempotency_keys'::regclass), 'usage') then
    raise exception 'idempotency keys are completed by the API''s own sessions only' using errcode = '42501';
  end if;
  update public.idempotency_keys k
     set status = 'completed', response_status = p_response_status, response_body = p_response_body
   where k.scope = p_scope and k.key = p_key and k.status = 'in_progress'
     and (v_caller is null or k.customer_id = v_caller);
  return found;
end
$$;

revoke execute on function public.claim_idempotency_key(text, text, text, uuid) from public, anon, authenticated;
revoke execute on function public.complete_idempotency_key(text, text, int, jsonb) from public, anon, authenticated;
grant execute on function public.claim_idempotency_key(text, text, text, uuid) to api_customer, service_role;
grant execute on function public.complete_idempotency_key(text, text, int, jsonb) to api_customer, service_role;

-- 5. Default privileges of the migrating user -------------------------------------------------------------
-- Functions are executable by PUBLIC by default in every schema, and a schema's default privileges can only
-- add to that, so PUBLIC's EXECUTE is revoked globally; service_role keeps its schema default (20261125001200).
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke all on tables from public, anon, authenticated, api_customer;
alter default privileges in schema public revoke all on sequences from public, anon, authenticated, api_customer;
alter default privileges in schema public revoke all on functions from public, anon, authenticated, api_customer;
