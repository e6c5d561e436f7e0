-- Scheduled job runs (cron_execution_log) and the order backfill's work lists
-- (validation_errors, migration_review_queue).

create table public.cron_execution_log (
  id uuid primary key default gen_random_uuid(),
  job_name text not null check (btrim(job_name) <> ''),
  trigger text not null default 'schedule' check (trigger in ('schedule', 'manual', 'chunk')),
  triggered_by uuid references public.admin_users (id) on delete restrict,
  run_date date,
  execution_start timestamptz not null default now(),
  execution_end timestamptz,
  duration_seconds numeric generated always as (extract(epoch from (execution_end - execution_start))) stored,
  status text not null default 'running' check (status in
    ('running', 'completed', 'partial', 'failed', 'cancelled')),
  records_processed int not null default 0 check (records_processed >= 0),
  records_failed int not null default 0 check (records_failed >= 0),
  records_skipped int not null default 0 check (records_skipped >= 0),
  error_message text,
  details jsonb not null default '{}'::jsonb,
  parent_id uuid references public.cron_execution_log (id) on delete restrict,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint cron_execution_log_end_after_start check (execution_end >= execution_start),
  constraint cron_execution_log_chunk_has_parent check ((trigger = 'chunk') = (parent_id is not null))
);

-- a second concurrent top-level run of a job cannot insert its running row
create unique index cron_execution_log_one_running_key
  on public.cron_execution_log (job_name) where status = 'running' and parent_id is null;
create index cron_execution_log_job_start_idx on public.cron_execution_log (job_name, execution_start desc);
create index cron_execution_log_parent_id_idx on public.cron_execution_log (parent_id)
  where parent_id is not null;

create trigger cron_execution_log_set_updated_at
  before update on public.cron_execution_log
  for each row execute function public.set_updated_at();

create table public.validation_errors (
  id uuid primary key default gen_random_uuid(),
  source text not null check (btrim(source) <> ''),
  record_type text,
  record_id uuid,
  record_ref text,
  error_code text not null check (btrim(error_code) <> ''),
  message text not null,
  suggested_fix text,
  payload jsonb,
  resolved_at timestamptz,
  resolved_by uuid references public.admin_users (id) on delete restrict,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- a re-run does not pile up duplicates while the error is unresolved (a null record_ref counts as one value)
create unique index validation_errors_open_key
  on public.validation_errors (source, record_ref, error_code) nulls not distinct
  where resolved_at is null;
create index validation_errors_unresolved_idx on public.validation_errors (source, created_at desc)
  where resolved_at is null;

create trigger validation_errors_set_updated_at
  before update on public.validation_errors
  for each row execute function public.set_updated_at();

create table public.migration_review_queue (
  id uuid primary key default gen_random_uuid(),
  consumer_order_id uuid not null references public.consumer_orders (id) on delete restrict,
  reason text not null check (btrim(reason) <> ''),
  candidates jsonb not null default '[]'::jsonb,
  status text not null default 'open' check (status in ('open', 'resolved', 'dismissed')),
  decision text,
  decided_by uuid references public.admin_users (id) on delete restrict,
  decided_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create unique index migration_review_queue_one_open_key
  on public.migration_review_queue (consumer_order_id) where status = 'open';
create index migration_review_queue_status_idx on public.migration_review_queue (status, created_at);

create trigger migration_review_queue_set_updated_at
  before update on public.migration_review_queue
  for each row execute function public.set_updated_at();
