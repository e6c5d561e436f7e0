-- The usage sync writes millions of rows: each foreign key is a trigger call per row. The composite key
-- (service_id, customer_id) -> customer_services already proves both the service and its customer exist
-- (customer_services.customer_id references customers, ON DELETE RESTRICT), so the two single-column keys
-- check nothing more and are dropped. History is still never cascaded away (the composite key restricts).
alter table public.usage_history drop constraint if exists usage_history_customer_id_fkey;
alter table public.usage_history drop constraint if exists usage_history_service_id_fkey;
