-- Daily usage per service (Interstellio sync, manual corrections). Where both sources have a day,
-- the API shows the manual row, never the sum.

create table public.usage_history (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  service_id uuid not null references public.customer_services (id) on delete restrict,
  usage_date date not null,
  upload_mb numeric(14,3) not null check (upload_mb >= 0),
  download_mb numeric(14,3) not null check (download_mb >= 0),
  total_mb numeric(14,3) generated always as (upload_mb + download_mb) stored,
  source text not null check (source in ('interstellio', 'manual')),
  synced_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint usage_history_service_day_source_key unique (service_id, usage_date, source),
  constraint usage_history_service_customer_fkey foreign key (service_id, customer_id)
    references public.customer_services (id, customer_id) on delete restrict
);

create index usage_history_customer_date_idx on public.usage_history (customer_id, usage_date);

create trigger usage_history_set_updated_at
  before update on public.usage_history
  for each row execute function public.set_updated_at();
