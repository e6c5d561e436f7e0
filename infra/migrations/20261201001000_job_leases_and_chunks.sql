-- Job runs without session state: a `running` row holds a lease the run renews (no session advisory lock,
-- which a transaction pooler would leave on whichever server connection ran it), and the chunks of a
-- fanned-out run (SQS) are rows of their own.

alter table public.cron_execution_log
  add column lease_expires_at timestamptz,
  add column heartbeat_at timestamptz;

-- Finding an expired running row of a job is a lookup on the existing partial unique index
-- (cron_execution_log_one_running_key on job_name where status = 'running' and parent_id is null).

create table public.cron_job_chunks (
  parent_run_id uuid not null references public.cron_execution_log (id) on delete restrict,
  chunk_no int not null check (chunk_no >= 0),
  items jsonb not null check (jsonb_typeof(items) = 'array'),
  status text not null default 'pending' check (status in ('pending', 'done', 'failed')),
  records_processed int not null default 0 check (records_processed >= 0),
  records_failed int not null default 0 check (records_failed >= 0),
  records_skipped int not null default 0 check (records_skipped >= 0),
  details jsonb not null default '{}'::jsonb,
  attempts int not null default 0 check (attempts >= 0),
  error_message text,
  finished_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (parent_run_id, chunk_no),
  constraint cron_job_chunks_finished_when_final check ((status = 'pending') = (finished_at is null))
);

create index cron_job_chunks_pending_idx on public.cron_job_chunks (parent_run_id) where status = 'pending';

create trigger cron_job_chunks_set_updated_at
  before update on public.cron_job_chunks
  for each row execute function public.set_updated_at();

-- Internal job bookkeeping: not customer-facing.
alter table public.cron_job_chunks enable row level security;
revoke all on public.cron_job_chunks from public, anon, authenticated;
revoke all on public.cron_job_chunks from service_role;
grant select, insert, update on public.cron_job_chunks to service_role;
