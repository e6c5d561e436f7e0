-- Order backfill: the normalisations its matching joins on (as immutable SQL, so they can be indexed),
-- the legacy order status -> action mapping, the indexes its set-based statements use, and the
-- review queue's record of which customer a person chose.

-- A South African phone number in E.164 (+27 and 9 digits), or another country's E.164 number as given;
-- null when blank or not a phone number. '0821234567', '082 123 4567', '+27 82 123 4567',
-- '+27 (0)82 123-4567', '27821234567' and '0027821234567' are all '+27821234567'.
create or replace function public.normalize_za_phone(p_phone text) returns text
language sql
immutable
parallel safe
as $$
  select case
    when d is null or d = '' then null
    -- +27 / 0027 / 27 followed by the national number (with or without its trunk 0)
    when d ~ '^(\+27|0027)0?[1-8][0-9]{8}$' then '+27' || right(d, 9)
    when d ~ '^270?[1-8][0-9]{8}$' then '+27' || right(d, 9)
    -- national format: trunk 0 and 9 digits, or the 9 digits alone
    when d ~ '^0[1-8][0-9]{8}$' then '+27' || right(d, 9)
    when d ~ '^[1-8][0-9]{8}$' then '+27' || d
    -- another country's number, written +CC… or 00CC…
    when d ~ '^\+[1-9][0-9]{7,14}$' and d !~ '^\+27' then d
    when d ~ '^00[1-9][0-9]{7,14}$' and d !~ '^0027' then '+' || substr(d, 3)
    else null
  end
  from (select regexp_replace(btrim(p_phone), '[\s().-]', '', 'g') as d) as cleaned
$$;

-- An email address as matching compares it (trimmed, lower case); null when blank or malformed.
create or replace function public.normalize_email(p_email text) returns text
language sql
immutable
parallel safe
as $$
  select case
    when e ~ '^[^@\s,;<>()]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$' then e
    else null
  end
  from (select lower(btrim(p_email)) as e) as cleaned
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
    when s in ('active', 'installation_completed', 'installed') then 'service_active'
    when s = 'suspended' then 'service_suspended'
    when s in ('cancelled', 'failed', 'kyc_rejected', 'credit_check_rejected') then 'link_closed'
    when s in ('pending', 'installation_scheduled', 'installation_in_progress', 'on_hold')
      or s like 'payment\_%' or s like 'kyc\_%' or s like 'credit\_check\_%' then 'link_only'
    else null
  end
  from (select lower(btrim(p_status)) as s) as cleaned
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
