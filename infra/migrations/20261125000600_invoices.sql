-- Billing periods and invoices: billing_cycles, customer_invoices, invoice_line_items.
-- Invoice numbers INV-YYYY-NNNNN (YYYY = year of invoice_date, gap-free per year) come from a trigger;
-- an invoice that is no longer a draft is immutable except for status, payment and PDF fields.

create table public.billing_cycles (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  period_start date not null,
  period_end date not null,
  billing_date date not null,
  status text not null default 'open' check (status in ('open', 'invoiced', 'skipped', 'closed')),
  invoice_id uuid,  -- foreign key added below, once customer_invoices exists
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint billing_cycles_customer_period_key unique (customer_id, period_start),
  constraint billing_cycles_period_order check (period_end >= period_start),
  constraint billing_cycles_invoiced_has_invoice check (status <> 'invoiced' or invoice_id is not null)
);

create index billing_cycles_customer_id_idx on public.billing_cycles (customer_id);
create index billing_cycles_status_billing_date_idx on public.billing_cycles (status, billing_date);

create trigger billing_cycles_set_updated_at
  before update on public.billing_cycles
  for each row execute function public.set_updated_at();

create table public.customer_invoices (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  invoice_number text not null unique,
  kind text not null default 'recurring' check (kind in ('recurring', 'one_off', 'final', 'credit_note')),
  invoice_date date not null,
  due_date date not null,
  period_start date,
  period_end date,
  subtotal numeric(12,2) not null,
  vat_rate numeric(5,2) not null check (vat_rate >= 0 and vat_rate < 100),
  vat_amount numeric(12,2) not null,
  total_amount numeric(12,2) not null,
  amount_paid numeric(12,2) not null default 0,
  amount_due numeric(12,2) generated always as (total_amount - amount_paid) stored,
  status text not null default 'draft' check (status in
    ('draft', 'issued', 'partially_paid', 'paid', 'overdue', 'void', 'written_off')),
  paid_at timestamptz,
  pdf_url text,
  pdf_generated_at timestamptz,
  credit_note_for uuid references public.customer_invoices (id) on delete restrict,
  billing_cycle_id uuid references public.billing_cycles (id) on delete restrict,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint customer_invoices_id_customer_key unique (id, customer_id),
  constraint customer_invoices_vat_adds_up check (subtotal + vat_amount = total_amount),
  constraint customer_invoices_amount_paid_range check (
    amount_paid >= 0
    and (kind = 'credit_note' or (total_amount >= 0 and amount_paid <= total_amount))
  ),
  constraint customer_invoices_credit_note_negative check (kind <> 'credit_note' or total_amount <= 0),
  constraint customer_invoices_credit_note_reference
    check ((kind = 'credit_note') = (credit_note_for is not null)),
  constraint customer_invoices_due_after_date check (due_date >= invoice_date),
  constraint customer_invoices_period_order check (period_end >= period_start),
  constraint customer_invoices_recurring_has_period
    check (kind <> 'recurring' or (period_start is not null and period_end is not null))
);

-- exactly one recurring invoice per customer per billing period
create unique index customer_invoices_recurring_period_key
  on public.customer_invoices (customer_id, period_start) where kind = 'recurring';
create index customer_invoices_customer_date_idx on public.customer_invoices (customer_id, invoice_date desc);
create index customer_invoices_status_due_idx on public.customer_invoices (status, due_date);
create index customer_invoices_credit_note_for_idx on public.customer_invoices (credit_note_for)
  where credit_note_for is not null;

alter table public.billing_cycles
  add constraint billing_cycles_invoice_id_fkey
  foreign key (invoice_id) references public.customer_invoices (id) on delete restrict;

create trigger customer_invoices_set_updated_at
  before update on public.customer_invoices
  for each row execute function public.set_updated_at();

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
    new.invoice_number := public.format_document_number('INV', v_year, public.next_number('invoice', v_year));
  end if;
  return new;
