-- Customer payment methods API (NetCash mandates): what the endpoints need beyond 20261125000700.
--
-- 1. customer_payment_methods.mandate_url: the NetCash page where the customer signs a pending mandate,
--    so the dashboard can show the link again later.
-- 2. The customer write guard, replaced: a customer may also change a card's expiry (the card was
--    re-issued with the same token), and may never rewrite mandate_url once set. Everything else is as
--    before: inserts get mandate_status pending; updates change only display_name, is_primary, is_active,
--    deactivated_at, and set mandate_reference once.
-- 3. Idempotency bookkeeping for customer requests. Customers (role authenticated) have no grant on
--    idempotency_keys; these two SECURITY DEFINER functions are their only way in, and a customer
--    session can only claim or complete keys of its own customer, in a scope that ends with its own id.

alter table public.customer_payment_methods add column mandate_url text;

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

-- The caller's customer id when the transaction carries customer claims (a customer session), else null.
create or replace function public.idempotency_caller_customer_id() returns uuid
language sql stable
security definer
set search_path = public, pg_temp
as $$
  select c.id from public.customers c where c.auth_user_id = auth.uid()
$$;

-- Insert first: claims the key, or (after waiting for a concurrent holder to commit) returns the stored row.
create or replace function public.claim_idempotency_key(
  p_scope text, p_key text, p_request_hash text, p_customer_id uuid
) returns table (claimed boolean, request_hash text, status text, response_status int, response_body jsonb)
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  v_caller uuid;
begin
  if auth.uid() is not null then
    v_caller := public.idempotency_caller_customer_id();
    if v_caller is null or p_customer_id is distinct from v_caller
       or right(p_scope, length(v_caller::text) + 1) <> ':' || v_caller::text then
      raise exception 'idempotency keys of another customer' using errcode = '42501';
    end if;
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

-- Store the response in the same transaction as the effect.
create or replace function public.complete_idempotency_key(
  p_scope text, p_key text, p_response_status int, p_response_body jsonb
) returns boolean
language plpgsql
security definer
set search_path = public, pg_temp
as $$
declare
  v_caller uuid := case when auth.uid() is not null then public.idempotency_caller_customer_id() end;
begin
  update public.idempotency_keys k
     set status = 'completed', response_status = p_response_status, response_body = p_response_body
   where k.scope = p_scope and k.key = p_key and k.status = 'in_progress'
     and (auth.uid() is null or k.customer_id = v_caller);
  return found;
end
$$;

revoke execute on function public.idempotency_caller_customer_id() from public, anon;
revoke execute on function public.claim_idempotency_key(text, text, text, uuid) from public, anon;
revoke execute on function public.complete_idempotency_key(text, text, int, jsonb) from public, anon;
grant execute on function public.claim_idempotency_key(text, text, text, uuid) to authenticated, service_role;
grant execute on function public.complete_idempotency_key(text, text, int, jsonb) to authenticated, service_role;
grant execute on function public.idempotency_caller_customer_id() to authenticated, service_role;
