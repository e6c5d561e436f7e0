-- Exactly-once effects: request idempotency keys and provider webhook deliveries.
-- Insert first: a unique violation means "already seen" and the stored outcome is replayed.

create table public.idempotency_keys (
  id uuid primary key default gen_random_uuid(),
  scope text not null,
  key text not null,
  request_hash text not null,
  customer_id uuid references public.customers (id) on delete cascade,
  status text not null default 'in_progress' check (status in ('in_progress', 'completed')),
  response_status int,
  response_body jsonb,
  expires_at timestamptz not null default (now() + interval '24 hours'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint idempotency_keys_scope_key_key unique (scope, key)
);

create index idempotency_keys_expires_at_idx on public.idempotency_keys (expires_at);

create trigger idempotency_keys_set_updated_at
  before update on public.idempotency_keys
  for each row execute function public.set_updated_at();

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  provider text not null check (btrim(provider) <> ''),
  delivery_id text not null check (btrim(delivery_id) <> ''),
  received_at timestamptz not null default now(),
  outcome text,
  payload_hash text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint webhook_deliveries_provider_delivery_key unique (provider, delivery_id)
);

create trigger webhook_deliveries_set_updated_at
  before update on public.webhook_deliveries
  for each row execute function public.set_updated_at();
