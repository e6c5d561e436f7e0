"""The order backfill on its schedule: every 15 minutes, only orders created or changed since the last
completed run began; a run by hand still looks at every order."""

from __future__ import annotations

from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.main import main
from isp_billing_cli.template import function_by_id
from tests import order_fixtures


def _scheduled_run():
    handler = function_by_id("BackfillOrdersFunction").load_handler()
    return handler(scheduled_event("backfill-orders"), LambdaContext("BackfillOrdersFunction"))


def _unhandled(conn, ids):
    return conn.execute(
        "select count(*) as n from consumer_orders o where o.id = any(%s::uuid[]) and o.customer_id is null"
        " and not exists (select 1 from migration_review_queue q where q.consumer_order_id = o.id)"
        " and not exists (select 1 from validation_errors v where v.record_id = o.id)",
        ([str(i) for i in ids],),
    ).fetchone()["n"]


def test_a_scheduled_run_takes_only_the_orders_created_or_changed_since_the_last_completed_run(conn):
    # Given website orders loaded earlier, and a completed backfill run that began after they were written
    data = order_fixtures.generate(60, seed=11)
    order_fixtures.load(conn, data)
    conn.execute(
        "insert into cron_execution_log (job_name, trigger, status, execution_start, execution_end)"
        " values ('backfill-orders', 'schedule', 'completed', clock_timestamp(), clock_timestamp())"
    )
    ids = [order["id"] for order in data.orders]
    touched, untouched = ids[:5], ids[5:]
    # And five of the orders changed after that run (the website updated them)
    conn.execute(
        "update consumer_orders set phone = phone where id = any(%s::uuid[])", ([str(i) for i in touched],)
    )
    before_untouched = _unhandled(conn, untouched)
    # When the scheduled run comes
    run = _scheduled_run()
    # Then it looked only at what changed since: the five are handled, the others wait as they were
    assert run["status"] in ("completed", "partial"), run  # partial: some orders are validation errors
    assert run["details"]["changed_since"] is not None
    assert _unhandled(conn, touched) == 0
    assert _unhandled(conn, untouched) == before_untouched > 0
    # When the next scheduled run comes with nothing changed
    again = _scheduled_run()
    # Then it considers no order at all
    assert again["details"]["orders"] == 0 and again["details"]["changed_since"] is not None
    # When a person resolves a validation error of one of the waiting orders (recorded by an earlier run)
    waiting = next(order_id for order_id in untouched if _unhandled(conn, [order_id]) == 1)
    conn.execute(
        "insert into validation_errors (source, record_type, record_id, error_code, message, resolved_at)"
        " values ('order_backfill', 'consumer_order', %s, 'unknown_package', 'Resolved by hand', now())",
        (waiting,),
    )
    third = _scheduled_run()
    # Then the next scheduled run takes that order again, and only it
    assert third["details"]["orders"] == 1, third["details"]


def test_the_first_scheduled_run_looks_at_every_order(conn):
    # Given orders and no completed run yet
    data = order_fixtures.generate(30, seed=12)
    order_fixtures.load(conn, data)
    # When the first scheduled run comes
    run = _scheduled_run()
    # Then every order was handled
    assert run["status"] in ("completed", "partial") and run["details"]["changed_since"] is None
    assert _unhandled(conn, [order["id"] for order in data.orders]) == 0


def test_a_dry_run_does_not_count_as_the_last_run(conn, capsys):
    # Given orders and a dry run by hand (it writes nothing)
    data = order_fixtures.generate(30, seed=13)
    order_fixtures.load(conn, data)
    assert main(["backfill-orders", "--dry-run"]) == 0
    capsys.readouterr()
    # When the scheduled run comes
    run = _scheduled_run()
    # Then it looked at every order, as if no run had been
    assert run["details"]["changed_since"] is None
    assert _unhandled(conn, [order["id"] for order in data.orders]) == 0