end
$$;

create trigger customer_invoices_assign_number
  before insert on public.customer_invoices
  for each row execute function public.assign_invoice_number();

create or replace function public.protect_issued_invoice() returns trigger
language plpgsql
as $$
begin
  if tg_op = 'DELETE' then
    if old.status <> 'draft' then
      raise exception 'invoice % is % and cannot be deleted', old.invoice_number, old.status
        using errcode = '55000', hint = 'Correct it with a credit note.';
    end if;
    return old;
  end if;

  if old.status <> 'draft' then
    if new.status = 'draft' then
      raise exception 'invoice % is % and cannot return to draft', old.invoice_number, old.status
        using errcode = '55000';
    end if;
    if (new.invoice_number, new.invoice_date, new.due_date, new.period_start, new.period_end,
        new.subtotal, new.vat_rate, new.vat_amount, new.total_amount, new.customer_id, new.kind,
        new.credit_note_for)
       is distinct from
       (old.invoice_number, old.invoice_date, old.due_date, old.period_start, old.period_end,
        old.subtotal, old.vat_rate, old.vat_amount, old.total_amount, old.customer_id, old.kind,
        old.credit_note_for) then
      raise exception 'invoice % is % : its number, dates and amounts cannot change',
        old.invoice_number, old.status
        using errcode = '55000', hint = 'Correct it with a credit note.';
    end if;
  end if;
  return new;
end
$$;

create trigger customer_invoices_protect_issued
  before update or delete on public.customer_invoices
  for each row execute function public.protect_issued_invoice();

create table public.invoice_line_items (
  id uuid primary key default gen_random_uuid(),
  invoice_id uuid not null references public.customer_invoices (id) on delete cascade,
  service_id uuid references public.customer_services (id) on delete restrict,
  kind text not null check (kind in
    ('recurring', 'pro_rata', 'installation', 'equipment', 'adjustment', 'once_off', 'credit')),
  description text not null check (btrim(description) <> ''),
  quantity numeric(12,3) not null default 1 check (quantity > 0),
  unit_amount numeric(12,2) not null,
  amount numeric(12,2) not null,
  period_start date,
  period_end date,
  source jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint invoice_line_items_period_order check (period_end >= period_start),
  constraint invoice_line_items_credit_negative check (kind <> 'credit' or amount <= 0)
);

create index invoice_line_items_invoice_id_idx on public.invoice_line_items (invoice_id);
create index invoice_line_items_service_id_idx on public.invoice_line_items (service_id);

create trigger invoice_line_items_set_updated_at
  before update on public.invoice_line_items
  for each row execute function public.set_updated_at();

-- Lines of an invoice that is no longer a draft cannot be added, changed or removed. (A draft's
-- deletion cascades to its lines: the invoice row is already gone then, so they are let through.)
create or replace function public.protect_issued_invoice_lines() returns trigger
language plpgsql
security definer
set search_path = public
as $$
declare
  v_invoice_ids uuid[];
  v_blocked text;
begin
  v_invoice_ids := case tg_op
    when 'INSERT' then array[new.invoice_id]
    when 'DELETE' then array[old.invoice_id]
    else array[old.invoice_id, new.invoice_id]
  end;
  select string_agg(i.invoice_number || ' (' || i.status || ')', ', ') into v_blocked
  from public.customer_invoices i
  where i.id = any (v_invoice_ids) and i.status <> 'draft';
  if v_blocked is not null then
    raise exception 'lines of invoice % cannot change once it is no longer a draft', v_blocked
      using errcode = '55000', hint = 'Correct it with a credit note.';
  end if;
  if tg_op = 'DELETE' then
    return old;
  end if;
  return new;
end
$$;

create trigger invoice_line_items_protect_issued
  before insert or update or delete on public.invoice_line_items
  for each row execute function public.protect_issued_invoice_lines();
