-- An admin may reverse a manual (EFT/cash) payment entered by mistake (POST /api/admin/payments/{id}/reverse),
-- through the reconciliation's reversal: a new `reversal` row naming the original, the original `reversed`.
-- 1. A payment is undone at most once, whoever undoes it (a late bank dispute, an admin, two admins at once):
--    one reversal row per original, as a database rule rather than a check in code.
create unique index payment_transactions_one_reversal_key
  on public.payment_transactions (original_transaction_id) where kind = 'reversal';
-- 2. The admin's reversal is recorded in the invoice's action log, with the invoice before and after.
alter table public.invoice_action_log drop constraint invoice_action_log_action_check;
alter table public.invoice_action_log add constraint invoice_action_log_action_check
  check (action in ('credit_note', 'void', 'write_off', 'payment_reversal'));
