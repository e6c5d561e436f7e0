-- The notifications outbox (issue 12; used by usage cap alerts and collections too). A row is written in
-- the same transaction as the event that causes it and delivered later by the send-notifications job,
-- never from inside that transaction; the dedupe key makes "exactly one e-mail per event" a database rule.

create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid references public.customers (id) on delete restrict,
  kind text not null check (kind ~ '^[a-z][a-z0-9_]{1,49}$'),  -- invoice_issued, usage_cap, debit_failed, ...
  channel text not null default 'email' check (channel in ('email')),
  recipient text,                -- filled from the customer's billing e-mail at queue time when null
  subject text not null check (btrim(subject) <> '' and length(subject) <= 200),
  template text not null check (template ~ '^[a-z][a-z0-9_]{1,49}$'),
  data jsonb not null default '{}'::jsonb,  -- what the template needs (money as strings)
  dedupe_key text not null check (btrim(dedupe_key) <> '' and length(dedupe_key) <= 300),
  status text not null default 'pending' check (status in ('pending', 'sending', 'sent', 'failed')),
  attempts int not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text,
  provider_message_id text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint notifications_dedupe_key_key unique (dedupe_key),
  constraint notifications_sent_when check ((status = 'sent') = (sent_at is not null))
);

create index notifications_due_idx on public.notifications (next_attempt_at) where status in ('pending', 'sending');
create index notifications_customer_idx on public.notifications (customer_id, created_at desc);

create trigger notifications_set_updated_at
  before update on public.notifications
  for each row execute function public.set_updated_at();

alter table public.notifications enable row level security;
-- Internal: the customer sees the e-mail, not the outbox row.
revoke all on public.notifications from anon, authenticated;
grant select, insert, update on public.notifications to service_role;
