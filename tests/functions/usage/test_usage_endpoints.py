"""Customer usage routes (RLS, manual rows replacing synced ones), the admin correction, and the two usage
webhooks (signature, stale timestamp, replay, the usage meter's token)."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from isp_billing.billing.periods import period_containing
from isp_billing.clock import sast_today
from isp_billing.usage.webhooks import sign
from tests.concurrency import wait_until_a_session_waits_for_a_lock
from tests.environment import settings_environment
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_package, insert_service

CURRENT = ("CustomerUsageGetFunction", "GET", "/api/customer/usage")
HISTORY = ("CustomerUsageHistoryFunction", "GET", "/api/customer/usage/history")
PUSH = ("UsagePushWebhookFunction", "POST", "/api/webhooks/interstellio/usage")
METER = ("UsageMeterWebhookFunction", "POST", "/api/webhooks/interstellio/usage-meter")
SECRET = "test-usage-webhook-secret-0123456789"
TOKEN = "test-interstellio-webhook-token-0123456789"


@pytest.fixture
def secrets(conn):
    with settings_environment({"USAGE_WEBHOOK_SECRET": SECRET, "INTERSTELLIO_WEBHOOK_TOKEN": TOKEN}):
        yield


def _day(conn, service_id, day, upload, download, source="interstellio"):
    conn.execute(
        "insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source,"
        " synced_at) select customer_id, id, %s, %s, %s, %s, case when %s = 'interstellio' then now() end"
        " from customer_services where id = %s",
        (day, upload, download, source, source, service_id),
    )


def test_current_usage_shows_the_period_with_manual_days_replacing_synced_ones_and_only_own_rows(conn):
    # Given a customer with a 10 GB capped service, two synced days and a manual correction of one of them
    today = sast_today()
    customer, token = customer_with_token(conn)
    service = insert_service(conn, customer, package_id=insert_package(conn, data_cap_gb=10))
    _day(conn, service, today, "100", "924")
    _day(conn, service, today, "1", "1", source="manual")
    first, last = period_containing(today, 1)
    if first < today:
        _day(conn, service, first, "0", "1024")
    # And another customer's usage
    other, _ = customer_with_token(conn)
    _day(conn, insert_service(conn, other), today, "5", "5")
    # When the customer reads their usage
    status, _, body = call_api(*CURRENT, token=token)
    # Then they see their one service, the manual figures for today (not the sum), totals and the cap share
    assert status == 200
    assert (body["period_start"], body["period_end"]) == (str(first), str(last))
    [row] = body["services"]
    today_row = next(d for d in row["days"] if d["usage_date"] == str(today))
    assert (today_row["total_mb"], today_row["source"]) == ("2.000", "manual")
    expected_total = Decimal("2") + (Decimal("1024") if first < today else 0)
    assert Decimal(row["totals"]["total_mb"]) == expected_total
    assert row["data_cap_gb"] == 10
    assert Decimal(row["percent_used"]) == (expected_total * 100 / 10240).quantize(Decimal("0.01"))
    assert body["last_synced_at"] is not None


def test_history_by_day_pages_by_cursor_by_month_sums_and_refuses_bad_ranges_and_foreign_services(conn):
    # Given 5 synced days and one manual correction
    today = sast_today()
    customer, token = customer_with_token(conn)
    service = insert_service(conn, customer)
    for n in range(5):
        _day(conn, service, today - timedelta(days=n), "1", "1")
    _day(conn, service, today, "10", "10", source="manual")
    # When the customer pages daily history two rows at a time
    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, _, body = call_api(*HISTORY, token=token, query=query)
        assert status == 200
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # Then every day appears once, oldest first, today's manual figures replacing the synced ones
    assert [row["usage_date"] for row in seen] == [str(today - timedelta(days=n)) for n in range(4, -1, -1)]
    assert seen[-1]["total_mb"] == "20.000"
    # When by month: totals are the effective days' sums
    status, _, body = call_api(*HISTORY, token=token, query="granularity=month")
    assert status == 200
    assert sum(Decimal(row["total_mb"]) for row in body["items"]) == Decimal("28")
    # When the range is reversed, or longer than 24 months
    for query in (
        f"start_date={today}&end_date={today - timedelta(days=1)}",
        f"start_date={today - timedelta(days=800)}&end_date={today}",
    ):
        status, _, _ = call_api(*HISTORY, token=token, query=query)
        # Then it is 422
        assert status == 422
    # When another customer's service is asked for
    other, _ = customer_with_token(conn)
    status, _, _ = call_api(*HISTORY, token=token, query=f"service_id={insert_service(conn, other)}")
    # Then it is 404
    assert status == 404


def test_an_admin_correction_is_audited_and_support_may_not(conn):
    # Given a service and a billing admin
    today = sast_today()
    customer, _ = customer_with_token(conn)
    service = insert_service(conn, customer)
    _, admin = admin_with_token(conn, role="billing_admin")
    _, support = admin_with_token(conn, role="support")
    route = ("AdminServiceUsageCorrectFunction", "POST", f"/api/admin/services/{service}/usage")
    body = {"usage_date": str(today), "upload_mb": "1.5", "download_mb": "2", "reason": "Outage"}
    # When support tries, and when a figure is a JSON number
    assert call_api(*route, token=support, body=body)[0] == 403
    assert call_api(*route, token=admin, body={**body, "upload_mb": 1.5})[0] == 422
    # Then nothing was written
    assert conn.execute("select count(*) as n from usage_history").fetchone()["n"] == 0
    # When the billing admin corrects the day
    status, _, result = call_api(*route, token=admin, body=body)
    # Then a manual row and a usage_correction audit row exist
    assert status == 200 and result["total_mb"] == "3.500" and result["source"] == "manual"
    log = conn.execute(
        "select action, reason, new_data from service_action_log where service_id = %s", (service,)
    )
    [entry] = log.fetchall()
    assert (entry["action"], entry["reason"], entry["new_data"]["total_mb"]) == (
        "usage_correction",
        "Outage",
        "3.500",
    )


def _signed(body: bytes, at: int | None = None, secret: str = SECRET) -> dict[str, str]:
    timestamp = str(at if at is not None else int(time.time()))
    return {"x-usage-timestamp": timestamp, "x-usage-signature": sign(secret, timestamp, body)}


def test_the_push_webhook_needs_a_fresh_valid_signature_and_a_replay_changes_nothing(conn, secrets):
    # Given a service linked to a subscriber and a batch of its usage in KB
    today = sast_today()
    customer, _ = customer_with_token(conn)
    service = insert_service(conn, customer, interstellio_subscriber_id="sub-push-1")
    batch = {
        "unit": "KB",
        "records": [
            {"subscriber_id": "sub-push-1", "usage_date": str(today), "upload": "1024", "download": "2048"},
            {"subscriber_id": "sub-unknown", "usage_date": str(today), "upload": "1", "download": "1"},
        ],
    }
    raw = json.dumps(batch).encode()
    # When it arrives unsigned, with a wrong secret, or with a timestamp 6 minutes old
    for headers in ({}, _signed(raw, secret="another-secret-entirely"), _signed(raw, int(time.time()) - 360)):
        status, _, _ = call_api(*PUSH, body=raw.decode(), headers=headers)
        # Then it is 401 and nothing is written
        assert status == 401
    assert conn.execute("select count(*) as n from usage_history").fetchone()["n"] == 0
    # When it arrives correctly signed
    headers = _signed(raw)
    status, _, receipt = call_api(*PUSH, body=raw.decode(), headers=headers)
    # Then the day is upserted in MB and the unknown subscriber is a validation error
    assert status == 200 and receipt["status"] == "applied" and receipt["unknown_subscribers"] == 1
    row = conn.execute(
        "select upload_mb, download_mb, source from usage_history where service_id = %s", (service,)
    )
    assert row.fetchone() == {
        "upload_mb": Decimal("1.000"),
        "download_mb": Decimal("2.000"),
        "source": "interstellio",
    }
    # When newer figures arrive, then the first delivery is replayed
    newer = json.dumps(
        {"unit": "MB", "records": [batch["records"][0] | {"upload": "5", "download": "5"}]}
    ).encode()
    assert call_api(*PUSH, body=newer.decode(), headers=_signed(newer))[0] == 200
    status, _, receipt = call_api(*PUSH, body=raw.decode(), headers=headers)
    # Then the replay is a duplicate and changes nothing
    assert status == 200 and receipt["status"] == "duplicate"
    total = conn.execute("select total_mb from usage_history where service_id = %s", (service,)).fetchone()
    assert total["total_mb"] == Decimal("10.000")


def test_the_usage_meter_webhook_needs_its_token_records_once_and_queues_the_cap_alert(conn, secrets):
    # Given a service on a 1 GB package
    today = sast_today()
    customer, _ = customer_with_token(conn)
    package = insert_package(conn, data_cap_gb=1)
    insert_service(conn, customer, package_id=package, interstellio_subscriber_id="sub-meter-1")
    delivery = {
        "trigger": "subscriber-usage-meter-triggered",
        "subscriber": {"id": "sub-meter-1", "username": "x@isp.example"},
        "monthly_combined_kb": 1100 * 1024,
        "monthly_month": today.strftime("%Y-%m"),
        "monthly_combined_trigger_kb": 1024 * 1024,
    }
    # When it arrives without the token, or with a wrong one
    for query in ("", "token=wrong"):
        assert call_api(*METER, body=delivery, query=query)[0] == 401
    # When it arrives with the token, twice
    status, _, first = call_api(*METER, body=delivery, query=f"token={TOKEN}")
    _, _, second = call_api(*METER, body=delivery, query=f"token={TOKEN}")
    # Then it is recorded once, and the 80% and 100% alerts are queued once each
    assert status == 200 and first["status"] == "recorded" and second["status"] == "duplicate"
    assert conn.execute("select count(*) as n from usage_meter_events").fetchone()["n"] == 1
    kinds = conn.execute("select kind, dedupe_key from notifications order by dedupe_key").fetchall()
    assert len(kinds) == 2 and {row["kind"] for row in kinds} == {"usage_cap"}


def test_two_deliveries_of_one_signed_batch_at_once_apply_it_once(conn, secrets, admin_database_url):
    # Given a linked service whose row another session holds locked (the upsert's key check waits on it)
    today = sast_today()
    customer, _ = customer_with_token(conn)
    service = insert_service(conn, customer, interstellio_subscriber_id="sub-race-1")
    raw = json.dumps(
        {
            "unit": "MB",
            "records": [
                {"subscriber_id": "sub-race-1", "usage_date": str(today), "upload": "1", "download": "1"}
            ],
        }
    ).encode()
    headers = _signed(raw)
    answers: list[dict] = []
    with psycopg.connect(admin_database_url) as blocker:
        blocker.execute("select 1 from customer_services where id = %s for update", (service,))
        # When the same delivery arrives twice at once
        threads = [
            threading.Thread(
                target=lambda: answers.append(call_api(*PUSH, body=raw.decode(), headers=headers)[2])
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        wait_until_a_session_waits_for_a_lock(conn)
        blocker.rollback()
    for thread in threads:
        thread.join(timeout=30)
    # Then one applied it and the other was told it is a duplicate; the day is stored once
    assert sorted(answer["status"] for answer in answers) == ["applied", "duplicate"]
    assert conn.execute("select count(*) as n from usage_history").fetchone()["n"] == 1


@pytest.mark.parametrize(
    "status,extra,usage_date",
    [
        ("active", {"activation_date": "2026-01-15"}, "2000-01-01"),  # long before the service existed
        ("active", {"activation_date": "2026-01-15"}, "2026-01-14"),  # the day before activation
        ("pending", {}, "2026-01-20"),  # never activated: no day of usage at all
        (
            "cancelled",
            {
                "activation_date": "2026-01-15",
                "cancellation_date": "2026-02-01",
                "cancellation_effective_date": "2026-02-28",
            },
            "2026-03-01",  # the day after the service ended
        ),
    ],
)
def test_a_correction_for_a_day_outside_the_service_s_active_life_is_422(conn, status, extra, usage_date):
    # Given a service with its active life (activation to cancellation effective date) and a billing admin
    customer, _ = customer_with_token(conn)
    service = insert_service(conn, customer, status=status, **extra)
    _, admin = admin_with_token(conn, role="billing_admin")
    body = {"usage_date": usage_date, "upload_mb": "1", "download_mb": "1", "reason": "Outage"}

    # When a manual day outside it is posted
    status_code, _, problem = call_api(
        "AdminServiceUsageCorrectFunction",
        "POST",
        f"/api/admin/services/{service}/usage",
        token=admin,
        body=body,
    )

    # Then it is refused, naming the rule, and nothing is written
    assert status_code == 422, problem
    assert "active life" in problem["detail"]
    assert conn.execute("select count(*) as n from usage_history").fetchone()["n"] == 0
    assert conn.execute("select count(*) as n from service_action_log").fetchone()["n"] == 0


def test_a_correction_on_the_first_and_the_last_day_of_the_active_life_is_accepted(conn):
    # Given a cancelled service that lived from 2026-01-15 to 2026-02-28
    customer, _ = customer_with_token(conn)
    service = insert_service(
        conn,
        customer,
        status="cancelled",
        activation_date="2026-01-15",
        cancellation_date="2026-02-01",
        cancellation_effective_date="2026-02-28",
    )
    _, admin = admin_with_token(conn, role="billing_admin")
    route = ("AdminServiceUsageCorrectFunction", "POST", f"/api/admin/services/{service}/usage")
    # When its first and last days are corrected / Then both are accepted
    for day in ("2026-01-15", "2026-02-28"):
        body = {"usage_date": day, "upload_mb": "1", "download_mb": "1", "reason": "Outage"}
        assert call_api(*route, token=admin, body=body)[0] == 200
