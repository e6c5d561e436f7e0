-- Provider calls whose outcome the database cannot forget (issue 10, section 1 and 4).
--
-- 1. service_provider_intents: before an admin action calls Interstellio, the flag it is about to ask for is
--    committed here on a connection of its own, while the admin's transaction still holds the service's row
--    lock. The admin's transaction settles the intent in the same commit as the lifecycle change; a refused
--    call settles it with the provider_failed audit row. An intent left unsettled (the process died, or the
--    transaction after the call failed) means Interstellio may have changed the line while the database
--    kept the service as it was: retry-provider-sync turns it into an owed change that makes the line
--    agree with the database again.
-- 2. customer_payment_methods.mandate_status gains `requesting` (the row is committed before AddMandate,
--    not collectable and not listed: is_active stays false until NetCash's answer is applied) and `failed`
--    (NetCash refused, or never heard of it). sync-mandate-statuses adopts a requesting row NetCash knows
--    and fails one it does not know after a while.
-- 3. service_action_log.action gains `end_now`: an admin ends the service today and disables the line now,
--    also after an earlier cancellation.

create table public.service_provider_intents (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null,
  customer_id uuid not null,
  action text not null check (action in ('suspend', 'reactivate', 'end_now')),
  subscriber_id text not null check (btrim(subscriber_id) <> ''),
  enabled boolean not null,
  request_id text,
  actor_admin_id uuid references public.admin_users (id) on delete restrict,
  created_at timestamptz not null default now(),
  settled_at timestamptz,
  outcome text check (outcome in ('applied', 'pending', 'refused', 'reconciled')),
  constraint service_provider_intents_service_customer_fkey foreign key (service_id, customer_id)
    references public.customer_services (id, customer_id) on delete restrict,
  constraint service_provider_intents_settled_outcome
    check ((settled_at is null) = (outcome is null))
);

-- The retry job's work list: unsettled intents only (normally none).
create index service_provider_intents_unsettled_idx
  on public.service_provider_intents (created_at) where settled_at is null;
create index service_provider_intents_service_idx on public.service_provider_intents (service_id);
create index service_provider_intents_actor_admin_id_idx on public.service_provider_intents (actor_admin_id);

alter table public.service_provider_intents enable row level security;
revoke all on public.service_provider_intents from public, anon, authenticated;
grant select, insert, update on public.service_provider_intents to service_role;

alter table public.customer_payment_methods
  drop constraint customer_payment_methods_mandate_status_check;
alter table public.customer_payment_methods
  add constraint customer_payment_methods_mandate_status_check
    check (mandate_status in ('requesting', 'pending', 'accepted', 'declined', 'cancelled', 'expired', 'failed'));

-- sync-mandate-statuses looks for requesting rows on every run.
create index customer_payment_methods_requesting_idx
  on public.customer_payment_methods (created_at)
  where method_type = 'debit_order' and mandate_status = 'requesting';

alter table public.service_action_log
  drop constraint service_action_log_action_check;
alter table public.service_action_log
  add constraint service_action_log_action_check
    check (action in ('activate', 'suspend', 'reactivate', 'cancel', 'end_now', 'price_change',
                      'provider_retry'));
