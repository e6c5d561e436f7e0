-- The debit-order run's selection calls debit_date_on_or_after once per due invoice (100,000 in a big run).
-- As first written (20261202006000) it could not be inlined: a `set search_path` clause and a FROM in its
-- body both stop PostgreSQL from folding a SQL function into the calling query, so each row paid a
-- function call. Same result for every input (NULLs included), now one expression without FROM and
-- without SET; names are schema-qualified instead, and date_trunc works on timestamp (immutable), not
-- timestamptz. Still not STRICT (see 20261202006000: a strict call with a NULL constant is folded before
-- the EXECUTE check). Grants as before: EXECUTE for service_role only.
create or replace function public.debit_date_on_or_after(day date, debit_day int) returns date
language sql immutable
as $$
  select case
    -- The debit day of this month (or its last day) is still on or after `day`: that date.
    when least(debit_day, pg_catalog.date_part('day', pg_catalog.date_trunc('month', day::timestamp)
                                      + interval '1 month' - interval '1 day')::int)
         >= pg_catalog.date_part('day', day)::int
    then (pg_catalog.date_trunc('month', day::timestamp)::date
          + least(debit_day, pg_catalog.date_part('day', pg_catalog.date_trunc('month', day::timestamp)
                                         + interval '1 month' - interval '1 day')::int) - 1)
    -- Otherwise the debit day of next month (or its last day).
    else ((pg_catalog.date_trunc('month', day::timestamp) + interval '1 month')::date
          + least(debit_day, pg_catalog.date_part('day', pg_catalog.date_trunc('month', day::timestamp)
                                         + interval '2 month' - interval '1 day')::int) - 1)
  end
$$;

revoke execute on function public.debit_date_on_or_after(date, int) from public, anon, authenticated;
grant execute on function public.debit_date_on_or_after(date, int) to service_role;
