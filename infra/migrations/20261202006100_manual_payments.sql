-- Manual payments (EFT, cash) recorded by billing admins are payment_transactions of the new kind `payment`:
-- an invoice may receive several (partial payments), so they are not `collection`s, whose partial unique
-- index (at most one live debit-order collection per invoice) stays as it is.
alter table public.payment_transactions drop constraint payment_transactions_kind_check;
alter table public.payment_transactions add constraint payment_transactions_kind_check
  check (kind in ('collection', 'refund', 'reversal', 'payment'));
alter table public.payment_transactions add column recorded_by uuid references public.admin_users (id)
  on delete restrict;
create index payment_transactions_created_at_idx on public.payment_transactions (created_at desc, id desc);
