-- Invoices for people (issue 12, the API part): credit notes, write-offs and the invoice action log.
--
-- 1. customer_invoices.amount_credited: the part of the invoice's amount due that credit notes took away
--    (what a credit note gives back beyond the amount due, on a paid invoice, goes to
--    customer_billing.credit_balance instead). amount_due becomes total - paid - credited; it is a generated
--    column, so it is dropped and added again (its column grant with it). amount_credited may change on an
--    issued invoice: the immutability trigger lists only the fields of the document itself.
-- 2. customer_invoices.amount_written_off: what was still due when an admin wrote the invoice off.
-- 3. Credit notes are numbered CRN-YYYY-NNNNN from a counter of their own (kind 'credit_note'), gap-free
--    like invoices: assign_invoice_number draws by kind.
-- 4. invoice_action_log: every admin action on an invoice (credit note, void, write-off), append-only.

alter table public.customer_invoices
  add column amount_credited numeric(12,2) not null default 0,
  add column amount_written_off numeric(12,2);

alter table public.customer_invoices drop column amount_due;
alter table public.customer_invoices
  add column amount_due numeric(12,2) generated always as (total_amount - amount_paid - amount_credited) stored;

alter table public.customer_invoices drop constraint customer_invoices_amount_paid_range;
alter table public.customer_invoices
  add constraint customer_invoices_amount_paid_range check (
    amount_paid >= 0
    and amount_credited >= 0
    and (kind = 'credit_note' or (total_amount >= 0 and amount_paid + amount_credited <= total_amount))
  ),
  add constraint customer_invoices_credit_note_not_credited check (kind <> 'credit_note' or amount_credited = 0),
  add constraint customer_invoices_written_off_amount check (
    (amount_written_off is null or amount_written_off >= 0)
    and (status <> 'written_off' or amount_written_off is not null)
  );

-- The customer-facing columns a customer's JWT may read (drop column took amount_due's grant with it).
grant select (amount_due, amount_credited) on public.customer_invoices to authenticated;

create or replace function public.assign_invoice_number() returns trigger
language plpgsql
security definer
set search_path = public
as $$
declare
  v_year int;
begin
  if new.invoice_number is null and new.invoice_date is not null then
    v_year := extract(year from new.invoice_date)::int;
    if new.kind = 'credit_note' then
      new.invoice_number := public.format_document_number('CRN', v_year, public.next_number('credit_note', v_year));
    else
      new.invoice_number := public.format_document_number('INV', v_year, public.next_number('invoice', v_year));
    end if;
  end if;
  return new;
end
$$;

create table public.invoice_action_log (
  id uuid primary key default gen_random_uuid(),
  invoice_id uuid not null references public.customer_invoices (id) on delete restrict,
  customer_id uuid not null references public.customers (id) on delete restrict,
  action text not null check (action in ('credit_note', 'void', 'write_off')),
  previous_status text not null,
  new_status text not null,
  reason text not null check (btrim(reason) <> ''),
  actor_type text not null default 'admin' check (actor_type in ('admin', 'system')),
  actor_admin_id uuid references public.admin_users (id) on delete restrict,
  request_id text,
  previous_data jsonb not null,
  new_data jsonb not null,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint invoice_action_log_invoice_customer_fkey foreign key (invoice_id, customer_id)
    references public.customer_invoices (id, customer_id) on delete restrict,
  constraint invoice_action_log_admin_actor check (actor_type <> 'admin' or actor_admin_id is not null)
);

create index invoice_action_log_invoice_idx on public.invoice_action_log (invoice_id, created_at desc, id desc);
create index invoice_action_log_customer_id_idx on public.invoice_action_log (customer_id);
create index invoice_action_log_actor_admin_id_idx on public.invoice_action_log (actor_admin_id);

-- Append-only for everyone, superusers and service_role included (as service_action_log).
create trigger invoice_action_log_append_only
  before update or delete on public.invoice_action_log
  for each row execute function public.refuse_append_only_change();
create trigger invoice_action_log_no_truncate
  before truncate on public.invoice_action_log
  for each statement execute function public.refuse_append_only_change();

alter table public.invoice_action_log enable row level security;
-- Admin-only: the customer sees the credit note, not who issued it or why internally.
revoke all on public.invoice_action_log from public, anon, authenticated, api_customer, service_role;
grant select, insert on public.invoice_action_log to service_role;

create policy invoice_action_log_no_update on public.invoice_action_log
  as restrictive for update
  using (false);
create policy invoice_action_log_no_delete on public.invoice_action_log
  as restrictive for delete
  using (false);

-- What the admin list filters on: a customer's invoices by kind and date, and the credit notes of one.
create index customer_invoices_date_idx on public.customer_invoices (invoice_date desc, id desc);
