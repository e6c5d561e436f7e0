-- billing_cycles (status, billing_date) is read by no query: the billing run finds a customer's cycle by the
-- unique (customer_id, period_start) index, and nothing lists cycles by status or date (customers do not
-- read cycles). The run writes a cycle per customer per period, so the index only cost an entry per row.
drop index if exists public.billing_cycles_status_billing_date_idx;
