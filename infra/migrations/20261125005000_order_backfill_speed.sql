-- Order backfill speed: consumer_orders' UPDATE of customer_id/service_id becomes a HOT update (no index
-- entries to write), and customers inserted with an account number skip the numbering trigger.

-- Indexes nothing uses: matching compares the orders' normalised email/phone with customers' (the raw
-- text indexes cannot serve that), the backfill reads orders in id order through the primary key (the
-- partial index's predicate is one arm of an OR, so it is never chosen) and no query looks orders up by
-- auth user. Each was written for every order the backfill links, and the partial index's predicate on
-- customer_id alone made every link a non-HOT update.
-- consumer_orders_customer_id_idx goes too, so the link (customer_id from null to the customer) is HOT:
-- its only reader is the ON DELETE RESTRICT check when a customer row is deleted, which customers with
-- any history never are (money and audit rows restrict it too); that rare delete scans the orders instead.
drop index public.consumer_orders_email_idx;
drop index public.consumer_orders_phone_idx;
drop index public.consumer_orders_auth_user_id_idx;
drop index public.consumer_orders_unlinked_idx;
drop index public.consumer_orders_customer_id_idx;

-- Room on each page for the linked row version, so the link stays on its page (HOT).
alter table public.consumer_orders set (fillfactor = 70);

-- The trigger's body does nothing when the number is given (the backfill reserves a block): skip the call.
drop trigger customers_assign_account_number on public.customers;

create trigger customers_assign_account_number
  before insert on public.customers
  for each row
  when (new.account_number is null)
  execute function public.assign_customer_account_number();
