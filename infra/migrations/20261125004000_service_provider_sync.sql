-- Admin service lifecycle: whether Interstellio (the line) agrees with customer_services.status.
--
-- provider_sync_status says what is still owed to the provider:
--   in_sync          nothing pending;
--   pending_disable  the line must be disabled (a suspend whose provider call may not have applied, or a
--                    cancellation, from provider_sync_not_before);
--   pending_enable   the line must be enabled (a reactivate whose provider call may not have applied).
-- The retry-provider-sync job re-applies the desired flag (PATCH enabled, idempotent) until it succeeds.

alter table public.customer_services
  add column provider_sync_status text not null default 'in_sync'
    check (provider_sync_status in ('in_sync', 'pending_disable', 'pending_enable')),
  add column provider_sync_not_before date,
  add column provider_sync_attempts int not null default 0 check (provider_sync_attempts >= 0),
  add column provider_sync_error text,
  add column provider_sync_requested_at timestamptz,
  add column provider_synced_at timestamptz;

alter table public.customer_services
  add constraint customer_services_pending_sync_needs_subscriber
    check (provider_sync_status = 'in_sync' or interstellio_subscriber_id is not null);

-- The retry job's work list stays small: only services that still owe the provider something.
create index customer_services_provider_sync_pending_idx
  on public.customer_services (provider_sync_not_before, id)
  where provider_sync_status <> 'in_sync';

-- Admin lists: newest first, filtered by status, customer or package.
create index customer_services_created_idx on public.customer_services (created_at desc, id desc);

-- The audit log is append-only for everyone. The trigger (20261125000500) refuses UPDATE, DELETE and
-- TRUNCATE even for superusers; privileges and policies are the second wall: nobody, service_role
-- included, is granted anything but SELECT and INSERT, and RLS has no UPDATE or DELETE policy (restrictive
-- policies below make the refusal explicit for any role RLS applies to).
revoke update, delete, truncate on public.service_action_log from public, anon, authenticated, service_role;

create policy service_action_log_no_update on public.service_action_log
  as restrictive for update
  using (false);

create policy service_action_log_no_delete on public.service_action_log
  as restrictive for delete
  using (false);
