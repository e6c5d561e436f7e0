-- The ledger: every movement of money on a customer's account is one append-only row, and an invoice's
-- paid, credited and written-off amounts, its status, and the customer's credit balance are derived from
-- those rows in one place (ledger_refresh, reading ledger_invoice_figures() and ledger_source_balances()).
--
-- Money comes onto the account from a source row: `receipt` (a payment received: an EFT, cash, a debit
-- order), `credit_note` (a credit note issued) or `opening_balance` (credit held before the ledger existed).
-- It leaves a source by rows naming it (source_id): `allocation` (to an invoice; negative: given back to
-- the source), `receipt_reversal` (the payment was undone: a dispute, a bounce after a paid line, an
-- admin's reversal), `refund` (paid back to the customer) and `legacy_use` (credit spent, before the
-- ledger, as an "Account credit applied" line on an invoice). `write_off` names an invoice only (negative:
-- a payment that later landed reversed it as far as it paid).
--
-- available(source) = source.amount - sum(amount of the rows naming it); never negative (checked by
-- ledger_refresh). credit_balance = sum of available over the customer's sources.

create table public.ledger_entries (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null references public.customers (id) on delete restrict,
  kind text not null check (kind in ('receipt', 'credit_note', 'opening_balance', 'allocation',
                                     'receipt_reversal', 'refund', 'legacy_use', 'write_off')),
  amount numeric(12,2) not null check (amount <> 0),
  source_id uuid references public.ledger_entries (id) on delete restrict,
  invoice_id uuid references public.customer_invoices (id) on delete restrict,
  transaction_id uuid references public.payment_transactions (id) on delete restrict,
  credit_note_id uuid references public.customer_invoices (id) on delete restrict,
  -- allocation: 'payment' (a payment on the invoice it was made for), 'credit_note' (a note on the invoice
  -- it credits), 'account_credit' (money on account applied to another invoice), 'migration'.
  via text check (via in ('payment', 'credit_note', 'account_credit', 'migration')),
  -- why, when it is not plain: e.g. 'settled_invoice' (a payment that found nothing owed on its invoice).
  note text,
  entry_date date not null default (now() at time zone 'Africa/Johannesburg')::date,
  created_at timestamptz not null default clock_timestamp(),
  constraint ledger_entries_shape check (
    case kind
      when 'receipt' then amount > 0 and transaction_id is not null and source_id is null
      when 'credit_note' then amount > 0 and credit_note_id is not null and source_id is null
      when 'opening_balance' then amount > 0 and source_id is null and invoice_id is null
      when 'allocation' then source_id is not null and invoice_id is not null and via is not null
      when 'write_off' then invoice_id is not null and source_id is null
      else amount > 0 and source_id is not null
    end
  )
);

create unique index ledger_entries_one_receipt_key on public.ledger_entries (transaction_id)
  where kind = 'receipt';
create unique index ledger_entries_one_credit_note_key on public.ledger_entries (credit_note_id)
  where kind = 'credit_note';
create unique index ledger_entries_one_reversal_key on public.ledger_entries (source_id)
  where kind = 'receipt_reversal';
create index ledger_entries_customer_idx on public.ledger_entries (customer_id, created_at, id);
create index ledger_entries_source_idx on public.ledger_entries (source_id) where source_id is not null;
create index ledger_entries_invoice_idx on public.ledger_entries (invoice_id) where invoice_id is not null;
create index ledger_entries_transaction_idx on public.ledger_entries (transaction_id)
  where transaction_id is not null;
create index ledger_entries_credit_note_idx on public.ledger_entries (credit_note_id)
  where credit_note_id is not null;

create trigger ledger_entries_append_only
  before update or delete on public.ledger_entries
  for each row execute function public.refuse_append_only_change();
create trigger ledger_entries_no_truncate
  before truncate on public.ledger_entries
  for each statement execute function public.refuse_append_only_change();

alter table public.ledger_entries enable row level security;
revoke all on public.ledger_entries from public, anon, authenticated, api_customer, service_role;
grant select, insert on public.ledger_entries to service_role;
create policy ledger_entries_no_update on public.ledger_entries as restrictive for update using (false);
create policy ledger_entries_no_delete on public.ledger_entries as restrictive for delete using (false);

-- The money on account applied to an invoice, shown below its total ("Less: account credit applied") on
-- the API and the PDF; written by ledger_refresh only, like amount_paid and amount_credited.
alter table public.customer_invoices
  add column account_credit_applied numeric(12,2) not null default 0
    constraint customer_invoices_account_credit_applied_range check (account_credit_applied >= 0);
grant select (account_credit_applied) on public.customer_invoices to authenticated;

