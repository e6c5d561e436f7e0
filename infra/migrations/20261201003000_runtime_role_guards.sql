-- The runtime login role (isp_billing_runtime, created by `isp-billing create-runtime-role`) owns nothing and
-- acts only as `authenticated` or `service_role`. What those two roles could still do to history is closed
-- here, so that issued invoices, their lines, payment rows and the audit log change only through the rules:
--
-- * TRUNCATE skips row triggers, and `grant all` gave it to service_role on every table: revoked on every
--   table (the code never truncates), with TRIGGER (creating triggers) and REFERENCES (foreign keys on our
--   tables), neither of which the code needs. Default privileges follow for tables created later.
-- * A statement-level TRUNCATE guard on the invoice and payment tables as well (the audit log has one since
--   20261125000500), for any role that is ever granted TRUNCATE by mistake.
-- * payment_transactions had no guard at all: a payment row is never deleted, its customer, invoice,
--   payment method, amount, kind, provider and original transaction never change, its provider reference
--   once set stays, and its status moves forward only (pending -> submitted -> successful | failed,
--   successful -> reversed).
-- The owner can still disable these triggers; that is why the code does not connect as the owner.

revoke truncate, trigger, references on all tables in schema public from public, anon, authenticated, service_role;
alter default privileges in schema public revoke truncate, trigger, references on tables from anon, authenticated,
  service_role;

create or replace function public.refuse_truncate() returns trigger
language plpgsql
set search_path = pg_catalog
as $$
begin
  raise exception '% keeps issued history: TRUNCATE refused', tg_table_name
    using errcode = '55000', hint = 'Correct invoices with credit notes and payments with reversals.';
end
$$;

revoke execute on function public.refuse_truncate() from public, anon, authenticated;

create trigger customer_invoices_no_truncate
  before truncate on public.customer_invoices
  for each statement execute function public.refuse_truncate();

create trigger invoice_line_items_no_truncate
  before truncate on public.invoice_line_items
  for each statement execute function public.refuse_truncate();

create trigger payment_transactions_no_truncate
  before truncate on public.payment_transactions
  for each statement execute function public.refuse_truncate();

create or replace function public.protect_payment_transaction() returns trigger
language plpgsql
set search_path = pg_catalog
as $$
begin
  if tg_op = 'DELETE' then
    raise exception 'payment % is history and cannot be deleted', old.id
      using errcode = '55000', hint = 'Record a reversal or a refund instead.';
  end if;
  if (new.id, new.customer_id, new.invoice_id, new.payment_method_id, new.original_transaction_id,
      new.amount, new.kind, new.provider, new.created_at)
     is distinct from
     (old.id, old.customer_id, old.invoice_id, old.payment_method_id, old.original_transaction_id,
      old.amount, old.kind, old.provider, old.created_at) then
    raise exception 'payment %: its customer, invoice, method, amount, kind and provider cannot change', old.id
      using errcode = '55000', hint = 'Record a reversal or a refund instead.';
  end if;
  if old.provider_reference is not null and new.provider_reference is distinct from old.provider_reference then
    raise exception 'payment %: its provider reference cannot change once set', old.id
      using errcode = '55000';
  end if;
  if new.status <> old.status and not (
       (old.status = 'pending' and new.status in ('submitted', 'successful', 'failed'))
    or (old.status = 'submitted' and new.status in ('successful', 'failed'))
    or (old.status = 'successful' and new.status = 'reversed')
  ) then
    raise exception 'payment % cannot move from % to %', old.id, old.status, new.status
      using errcode = '55000';
  end if;
  return new;
end
$$;

revoke execute on function public.protect_payment_transaction() from public, anon, authenticated;

create trigger payment_transactions_protect_history
  before update or delete on public.payment_transactions
  for each row execute function public.protect_payment_transaction();
