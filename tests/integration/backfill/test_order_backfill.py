"""The order backfill job against a real PostgreSQL: outcomes, idempotency, crash and re-run, the job lock."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from datetime import date
from typing import Any

import psycopg
import pytest

from isp_billing.backfill import orders as order_backfill
from isp_billing.clock import sast_today
from isp_billing.errors import JobAlreadyRunning, ValidationFailed
from isp_billing.jobs import run_job
from tests import order_fixtures
from tests.conftest import _truncate_all
from tests.factories import insert_customer

JOB = order_backfill.JOB_NAME
EXPECTED_KEYS = (
    "orders",
    "linked",
    "linked_by",
    "customers_created",
    "services_created",
    "linked_without_service",
    "review_queued",
    "validation_errors",
)


def backfill(**options: Any) -> dict[str, Any]:
    return run_job(JOB, order_backfill.run, trigger="manual", options=options)


def backfill_in_batches(size: int, hook: Any = None) -> dict[str, Any]:
    work = functools.partial(order_backfill.run, batch_size=size, after_batch=hook)
    return run_job(JOB, work, trigger="manual")


def outcome(details: dict[str, Any]) -> dict[str, Any]:
    return {key: details[key] for key in EXPECTED_KEYS}


def snapshot(conn: psycopg.Connection) -> dict[str, Any]:
    """Everything the backfill writes, without generated ids (customers are named by account number)."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(tuple(row.values()) for row in conn.execute(sql).fetchall())

    return {
        "customers": rows(
            "select account_number, email, phone, first_name, last_name, auth_user_id::text,"
            " physical_address::text from customers"
        ),
        "billing": rows(
            "select c.account_number, b.billing_day, b.payment_terms_days, b.invoice_email"
            " from customer_billing b join customers c on c.id = b.customer_id"
        ),
        "orders": rows(
            "select o.order_number, c.account_number, o.auth_user_id::text, s.package_name, s.status,"
            " s.monthly_price, s.activation_date, s.suspension_date, s.customer_id = o.customer_id"
            " from consumer_orders o left join customers c on c.id = o.customer_id"
            " left join customer_services s on s.id = o.service_id"
        ),
        "services": rows("select count(*), count(distinct consumer_order_id) from customer_services"),
        "suspensions": rows(
            "select o.order_number, x.suspension_type, x.pauses_billing from service_suspensions x"
            " join customer_services s on s.id = x.service_id"
            " join consumer_orders o on o.id = s.consumer_order_id"
        ),
        "errors": rows(
            "select record_ref, error_code, message, payload::text, resolved_at is null"
            " from validation_errors"
        ),
        "review": rows(
            "select o.order_number, q.reason, q.status,"
            " (select string_agg(c.account_number || ':' || (x ->> 'matched_on'), ','"
            "                    order by c.account_number)"
            "    from jsonb_array_elements(q.candidates) x"
            "    join customers c on c.id = (x ->> 'customer_id')::uuid)"
            " from migration_review_queue q join consumer_orders o on o.id = q.consumer_order_id"
        ),
        "counters": rows("select kind, year, last_value from number_counters"),
    }


def business_tables(conn: psycopg.Connection) -> dict[str, int]:
    tables = [
        "customers",
        "customer_billing",
        "customer_services",
        "service_suspensions",
        "validation_errors",
        "migration_review_queue",
        "number_counters",
    ]
    counts = {t: conn.execute(f"select count(*) as n from {t}").fetchone()["n"] for t in tables}
    counts["linked_orders"] = conn.execute(
        "select count(*) as n from consumer_orders where customer_id is not null"
    ).fetchone()["n"]
    return counts


@pytest.fixture(scope="module")
def dataset() -> order_fixtures.Dataset:
    return order_fixtures.generate(10_000)


# --- normalisation and status mapping (SQL functions) -------------------------------------------------