-- Per source (receipt, credit note, opening balance) of the given customers: what of it is still on account.
-- Functions, not views: the Data API exposes `public`, and a function is refused to its roles by privilege
-- like a table, where a view that cannot take writes answers a write with another error first. Each reads by
-- the customer and source_id indexes, never the whole ledger.
create or replace function public.ledger_source_balances(p_customers uuid[])
returns table (id uuid, customer_id uuid, kind text, amount numeric, created_at timestamptz, transaction_id uuid,
               credit_note_id uuid, invoice_id uuid, available numeric)
language sql
stable
set search_path = public, pg_catalog
as $$
  select s.id, s.customer_id, s.kind, s.amount, s.created_at, s.transaction_id, s.credit_note_id, s.invoice_id,
         s.amount - coalesce((select sum(u.amount) from public.ledger_entries u where u.source_id = s.id), 0)
    from public.ledger_entries s
   where s.customer_id = any (p_customers) and s.kind in ('receipt', 'credit_note', 'opening_balance')
$$;

-- Per invoice (of those given that have ledger rows): what its allocations and write-offs add up to.
-- `paid`: allocations of payments (receipts, opening balances); `credited`: allocations of credit notes;
-- `account_credit`: the part of both that is money on account applied to this invoice (shown as "Less:
-- account credit applied"); `noted`: what its own credit notes settled.
create or replace function public.ledger_invoice_figures(p_invoices uuid[])
returns table (invoice_id uuid, paid numeric, credited numeric, written_off numeric, account_credit numeric,
               noted numeric)
language sql
stable
set search_path = public, pg_catalog
as $$
  select a.invoice_id,
         coalesce(sum(a.amount) filter (where a.kind = 'allocation' and s.kind <> 'credit_note'), 0),
         coalesce(sum(a.amount) filter (where a.kind = 'allocation' and s.kind = 'credit_note'), 0),
         coalesce(sum(a.amount) filter (where a.kind = 'write_off'), 0),
         coalesce(sum(a.amount) filter (where a.kind = 'allocation' and a.via = 'account_credit'), 0),
         coalesce(sum(a.amount) filter (where a.kind = 'allocation' and a.via = 'credit_note'), 0)
    from public.ledger_entries a
    left join public.ledger_entries s on s.id = a.source_id
   where a.invoice_id = any (p_invoices) and a.kind in ('allocation', 'write_off')
   group by a.invoice_id
$$;

revoke execute on function public.ledger_source_balances(uuid[]), public.ledger_invoice_figures(uuid[])
  from public, anon, authenticated;
grant execute on function public.ledger_source_balances(uuid[]), public.ledger_invoice_figures(uuid[])
  to service_role;

-- The one place an invoice's figures and status and a customer's credit balance are written: from the
-- ledger. Status: nothing due -> paid; written off -> written_off; something paid -> partially_paid (an
-- overdue one stays overdue); nothing paid: issued and overdue stay as they are (the overdue job moves
-- issued -> overdue), a paid one whose payments went back is overdue past its due date, else issued.
-- Drafts, voids and credit notes keep theirs.
create or replace function public.ledger_refresh(p_invoices uuid[], p_customers uuid[], p_today date)
returns void
language plpgsql
set search_path = public, pg_catalog
as $$
declare
  v_bad uuid;
begin
  select s.id into v_bad from public.ledger_source_balances(p_customers) s where s.available < 0 limit 1;
  if v_bad is not null then
    raise exception 'ledger source % would be used beyond its amount', v_bad using errcode = 'check_violation';
  end if;
  update public.customer_invoices i
     set amount_paid = f.paid,
         amount_credited = f.credited,
         account_credit_applied = f.account_credit,
         amount_written_off = case when f.written_off <> 0 then f.written_off
                                   when i.status = 'written_off' and i.total_amount - f.paid - f.credited > 0
                                     then i.amount_written_off end,
         status = f.status,
         paid_at = case when f.status = 'paid' then coalesce(case when i.status = 'paid' then i.paid_at end, now())
                   end
    from (
      select i2.id, coalesce(x.paid, 0) as paid, coalesce(x.credited, 0) as credited,
             coalesce(x.account_credit, 0) as account_credit,
             coalesce(x.written_off, 0) as written_off,
             case
               when i2.status in ('draft', 'void') or i2.kind = 'credit_note' then i2.status
               when i2.total_amount - coalesce(x.paid, 0) - coalesce(x.credited, 0) <= 0 then 'paid'
               when coalesce(x.written_off, 0) > 0 then 'written_off'
               when coalesce(x.paid, 0) > 0 then case when i2.status = 'overdue' then 'overdue'
                                                      else 'partially_paid' end
               when i2.status in ('issued', 'overdue') then i2.status
               when i2.due_date < p_today then 'overdue'
               else 'issued'
             end as status
        from public.customer_invoices i2
        left join public.ledger_invoice_figures(p_invoices) x on x.invoice_id = i2.id
       where i2.id = any (p_invoices)
    ) f
   where i.id = f.id
     and (i.amount_paid, i.amount_credited, i.status, coalesce(i.amount_written_off, 0),
          i.account_credit_applied)
         is distinct from (f.paid, f.credited, f.status, f.written_off, f.account_credit);
  update public.customer_billing b
     set credit_balance = coalesce(x.balance, 0)
    from (select c.customer_id, sum(s.available) as balance
            from unnest(p_customers) as c (customer_id)
            left join public.ledger_source_balances(p_customers) s on s.customer_id = c.customer_id
           group by c.customer_id) x
   where b.customer_id = x.customer_id and b.credit_balance is distinct from coalesce(x.balance, 0);
end
$$;

revoke execute on function public.ledger_refresh(uuid[], uuid[], date) from public, anon, authenticated;
grant execute on function public.ledger_refresh(uuid[], uuid[], date) to service_role;

-- Existing money into the ledger (also called by the test that proves the figures survive it); returns
-- how many rows it wrote. For each customer not in the ledger yet:
--   receipts: every successful or reversed payment or collection (a reversed one with its reversal);
--   allocations of payments: each invoice's amount_paid, from its own successful payments, oldest first
--     (what they cannot cover: from an opening balance);
--   credit notes, and each invoice's amount_credited allocated from its own notes, oldest first;
--   write-offs: amount_written_off;
--   the credit balance: what is left unallocated is compared with customer_billing.credit_balance; a
--     shortfall is an opening balance, an excess was spent on "Account credit applied" lines (legacy_use).
create or replace function public.ledger_migrate_existing()
returns int
language plpgsql
set search_path = public, pg_catalog
as $$
declare
  v_customers uuid[];
begin
  select coalesce(array_agg(b.customer_id), '{}') into v_customers
    from public.customer_billing b
   where not exists (select 1 from public.ledger_entries e where e.customer_id = b.customer_id);

  -- Receipts: payments that brought money in (a reversed one too: its reversal follows).
  insert into public.ledger_entries (customer_id, kind, amount, transaction_id, invoice_id, entry_date,
                                     created_at)
  select t.customer_id, 'receipt', t.amount, t.id, t.invoice_id,
         coalesce(t.action_date, (coalesce(t.processed_at, t.created_at) at time zone 'Africa/Johannesburg')::date),
         coalesce(t.processed_at, t.created_at)
    from public.payment_transactions t
   where t.customer_id = any (v_customers) and t.kind in ('collection', 'payment')
     and t.status in ('successful', 'reversed') and t.amount > 0;

  -- Credit notes.
  insert into public.ledger_entries (customer_id, kind, amount, credit_note_id, invoice_id, entry_date,
                                     created_at)
  select n.customer_id, 'credit_note', -n.total_amount, n.id, n.credit_note_for, n.invoice_date, n.created_at
    from public.customer_invoices n
   where n.customer_id = any (v_customers) and n.kind = 'credit_note' and n.total_amount < 0;

  -- A shortfall in what the invoices' own payments cover: an opening balance (created first).
  insert into public.ledger_entries (customer_id, kind, amount, note, created_at)
  select x.customer_id, 'opening_balance', x.missing, 'migrated: paid on invoices beyond their payments',
         '-infinity'::timestamptz
    from (
      select i.customer_id, sum(greatest(i.amount_paid - coalesce(p.received, 0), 0)) as missing
        from public.customer_invoices i
        left join (select e.invoice_id, sum(e.amount) as received from public.ledger_entries e
                    join public.payment_transactions t on t.id = e.transaction_id
                   where e.kind = 'receipt' and t.status = 'successful' group by e.invoice_id) p
          on p.invoice_id = i.id
       where i.customer_id = any (v_customers) and i.kind <> 'credit_note'
       group by i.customer_id
    ) x
   where x.missing > 0;

  -- Each invoice's amount_paid from its own successful receipts, oldest first, then the opening balance.
  insert into public.ledger_entries (customer_id, kind, amount, source_id, invoice_id, via, created_at)
  select r.customer_id, 'allocation', r.take, r.source_id, r.invoice_id, r.via, r.created_at
    from (
      select c.*, least(c.amount, c.wanted - (c.running - c.amount)) as take
        from (
          select s.id as source_id, i.customer_id, i.id as invoice_id, i.amount_paid as wanted, s.amount,
                 s.created_at, case when s.kind = 'receipt' then 'payment' else 'migration' end as via,
                 sum(s.amount) over (partition by i.id order by s.kind = 'opening_balance', s.created_at, s.id)
                   as running
            from public.customer_invoices i
            join public.ledger_entries s
              on s.customer_id = i.customer_id
             and ((s.kind = 'receipt' and s.invoice_id = i.id
                   and exists (select 1 from public.payment_transactions t
                                where t.id = s.transaction_id and t.status = 'successful'))
                  or s.kind = 'opening_balance')
           where i.customer_id = any (v_customers) and i.kind <> 'credit_note' and i.amount_paid > 0
        ) c
       where c.running - c.amount < c.wanted
    ) r
   where r.take > 0;

  -- Each invoice's amount_credited from its own credit notes, oldest first.
  insert into public.ledger_entries (customer_id, kind, amount, source_id, invoice_id, via, created_at)
  select r.customer_id, 'allocation', r.take, r.source_id, r.invoice_id, 'credit_note', r.created_at
    from (
      select c.*, least(c.amount, c.wanted - (c.running - c.amount)) as take
        from (
          select s.id as source_id, i.customer_id, i.id as invoice_id, i.amount_credited as wanted, s.amount,
                 s.created_at, sum(s.amount) over (partition by i.id order by s.created_at, s.id) as running
            from public.customer_invoices i
            join public.ledger_entries s on s.kind = 'credit_note' and s.invoice_id = i.id
           where i.customer_id = any (v_customers) and i.amount_credited > 0
        ) c
       where c.running - c.amount < c.wanted
    ) r
   where r.take > 0;

  -- Reversed payments: their reversal (after their allocations, which the amount_paid above left out).
  insert into public.ledger_entries (customer_id, kind, amount, source_id, transaction_id, created_at)
  select s.customer_id, 'receipt_reversal', s.amount - coalesce(u.used, 0), s.id, r.id,
         coalesce(r.processed_at, r.created_at)
    from public.ledger_entries s
    join public.payment_transactions t on t.id = s.transaction_id and t.status = 'reversed'
    left join public.payment_transactions r on r.original_transaction_id = t.id and r.kind = 'reversal'
    left join (select source_id, sum(amount) as used from public.ledger_entries
                where source_id is not null group by source_id) u on u.source_id = s.id
   where s.kind = 'receipt' and s.customer_id = any (v_customers) and s.amount - coalesce(u.used, 0) > 0;

  -- Write-offs.
  insert into public.ledger_entries (customer_id, kind, amount, invoice_id, created_at)
  select i.customer_id, 'write_off', i.amount_written_off, i.id, i.updated_at
    from public.customer_invoices i
   where i.customer_id = any (v_customers) and i.amount_written_off > 0;

  -- The credit balance: top up to it (opening balance), or take the excess as spent (legacy_use), oldest
  -- sources first (credit is spent oldest first, so the newest money is what is left).
  insert into public.ledger_entries (customer_id, kind, amount, note, created_at)
  select b.customer_id, 'opening_balance', b.credit_balance - coalesce(a.available, 0),
         'migrated: credit balance held before the ledger', '-infinity'::timestamptz
    from public.customer_billing b
    left join (select x.customer_id, sum(x.available) as available
                 from public.ledger_source_balances(v_customers) x group by x.customer_id) a
      on a.customer_id = b.customer_id
   where b.customer_id = any (v_customers) and b.credit_balance > coalesce(a.available, 0);

  insert into public.ledger_entries (customer_id, kind, amount, source_id, note, created_at)
  select r.customer_id, 'legacy_use', r.take, r.id, 'migrated: used as an account credit line', r.created_at
    from (
      select c.*, least(c.available, c.excess - (c.running - c.available)) as take
        from (
          select s.id, s.customer_id, s.available, s.created_at,
                 a.available_total - b.credit_balance as excess,
                 sum(s.available) over (partition by s.customer_id order by s.created_at, s.id) as running
            from public.ledger_source_balances(v_customers) s
            join public.customer_billing b on b.customer_id = s.customer_id
            join (select x.customer_id, sum(x.available) as available_total
                    from public.ledger_source_balances(v_customers) x group by x.customer_id) a
              on a.customer_id = s.customer_id
           where s.customer_id = any (v_customers) and s.available > 0
             and a.available_total > b.credit_balance
        ) c
       where c.running - c.available < c.excess
    ) r
   where r.take > 0;

  return (select count(*) from public.ledger_entries e where e.customer_id = any (v_customers));
end
$$;

revoke execute on function public.ledger_migrate_existing() from public, anon, authenticated, service_role;

select public.ledger_migrate_existing();
