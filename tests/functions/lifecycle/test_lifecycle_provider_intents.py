"""No Interstellio call whose outcome the database can forget (issue 10 §1).

Each admin action that calls Interstellio commits its intent first; a database failure after the call, or
the process killed at that moment, leaves an unsettled intent that retry-provider-sync reconciles, so the
database and the fake Interstellio end in agreement. A value the database refuses fails before any call.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from isp_billing.lifecycle import provider as lifecycle_provider
from isp_billing_cli.fakes import interstellio as fake_interstellio
from tests.events import call_api
from tests.factories import admin_with_token
from tests.lifecycle_helpers import (
    fake_interstellio_for_functions,
    log_rows,
    service_row,
    service_with_line,
    suspension_rows,
)

ROOT = Path(__file__).resolve().parents[3]
SUSPEND = {"reason": "Unpaid", "suspension_type": "non_payment"}


@pytest.fixture
def fake(conn) -> Iterator[fake_interstellio.FakeInterstellio]:
    with fake_interstellio_for_functions() as server:
        yield server


def _patches(fake: fake_interstellio.FakeInterstellio) -> list[bool]:
    return [call.body["enabled"] for call in fake.requests if call.method == "PATCH"]


def _suspend(service_id: str, token: str, body: object = None):
    return call_api(
        "AdminServiceSuspendFunction",
        "POST",
        f"/api/admin/services/{service_id}/suspend",
        token=token,
        body=SUSPEND if body is None else body,
    )


def _retry_job(conn):
    _, token = admin_with_token(conn, role="super_admin")
    return call_api("RetryProviderSyncFunction", "POST", "/api/cron/retry-provider-sync", token=token)


def _intents(conn, service_id: str) -> list[dict]:
    return conn.execute(
        "select * from service_provider_intents where service_id = %s order by created_at", (service_id,)
    ).fetchall()


def test_a_successful_suspend_settles_its_intent_in_the_same_commit(conn, fake):
    # Given an active service with a line
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, subscriber = service_with_line(conn, fake)
    # When it is suspended
    status, _, body = _suspend(service_id, token)
    # Then the intent committed before the call is settled as applied, with the change
    assert status == 200, body
    [intent] = _intents(conn, service_id)
    assert intent["outcome"] == "applied" and intent["settled_at"] is not None
    assert intent["enabled"] is False and intent["subscriber_id"] == subscriber
    assert intent["action"] == "suspend" and intent["request_id"] == body["action"]["request_id"]


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "a\u0000", "suspension_type": "non_payment"},
        {"reason": "Unpaid", "notes": "b\u0000", "suspension_type": "non_payment"},
    ],
    ids=["nul-in-reason", "nul-in-notes"],
)
def test_a_value_the_database_refuses_fails_before_interstellio_is_called(conn, fake, body):
    # Given an active service with an enabled line
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, subscriber = service_with_line(conn, fake)
    # When the suspend carries a NUL character (the shared API text type makes this a 422)
    status, headers, _ = _suspend(service_id, token, body)
    # Then it is refused (4xx once the text type lands, never a success)
    assert status in (422, 500)
    assert headers["content-type"] == "application/problem+json"
    # And Interstellio was never asked, and the database is as it was: no intent, no audit row
    assert _patches(fake) == [] and fake.subscribers[subscriber]["enabled"] is True
    row = service_row(conn, service_id)
    assert row["status"] == "active" and row["provider_sync_status"] == "in_sync"
    assert _intents(conn, service_id) == [] and log_rows(conn, service_id) == []


def test_a_nul_in_a_reactivation_reason_fails_before_interstellio_is_called(conn, fake):
    # Given a suspended service (its reason only goes to the audit row)
    _, token = admin_with_token(conn, role="super_admin")
    service_id, subscriber = service_with_line(conn, fake)
    assert _suspend(service_id, token)[0] == 200
    # When the reactivation reason carries a NUL
    status, _, _ = call_api(
        "AdminServiceReactivateFunction",
        "POST",
        f"/api/admin/services/{service_id}/reactivate",
        token=token,
        body={"reason": "ok\u0000"},
    )
    # Then no enable was sent and the service stays suspended
    assert status in (422, 500)
    assert _patches(fake) == [False] and fake.subscribers[subscriber]["enabled"] is False
    assert service_row(conn, service_id)["status"] == "suspended"


def test_a_database_failure_after_interstellio_answered_is_reconciled_by_the_retry_job(
    conn, fake, monkeypatch
):
    # Given an active service, and the admin's transaction failing right after Interstellio disabled the line
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, subscriber = service_with_line(conn, fake)

    def fail_after_the_call(*_args, **_kwargs):
        raise RuntimeError("the database failed after the provider answered")

    monkeypatch.setattr(lifecycle_provider, "settle", fail_after_the_call)
    # When the admin suspends it
    status, _, _ = _suspend(service_id, token)
    # Then the request fails, the transaction rolled back, but the intent is there, unsettled
    assert status == 500
    assert fake.subscribers[subscriber]["enabled"] is False  # Interstellio did disable the line
    assert service_row(conn, service_id)["status"] == "active"
    [intent] = _intents(conn, service_id)
    assert intent["settled_at"] is None and intent["enabled"] is False
    monkeypatch.undo()
    # When the retry job runs
    status, _, run = _retry_job(conn)
    # Then the line agrees with the database again (enabled: the service is active), the intent is settled
    assert status == 200 and run["status"] == "completed", run
    assert run["details"]["intents_reconciled"] == 1
    assert fake.subscribers[subscriber]["enabled"] is True
    row = service_row(conn, service_id)
    assert row["status"] == "active" and row["provider_sync_status"] == "in_sync"
    assert _intents(conn, service_id)[0]["outcome"] == "reconciled"
    # And the audit log tells the story: the reconciliation, then the synced retry
    logs = log_rows(conn, service_id)
    assert [log["details"]["outcome"] for log in logs] == ["intent_reconciled", "synced"]
    assert logs[0]["details"]["intent_enabled"] is False and logs[0]["details"]["owed_enabled"] is True
    # And a second run finds nothing to do
    assert _retry_job(conn)[2]["details"]["intents_reconciled"] == 0


def test_a_process_killed_after_interstellio_answered_is_reconciled_by_the_retry_job(conn, fake):
    # Given an active service with an enabled line
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, subscriber = service_with_line(conn, fake)
    # When the suspend runs in a process that is SIGKILLed the moment Interstellio has answered
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.kill_after_provider",
            "interstellio",
            "AdminServiceSuspendFunction",
            "POST",
            f"/api/admin/services/{service_id}/suspend",
            token,
            '{"reason": "Unpaid", "suspension_type": "non_payment"}',
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        timeout=60,
    )
    # Then it died by SIGKILL after Interstellio disabled the line, and nothing but the intent committed
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert fake.subscribers[subscriber]["enabled"] is False
    assert service_row(conn, service_id)["status"] == "active"
    assert log_rows(conn, service_id) == [] and suspension_rows(conn, service_id) == []
    [intent] = _intents(conn, service_id)
    assert intent["settled_at"] is None
    # When the retry job runs
    status, _, run = _retry_job(conn)
    # Then database and Interstellio agree: active and enabled
    assert status == 200 and run["status"] == "completed", run
    assert fake.subscribers[subscriber]["enabled"] is True
    assert service_row(conn, service_id)["provider_sync_status"] == "in_sync"
    assert _intents(conn, service_id)[0]["outcome"] == "reconciled"


def test_a_refusal_settles_the_intent_with_the_provider_failed_audit_row(conn, fake):
    # Given Interstellio refusing (unknown subscriber)
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, _ = service_with_line(conn, fake)
    conn.execute(
        "update customer_services set interstellio_subscriber_id = 'sub-gone' where id = %s", (service_id,)
    )
    # When the admin suspends
    status, _, problem = _suspend(service_id, token)
    # Then 502, the service as it was, and the intent settled as refused next to the provider_failed row
    assert status == 502, problem
    assert service_row(conn, service_id)["status"] == "active"
    [log] = log_rows(conn, service_id)
    [intent] = _intents(conn, service_id)
    assert log["details"]["outcome"] == "provider_failed" and intent["outcome"] == "refused"
    assert log["details"]["intent_id"] == str(intent["id"])
    # And the retry job has nothing to reconcile
    assert _retry_job(conn)[2]["details"]["intents_reconciled"] == 0


def test_an_intent_whose_admin_transaction_still_runs_is_left_alone(conn, fake):
    # Given an unsettled intent whose service row another transaction holds (an admin's call in flight)
    service_id, subscriber = service_with_line(conn, fake)
    customer_id = service_row(conn, service_id)["customer_id"]
    conn.execute(
        "insert into service_provider_intents (service_id, customer_id, action, subscriber_id, enabled)"
        " values (%s, %s, 'suspend', %s, false)",
        (service_id, customer_id, subscriber),
    )
    import psycopg

    with psycopg.connect(conn.info.dsn) as holder:
        holder.execute("select 1 from customer_services where id = %s for no key update", (service_id,))
        # When the retry job runs meanwhile
        status, _, run = _retry_job(conn)
    # Then it skips the intent: nothing called, nothing settled
    assert status == 200 and run["details"]["intents_reconciled"] == 0
    assert _patches(fake) == [] and _intents(conn, service_id)[0]["settled_at"] is None