@pytest.mark.parametrize(
    "written", [*order_fixtures.phone_formats("821234567"), "082.123.4567", " 821234567 "]
)
def test_every_way_of_writing_a_za_number_is_one_e164_number(conn, written):
    # Given a South African mobile number written some way / When normalised / Then it is +27821234567
    row = conn.execute("select public.normalize_za_phone(%s) as phone", (written,)).fetchone()
    assert row["phone"] == "+27821234567"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
        ("12345", None),
        ("0000000000", None),
        ("phone", None),
        ("   ", None),
        (None, None),
        ("+27 91 123 4567", None),
    ],
)
def test_foreign_numbers_stay_and_garbage_is_null(conn, written, expected):
    row = conn.execute("select public.normalize_za_phone(%s) as phone", (written,)).fetchone()
    assert row["phone"] == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("  Thandi.Mokoena@Example.CO.ZA ", "thandi.mokoena@example.co.za"),
        ("a+b@mail.example.com", "a+b@mail.example.com"),
        ("not-an-email", None),
        ("a@b", None),
        ("x@@example.co.za", None),
        ("", None),
    ],
)
def test_email_is_trimmed_lower_case_and_checked(conn, written, expected):
    row = conn.execute("select public.normalize_email(%s) as email", (written,)).fetchone()
    assert row["email"] == expected


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("active", "service_active"),
        ("installation_completed", "service_active"),
        ("installed", "service_active"),
        (" Installed ", "service_active"),
        ("suspended", "service_suspended"),
        ("pending", "link_only"),
        ("installation_scheduled", "link_only"),
        ("installation_in_progress", "link_only"),
        ("payment_pending", "link_only"),
        ("payment_failed", "link_only"),
        ("kyc_pending", "link_only"),
        ("credit_check_pending", "link_only"),
        ("on_hold", "link_only"),
        ("cancelled", "link_closed"),
        ("failed", "link_closed"),
        ("kyc_rejected", "link_closed"),
        ("credit_check_rejected", "link_closed"),
        ("shipped", None),
        ("", None),
        (None, None),
    ],
)
def test_each_legacy_status_maps_to_its_action(conn, status, action):
    row = conn.execute("select public.legacy_order_action(%s) as action", (status,)).fetchone()
    assert row["action"] == action


# --- the realistic data set ---------------------------------------------------------------------------


def test_ten_thousand_orders_reach_exactly_the_expected_outcomes(conn, dataset):
    # Given 10,000 legacy orders of every kind and the customers that already exist
    order_fixtures.load(conn, dataset)
    existing = len(dataset.customers)
    expected = dataset.expected()
    # When the backfill runs
    row = backfill()
    # Then every outcome count is exactly what the data set holds
    assert outcome(row["details"]) == expected
    assert row["status"] == "partial"  # validation errors are failures of single orders; the run went on
    assert row["records_processed"] == expected["linked"] + sum(expected["review_queued"].values())
    assert row["records_failed"] == sum(expected["validation_errors"].values())
    # And the tables agree: one customer per new person, billing settings for every customer, one service
    # per installed order, one error row per failed order, one queue item per ambiguous order
    counts = business_tables(conn)
    assert counts["customers"] == existing + expected["customers_created"]
    assert counts["customer_billing"] == counts["customers"]
    assert counts["customer_services"] == sum(expected["services_created"].values())
    assert counts["service_suspensions"] == expected["services_created"]["suspended"]
    assert counts["validation_errors"] == sum(expected["validation_errors"].values())
    assert counts["migration_review_queue"] == sum(expected["review_queued"].values())
    assert counts["linked_orders"] == expected["linked"]
    # And each order is where the generator said it would be
    by_ref = {
        r["ref"]: r
        for r in conn.execute(
            "select o.order_number as ref, o.customer_id, o.service_id, v.error_code, q.reason"
            " from consumer_orders o left join validation_errors v on v.record_id = o.id"
            " left join migration_review_queue q on q.consumer_order_id = o.id"
        ).fetchall()
    }
    for order in dataset.orders:
        kind, code, service = order["expect"]
        found = by_ref[order["order_number"]]
        if kind == "linked":
            assert found["customer_id"] is not None, order["order_number"]
            assert (found["service_id"] is not None) == (service in ("active", "suspended"))
        elif kind == "error":
            assert (found["customer_id"], found["error_code"]) == (None, code), order["order_number"]
        else:
            assert (found["customer_id"], found["reason"]) == (None, code), order["order_number"]


