-- Usage (issue 13): the daily Interstellio sync, the usage webhooks, manual corrections and cap alerts.
--
-- 1. service_action_log.action gains `usage_correction`: an admin's manual usage row for a day is audited
--    like every other service action.
-- 2. usage_meter_events: Interstellio's `subscriber-usage-meter-triggered` webhook, one row per service and
--    meter month (a redelivery changes nothing). Internal: service role only.

alter table public.service_action_log
  drop constraint service_action_log_action_check;
alter table public.service_action_log
  add constraint service_action_log_action_check
    check (action in ('activate', 'suspend', 'reactivate', 'cancel', 'end_now', 'price_change',
                      'provider_retry', 'usage_correction'));

create table public.usage_meter_events (
  id uuid primary key default gen_random_uuid(),
  service_id uuid not null references public.customer_services (id) on delete restrict,
  customer_id uuid not null references public.customers (id) on delete restrict,
  subscriber_id text not null,
  meter_month text not null check (meter_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  monthly_combined_kb numeric(20,0) not null check (monthly_combined_kb >= 0),
  trigger_kb numeric(20,0) check (trigger_kb >= 0),
  received_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  constraint usage_meter_events_service_month_key unique (service_id, meter_month),
  constraint usage_meter_events_service_customer_fkey foreign key (service_id, customer_id)
    references public.customer_services (id, customer_id) on delete restrict
);
create index usage_meter_events_customer_idx on public.usage_meter_events (customer_id);

alter table public.usage_meter_events enable row level security;
revoke all on public.usage_meter_events from public, anon, authenticated;
grant select, insert on public.usage_meter_events to service_role;
