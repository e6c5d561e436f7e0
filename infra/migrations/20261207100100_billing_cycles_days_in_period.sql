-- A recorded billing period's pro-rata basis: the days of the billing-day period it was billed as part of.
-- Null: the period's own length (every period recorded before billing-day changes were possible). A period
-- shortened by a billing-day change keeps the basis it was billed with; a bridging period has the days of
-- the new billing day's period that holds it.
alter table public.billing_cycles
  add column days_in_period integer check (days_in_period between 1 and 31);