def test_the_summary_names_orders_only_by_number(conn, dataset):
    # Given the data set / When the backfill runs
    order_fixtures.load(conn, dataset)
    details = backfill()["details"]
    # Then the examples are order numbers, at most five per outcome, and no email or phone appears anywhere
    assert details["examples"]["invalid_email"][0].startswith("ORD-")
    assert all(len(refs) <= 5 for refs in details["examples"].values())
    text = str(details)
    assert "@" not in text and "+27" not in text


def test_a_dry_run_reports_exactly_what_the_real_run_does_and_writes_only_its_log(conn, dataset):
    # Given the data set
    order_fixtures.load(conn, dataset)
    before = business_tables(conn)
    orders_before = conn.execute(
        "select md5(string_agg(o::text, ',' order by id)) as h from consumer_orders o"
    )
    orders_hash = orders_before.fetchone()["h"]
    # When a dry run runs
    dry = backfill(dry_run=True)
    # Then nothing but its log row was written
    assert business_tables(conn) == before
    after = conn.execute("select md5(string_agg(o::text, ',' order by id)) as h from consumer_orders o")
    assert after.fetchone()["h"] == orders_hash
    assert conn.execute("select count(*) as n from cron_execution_log").fetchone()["n"] == 1
    # And the real run that follows does exactly what the dry run reported
    real = backfill()
    assert dry["details"]["dry_run"] is True
    assert outcome(dry["details"]) == outcome(real["details"]) == dataset.expected()
    assert dry["details"]["examples"] == real["details"]["examples"]


def test_a_second_run_after_a_complete_run_changes_nothing(conn, dataset):
    # Given a complete run over the data set
    order_fixtures.load(conn, dataset)
    backfill()
    first = snapshot(conn)
    # When the backfill runs again
    again = backfill()
    # Then it links nothing, creates nothing, and counts the orders waiting for a person as skipped
    assert snapshot(conn) == first
    assert again["details"]["orders"] == 0 and again["status"] == "completed"
    expected = dataset.expected()
    assert again["details"]["skipped"] == {
        "open_review": sum(expected["review_queued"].values()),
        "unresolved_error": sum(expected["validation_errors"].values()),
        "dismissed": 0,
    }


def test_a_run_killed_half_way_and_re_run_ends_like_one_clean_run(conn, clean_db, admin_database_url):
    # Given a clean run's result on a data set, in batches of 500
    data = order_fixtures.generate(3_000, seed=7)
    order_fixtures.load(conn, data)
    backfill_in_batches(500)
    clean = snapshot(conn)
    # And the same data set loaded again into empty tables
    _truncate_all(admin_database_url)
    order_fixtures.load(conn, data)

    # When a run dies inside its fourth batch (after that batch's writes, before its commit)
    def die_in_batch_four(batch: int) -> None:
        if batch == 4:
            raise ConnectionError("killed")

    with pytest.raises(ConnectionError):
        backfill_in_batches(500, die_in_batch_four)
    # Then three batches are in, none of the fourth
    assert conn.execute("select count(*) as n from consumer_orders where customer_id is not null").fetchone()[
        "n"
    ]
    half = snapshot(conn)
    assert half != clean
    # When the backfill runs again (in other batch sizes: the result does not depend on them)
    rerun = backfill_in_batches(700)
    # Then every table is exactly as after the one clean run, account numbers included
    assert snapshot(conn) == clean
    assert rerun["status"] == "partial"
    log = conn.execute("select status from cron_execution_log order by execution_start").fetchall()
    assert [r["status"] for r in log] == ["failed", "partial"]


