-- Mandate status jobs: expire-unsigned-mandates finds pending debit-order mandates by age every night.
-- Pending mandates are few (most are signed within days), so a small partial index keeps that UPDATE from
-- reading the whole table as it grows.

create index customer_payment_methods_pending_mandate_created_idx
  on public.customer_payment_methods (created_at)
  where method_type = 'debit_order' and mandate_status = 'pending';
