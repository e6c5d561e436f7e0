-- The debit-order claim inserts one payment_transactions row per collection (100,000 at month end). Each
-- insert paid a customer_id -> customers key check: a trigger call per row that reads the customer and
-- locks it FOR KEY SHARE (a heap write and WAL on every customer row of the batch). For every row that
-- names an invoice or a payment method the check is implied: the composite keys (invoice_id, customer_id)
-- -> customer_invoices (id, customer_id) and (payment_method_id, customer_id) -> customer_payment_methods
-- (id, customer_id) prove the pair, and invoices and methods have their own key to customers. Collections,
-- payments and reversals always name an invoice, so only a row naming neither (a refund of credit paid to no
-- stored method, say) still needs the customer checked: a trigger whose WHEN clause skips every other row
-- without a function call. A customer that a payment names still cannot be deleted: refused below, as the
-- key's ON DELETE RESTRICT did (customers are never deleted by the application; the check reads the
-- customer_id index, one probe per deleted customer).
alter table public.payment_transactions drop constraint payment_transactions_customer_id_fkey;

create or replace function public.payment_transactions_customer_exists() returns trigger
language plpgsql
security definer
set search_path = public
as $$
begin
  perform 1 from public.customers where id = new.customer_id for key share;
  if not found then
    raise exception 'customer % does not exist', new.customer_id
      using errcode = '23503', hint = 'A payment names an existing customer.';
  end if;
  return new;
end
$$;
revoke all on function public.payment_transactions_customer_exists() from public;

create trigger payment_transactions_customer_exists
  before insert or update of customer_id, invoice_id, payment_method_id on public.payment_transactions
  for each row when (new.invoice_id is null and new.payment_method_id is null)
  execute function public.payment_transactions_customer_exists();

create or replace function public.refuse_delete_of_paying_customer() returns trigger
language plpgsql
security definer
set search_path = public
as $$
begin
  if exists (select 1 from public.payment_transactions where customer_id = old.id) then
    raise exception 'customer % has payments and cannot be deleted', old.id
      using errcode = '23503', hint = 'Nothing financial is ever deleted.';
  end if;
  return old;
end
$$;
revoke all on function public.refuse_delete_of_paying_customer() from public;

create trigger customers_keep_paying
  before delete on public.customers
  for each row execute function public.refuse_delete_of_paying_customer();