# A separate process runs the backfill in batches of 500, pausing inside each batch's transaction (after
# its writes, before its commit) so a test can kill it there.
_KILLABLE_RUN = """
import functools, time
from isp_billing.jobs import run_job
from isp_billing.backfill import orders as order_backfill
work = functools.partial(order_backfill.run, batch_size=500, after_batch=lambda batch: time.sleep(1.0))
run_job(order_backfill.JOB_NAME, work, trigger="manual")
"""


def _linked(conn: psycopg.Connection) -> int:
    return conn.execute("select count(*) as n from consumer_orders where customer_id is not null").fetchone()[
        "n"
    ]


def test_a_process_killed_with_sigkill_half_way_and_re_run_ends_like_one_clean_run(
    conn, clean_db, admin_database_url
):
    import os
    import signal
    import subprocess
    import sys
    import time

    # Given a clean run's result on a data set, in batches of 500
    data = order_fixtures.generate(3_000, seed=23)
    order_fixtures.load(conn, data)
    backfill_in_batches(500)
    clean = snapshot(conn)
    _truncate_all(admin_database_url)
    order_fixtures.load(conn, data)

    # When a backfill process is killed (SIGKILL: no clean-up of any kind) inside its second batch
    # (a short job lease: the dead run blocks the next one only that long)
    env = {**os.environ, "DATABASE_URL": clean_db, "JOB_LEASE_SECONDS": "3"}
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLABLE_RUN], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while _linked(conn) == 0 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        # The first batch has committed; the second is now written and paused before its commit.
        time.sleep(0.3)
        committed = _linked(conn)
        assert process.poll() is None, "the backfill finished before it could be killed"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    # Then only the committed batch is in (nothing of the one in flight), and the log row is left 'running'
    assert 0 < committed < len(data.orders)
    assert _linked(conn) == committed
    assert conn.execute("select status from cron_execution_log").fetchone()["status"] == "running"

    # When the backfill runs again: refused while the dead run's lease lasts, then it takes over
    for _ in range(200):
        try:
            rerun = backfill_in_batches(700)
            break
        except JobAlreadyRunning:
            time.sleep(0.05)
    # Then every table is exactly as after the one clean run, account numbers included
    assert snapshot(conn) == clean
    assert rerun["status"] == "partial"
    log = conn.execute(
        "select status, error_message from cron_execution_log order by execution_start"
    ).fetchall()
    assert log[0]["status"] == "failed" and "abandoned" in log[0]["error_message"]


def test_the_result_does_not_depend_on_the_batch_size(conn, clean_db, admin_database_url):
    # Given a data set where people order several times, backfilled in one batch
    data = order_fixtures.generate(1_500, seed=11)
    order_fixtures.load(conn, data)
    backfill_in_batches(10_000)
    one_batch = snapshot(conn)
    # When the same data set is backfilled one order at a time... in batches of 37
    _truncate_all(admin_database_url)
    order_fixtures.load(conn, data)
    backfill_in_batches(37)
    # Then the result is identical
    assert snapshot(conn) == one_batch


_SECOND_RUN = """
from isp_billing.errors import JobAlreadyRunning
from isp_billing.jobs import run_job
from isp_billing.backfill import orders as order_backfill
try:
    run_job(order_backfill.JOB_NAME, order_backfill.run, trigger="manual")
except JobAlreadyRunning as error:
    print("JobAlreadyRunning:", error.detail.split(" try")[0])
"""


