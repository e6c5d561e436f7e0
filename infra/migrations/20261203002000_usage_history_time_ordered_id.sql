-- usage_history gains ~1,000 rows per service per back-fill and ~3 per service per day. Its random
-- gen_random_uuid() ids put every primary-key entry on a random leaf page: once the index outgrows the
-- buffer cache each insert reads a page, and after a checkpoint each first touch of a page writes an 8 kB
-- full-page image to the WAL. A time-ordered id (the UUIDv7 layout of isp_billing/ids.py: 48-bit Unix
-- milliseconds, then version, variant and 74 random bits) lands on the rightmost pages. The id stays the
-- key the Data API shows; only how a new one is drawn changes.
--
-- One expression without FROM or SET, so the planner folds it into the inserting statement (no function
-- call per row). overlay/substring are SQL syntax the parser binds to pg_catalog; the rest is
-- schema-qualified. date_part (double precision) rather than extract (numeric since PostgreSQL 14):
-- cheaper per row, and exact to the millisecond for centuries.
create function public.time_ordered_uuid() returns uuid
language sql volatile parallel safe
as $$
  select pg_catalog.encode(
           pg_catalog.set_bit(pg_catalog.set_bit(
             overlay(pg_catalog.uuid_send(pg_catalog.gen_random_uuid())
                     placing substring(pg_catalog.int8send(
                               (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000)::bigint)
                               from 3)
                     from 1 for 6),
             52, 1), 53, 1),
           'hex')::uuid
$$;

revoke execute on function public.time_ordered_uuid() from public, anon, authenticated;
grant execute on function public.time_ordered_uuid() to service_role;

alter table public.usage_history alter column id set default public.time_ordered_uuid();
