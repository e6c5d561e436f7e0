-- Order backfill: the normalisations its matching joins on (immutable, so they can be indexed), the
-- legacy order status -> action mapping, the indexes its set-based statements use, the review queue's
-- record of which customer a person chose, and customer_billing created per statement (not per row).

-- A South African phone number in E.164 (+27 and 9 digits), or another country's E.164 number as given;
-- null when blank or not a phone number. '0821234567', '082 123 4567', '+27 82 123 4567',
-- '+27 (0)82 123-4567', '27821234567' and '0027821234567' are all '+27821234567'.
create or replace function public.normalize_za_phone(p_phone text) returns text
language plpgsql
immutable
parallel safe
as $$
declare
  d text := translate(p_phone, E' \t\r\n().-', '');
begin
  if d is null or d = '' then
    return null;
  end if;
  -- +27 / 0027 / 27 followed by the national number (with or without its trunk 0)
  if d ~ '^(\+27|0027|27)0?[1-8][0-9]{8}$' then
    return '+27' || right(d, 9);
  end if;
  -- national format: trunk 0 and 9 digits, or the 9 digits alone
  if d ~ '^0?[1-8][0-9]{8}$' then
    return '+27' || right(d, 9);
  end if;
  -- another country's number, written +CC… or 00CC…
  if d ~ '^(\+|00)[1-9][0-9]{7,14}$' and d !~ '^(\+|00)27' then
    return '+' || regexp_replace(d, '^(\+|00)', '');
  end if;
  return null;
end
$$;

-- An email address as matching compares it (trimmed, lower case); null when blank or malformed.
-- (One expression, so the planner inlines it: no function call per row.)
create or replace function public.normalize_email(p_email text) returns text
language sql
immutable
parallel safe
as $$
  select case
    when lower(btrim(p_email)) ~ '^[^@\s,;<>()]+@[a-z0-9-]+(\.[a-z0-9-]+)+$'
      then lower(btrim(p_email))
  end
$$;

-- What the backfill does with a legacy order status (domain.md, "Order backfill"); null = unknown status.
--   service_active    -> link the customer and create an active service
--   service_suspended -> link the customer and create a suspended service
--   link_only         -> link the customer only (the order is still on its way)
--   link_closed       -> link the customer only (the order ended without a service)
create or replace function public.legacy_order_action(p_status text) returns text
language sql
immutable
parallel safe
as $$
  select case
    when lower(btrim(p_status)) in ('active', 'installation_completed', 'installed') then 'service_active'
    when lower(btrim(p_status)) = 'suspended' then 'service_suspended'
    when lower(btrim(p_status)) in ('cancelled', 'failed', 'kyc_rejected', 'credit_check_rejected')
      then 'link_closed'
    when lower(btrim(p_status)) in ('pending', 'installation_scheduled', 'installation_in_progress', 'on_hold')
      or lower(btrim(p_status)) ~ '^(payment|kyc|credit_check)_'
      then 'link_only'
  end
$$;

-- Matching joins customers on the normalised phone (email already has customers_email_lower_key).
create index customers_phone_normalized_idx on public.customers (public.normalize_za_phone(phone));

-- "Does this order have an unresolved validation error?" is asked for every order the backfill reads.
create index validation_errors_open_record_idx on public.validation_errors (record_id, source)
  where resolved_at is null and record_id is not null;

-- Which customer a person chose when resolving a review item (the link itself is on the order).
alter table public.migration_review_queue
  add column resolved_customer_id uuid references public.customers (id) on delete restrict;

create index migration_review_queue_resolved_customer_idx on public.migration_review_queue (resolved_customer_id)
  where resolved_customer_id is not null;

-- customer_billing rows are created once per INSERT statement (a transition table) instead of once per
-- row: the same rows, defaults and transaction, without a trigger call and an INSERT for every customer
-- (the backfill creates customers by the hundred thousand).
create or replace function public.create_customer_billing_for_statement() returns trigger
language plpgsql
security definer
set search_path = public
as $$
begin
  insert into public.customer_billing (customer_id, invoice_email)
  select id, email from inserted_customers
  on conflict (customer_id) do nothing;
  return null;
end
$$;

drop trigger customers_create_billing on public.customers;

create trigger customers_create_billing
  after insert on public.customers
  referencing new table as inserted_customers
  for each statement execute function public.create_customer_billing_for_statement();