def test_a_second_run_at_the_same_time_is_refused(conn, clean_db):
    # Given a backfill that is in the middle of a batch
    data = order_fixtures.generate(200, seed=3)
    order_fixtures.load(conn, data)
    inside, release = threading.Event(), threading.Event()

    def hold(batch: int) -> None:
        inside.set()
        assert release.wait(20)

    first = threading.Thread(target=backfill_in_batches, args=(100, hold))
    first.start()
    assert inside.wait(20)
    try:
        # When a second backfill starts (in a process of its own, as a second Lambda or the CLI would:
        # this process's one connection is inside the first run's batch transaction)
        second = subprocess.run(
            [sys.executable, "-c", _SECOND_RUN],
            env={**os.environ, "DATABASE_URL": clean_db},
            capture_output=True,
            text=True,
            timeout=60,
        )
        # Then it is refused with a clear message
        assert second.stdout.strip() == "JobAlreadyRunning: The backfill-orders job is already running;"
    finally:
        release.set()
        first.join(30)
    statuses = [r["status"] for r in conn.execute("select status from cron_execution_log").fetchall()]
    assert statuses == ["partial"]


# --- single rules -----------------------------------------------------------------------------------------


def _order(conn: psycopg.Connection, **fields: Any) -> str:
    values = {
        "order_number": f"ORD-T{conn.execute('select count(*) as n from consumer_orders').fetchone()['n']}",
        "first_name": "Thandi",
        "last_name": "Mokoena",
        "email": "thandi@example.co.za",
        "phone": "082 123 4567",
        "package_name": "Fibre 50/50",
        "package_price": "699.00",
        "status": "active",
        **fields,
    }
    row = conn.execute(
        f"insert into consumer_orders ({', '.join(values)}) values ({', '.join(['%s'] * len(values))})"
        " returning id",
        list(values.values()),
    ).fetchone()
    return str(row["id"])


@pytest.fixture
def package(conn):
    conn.execute(
        "insert into service_packages (name, service_type, speed_down_mbps, speed_up_mbps, monthly_price)"
        " values ('Fibre 50/50', 'fibre', 50, 50, '699.00')"
    )


def test_an_installed_order_without_a_date_is_active_from_today_at_the_orders_price(conn, package):
    # Given an installed order with no activation date and its own price
    order_id = _order(conn, status="installed", package_price="650.00")
    # When the backfill runs
    backfill()
    # Then the new customer has an active service from today at the order's price, linked both ways
    row = conn.execute(
        "select s.status, s.activation_date, s.monthly_price, s.consumer_order_id,"
        " s.customer_id = o.customer_id as same, c.phone, c.email, c.account_number, b.billing_day"
        " from consumer_orders o"
        " join customer_services s on s.id = o.service_id join customers c on c.id = o.customer_id"
        " join customer_billing b on b.customer_id = c.id where o.id = %s",
        (order_id,),
    ).fetchone()
    assert (row["status"], row["activation_date"], str(row["monthly_price"])) == (
        "active",
        sast_today(),
        "650.00",
    )
    assert str(row["consumer_order_id"]) == order_id and row["same"]
    assert (row["phone"], row["email"]) == ("+27821234567", "thandi@example.co.za")
    assert row["account_number"].startswith(f"CUS-{sast_today().year}-") and row["billing_day"] == 1


def test_a_suspended_order_gets_a_suspended_service_with_an_open_suspension(conn, package):
    order_id = _order(conn, status="suspended", activation_date="2025-03-01")
    backfill()
    row = conn.execute(
        "select s.status, s.activation_date, x.suspension_type, x.pauses_billing, x.reactivated_at"
        " from consumer_orders o join customer_services s on s.id = o.service_id"
        " join service_suspensions x on x.service_id = s.id where o.id = %s",
        (order_id,),
    ).fetchone()
    assert (row["status"], row["activation_date"]) == ("suspended", date(2025, 3, 1))
    assert (row["suspension_type"], row["pauses_billing"], row["reactivated_at"]) == ("other", False, None)


def test_pending_and_cancelled_orders_link_the_customer_only(conn, package):
    pending = _order(conn, status="installation_scheduled")
    cancelled = _order(conn, status="kyc_rejected", email="other@example.co.za", phone="0831234567")
    backfill()
    rows = conn.execute(
        "select customer_id, service_id from consumer_orders where id in (%s, %s)", (pending, cancelled)
    ).fetchall()
    assert all(r["customer_id"] is not None and r["service_id"] is None for r in rows)
    assert conn.execute("select count(*) as n from customer_services").fetchone()["n"] == 0


