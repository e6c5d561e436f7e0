-- Credit notes draw their numbers (CRN-YYYY-NNNNN) from a counter kind of their own.
alter table public.number_counters drop constraint number_counters_kind_check;
alter table public.number_counters
  add constraint number_counters_kind_check check (kind in ('customer', 'invoice', 'credit_note'));
