-- billing_cycles (customer_id) duplicates the leading column of the unique (customer_id, period_start)
-- index, which serves every lookup by customer (the billing run's "already billed" and "due" checks, the
-- customers foreign key's ON DELETE RESTRICT check). The billing run inserts a cycle per customer per
-- period, so the extra index cost a random leaf page per row; the planner also preferred it for the run's
-- (customer, period) check and then read every past cycle of the customer.
drop index if exists public.billing_cycles_customer_id_idx;