def test_two_new_orders_of_one_person_become_one_customer(conn, package):
    # Given two orders with the same email written differently and the phone in two formats
    first = _order(conn, email="Thandi@Example.co.za ", phone="+27 82 123 4567")
    second = _order(conn, email=" thandi@example.co.za", phone="0821234567", status="pending")
    # When the backfill runs (one batch)
    details = backfill()["details"]
    # Then one customer holds both orders
    rows = conn.execute(
        "select distinct customer_id from consumer_orders where id in (%s, %s)", (first, second)
    ).fetchall()
    assert len(rows) == 1 and conn.execute("select count(*) as n from customers").fetchone()["n"] == 1
    assert details["linked_by"] == {"matched_by_email": 1, "new_customer": 1}


def test_an_orders_auth_user_is_never_overwritten_and_a_missing_one_is_filled(conn, package):
    # Given a customer with an auth user, an order of theirs without one, and an order with another auth
    # user whose email matches a customer without one
    owner_auth = "a1111111-1111-4111-8111-111111111111"
    insert_customer(conn, auth_user_id=owner_auth, email="owner@example.co.za", phone="+27821110000")
    insert_customer(conn, auth_user_id=None, email="nologin@example.co.za", phone="+27821110001")
    conn.execute("update customers set auth_user_id = null where email = 'nologin@example.co.za'")
    without = _order(conn, email="OWNER@example.co.za", phone=None)
    order_auth = "b2222222-2222-4222-8222-222222222222"
    with_auth = _order(conn, email="nologin@example.co.za", phone=None, auth_user_id=order_auth)
    # When the backfill runs
    backfill()
    # Then the first order takes its customer's auth user, the second keeps its own
    rows = {
        str(r["id"]): str(r["auth_user_id"])
        for r in conn.execute(
            "select id, auth_user_id from consumer_orders where id in (%s, %s)", (without, with_auth)
        ).fetchall()
    }
    assert rows == {without: owner_auth, with_auth: order_auth}


def test_an_order_already_linked_to_a_customer_gets_its_service(conn, package):
    customer_id = insert_customer(conn, email="linked@example.co.za")
    order_id = _order(conn, customer_id=customer_id, email=None, phone=None)
    details = backfill()["details"]
    row = conn.execute(
        "select customer_id, service_id from consumer_orders where id = %s", (order_id,)
    ).fetchone()
    assert str(row["customer_id"]) == customer_id and row["service_id"] is not None
    assert details["linked_by"] == {"already_linked": 1}


def test_since_takes_only_orders_placed_from_that_sast_date(conn, package):
    # Given an order placed at 23:30 SAST on 31 May and one at 00:30 SAST on 1 June
    old = _order(conn, created_at="2026-05-31T21:30:00Z")
    new = _order(conn, created_at="2026-05-31T22:30:00Z", email="new@example.co.za", phone="0831110000")
    # When the backfill runs since 1 June
    backfill(since="2026-06-01")
    # Then only the June order is linked
    linked = {
        str(r["id"]): r["customer_id"] is not None
        for r in conn.execute("select id, customer_id from consumer_orders").fetchall()
    }
    assert linked == {old: False, new: True}


@pytest.mark.parametrize(
    "options",
    [{"dry_run": "yes"}, {"since": "last week"}, {"batch_size": 5}, {"dry_run": True, "extra": 1}],
)
def test_bad_options_are_refused(conn, options):
    # Given options of the wrong type or unknown / When validated, or run / Then they are refused
    with pytest.raises(ValidationFailed):
        order_backfill.parse_options(options)
    with pytest.raises(ValidationFailed):
        backfill(**options)
    assert conn.execute("select count(*) as n from customers").fetchone()["n"] == 0
