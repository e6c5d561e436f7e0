"""No AddMandate whose outcome the database can forget (issue 10 §1).

The debit order is committed as `requesting` before AddMandate; a database failure after NetCash answered, or
the process killed at that moment, leaves it so, and sync-mandate-statuses adopts it from NetCash's mandate
file: the database and the fake NetCash end in agreement (no reference NetCash holds is unknown to us).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from isp_billing.payment_methods import sql as repository
from isp_billing.providers import registry
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.events import call_api
from tests.factories import customer_with_token, insert_service
from tests.netcash_env import calls, running_fake

ROOT = Path(__file__).resolve().parents[3]
CREATE = ("CustomerPaymentMethodCreateFunction", "POST", "/api/customer/payment-methods")
LIST = ("CustomerPaymentMethodsListFunction", "GET", "/api/customer/payment-methods")
BODY = {
    "method_type": "debit_order",
    "bank_name": "FNB",
    "branch_code": "250655",
    "account_type": "cheque",
    "account_number": "62012345678",
    "account_holder": "T Mokoena",
}


@pytest.fixture
def netcash(clean_db, monkeypatch):
    monkeypatch.setattr(registry, "JOB_POLL_INTERVAL_SECONDS", 0.01)
    yield from running_fake(monkeypatch)


@pytest.fixture
def customer(conn):
    customer_id, token = customer_with_token(conn, phone="+27821234567")
    insert_service(conn, customer_id, price="699.00")
    return customer_id, token


def _rows(conn, customer_id):
    return conn.execute(
        "select * from customer_payment_methods where customer_id = %s order by created_at", (customer_id,)
    ).fetchall()


def _sync():
    handler = function_by_id("SyncMandateStatusesFunction").load_handler()
    return handler(scheduled_event("sync-mandate-statuses"), LambdaContext("SyncMandateStatusesFunction"))


def _assert_adopted_and_in_agreement(conn, netcash, customer_id, token):
    [row] = _rows(conn, customer_id)
    assert row["mandate_status"] == "requesting" and row["is_active"] is False
    # NetCash holds the mandate under the row's id
    assert str(row["id"]) in netcash.mandates
    # And the customer does not see it
    status, _, methods = call_api(*LIST, token=token)
    assert status == 200 and methods == []
    # When sync-mandate-statuses runs
    run = _sync()
    # Then the row is adopted: pending, active, primary; and no NetCash reference is unknown to us
    assert run["status"] == "completed", run
    assert run["details"]["requests_adopted"] == 1 and run["details"]["unknown_references"] == 0
    [row] = _rows(conn, customer_id)
    assert row["mandate_status"] == "pending" and row["is_active"] is True and row["is_primary"] is True
    # And once the customer signs at NetCash, the next sync accepts it
    netcash.sign_mandate(str(row["id"]), "accepted", post=False)
    assert _sync()["status"] == "completed"
    assert _rows(conn, customer_id)[0]["mandate_status"] == "accepted"
    status, _, methods = call_api(*LIST, token=token)
    assert [method["is_collectable"] for method in methods] == [True]


def test_a_database_failure_after_addmandate_answered_is_adopted_by_the_sync(
    conn, netcash, customer, monkeypatch
):
    # Given the transaction that applies NetCash's answer failing
    customer_id, token = customer

    def fail_after_the_call(*_args, **_kwargs):
        raise RuntimeError("the database failed after NetCash answered")

    monkeypatch.setattr(repository, "settle_requested", fail_after_the_call)
    # When the customer adds a debit order
    status, _, _ = call_api(*CREATE, token=token, body=BODY)
    monkeypatch.undo()
    # Then the request failed after AddMandate, and the committed intent is what is left
    assert status == 500
    assert len(calls(netcash, "AddMandate")) == 1
    _assert_adopted_and_in_agreement(conn, netcash, customer_id, token)


def test_a_process_killed_after_addmandate_answered_is_adopted_by_the_sync(conn, netcash, customer):
    customer_id, token = customer
    # When the request runs in a process SIGKILLed the moment NetCash answered AddMandate
    child = subprocess.run(
        [sys.executable, "-m", "tests.kill_after_provider", "netcash", *CREATE, token, json.dumps(BODY)],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        timeout=60,
    )
    # Then it died by SIGKILL, NetCash holds a mandate, and the requesting row is adopted by the sync
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    assert len(calls(netcash, "AddMandate")) == 1
    _assert_adopted_and_in_agreement(conn, netcash, customer_id, token)


def test_a_request_netcash_never_heard_of_fails_after_the_grace_period(conn, netcash, customer):
    # Given two requesting rows NetCash does not know: one 20 minutes old, one just made
    customer_id, _ = customer
    ids = []
    for minutes in (20, 0):
        ids.append(
            conn.execute(
                """
                insert into customer_payment_methods (customer_id, method_type, branch_code, account_type,
                       account_number_masked, account_holder, mandate_status, mandate_amount, is_active,
                       created_at)
                values (%s, 'debit_order', '250655', 'cheque', '****5678', 'T M', 'requesting', 699,
                        false, now() - make_interval(mins => %s))
                returning id
                """,
                (customer_id, minutes),
            ).fetchone()["id"]
        )
        conn.execute(
            "update customer_payment_methods set mandate_reference = id::text where id = %s", (ids[-1],)
        )
    # When the sync runs
    run = _sync()
    # Then the old one failed (kept, inactive) and the fresh one (its request may be in flight) is untouched
    assert run["details"]["requests_failed"] == 1 and run["details"]["requests_adopted"] == 0
    statuses = {row["id"]: (row["mandate_status"], row["is_active"]) for row in _rows(conn, customer_id)}
    assert statuses == {ids[0]: ("failed", False), ids[1]: ("requesting", False)}


@pytest.mark.parametrize("field", ["bank_name", "account_holder", "display_name"])
def test_a_nul_in_a_debit_order_never_reaches_addmandate(conn, netcash, customer, field):
    # Given a debit order whose text carries a NUL (the shared API text type makes this a 422)
    customer_id, token = customer
    # When it is added
    status, headers, _ = call_api(*CREATE, token=token, body={**BODY, field: "FNB\u0000"})
    # Then it is refused, NetCash holds no mandate, and no row the customer could see exists
    assert status in (422, 500)
    assert headers["content-type"] == "application/problem+json"
    assert calls(netcash, "AddMandate") == [] and netcash.mandates == {}
    assert _rows(conn, customer_id) == []
    # And the sync finds nothing unknown
    assert _sync()["details"]["unknown_references"] == 0


def test_a_successful_request_answers_pending_with_its_signing_url(conn, netcash, customer):
    customer_id, token = customer
    status, _, body = call_api(*CREATE, token=token, body=BODY)
    assert status == 201, body
    assert body["mandate_status"] == "pending" and body["mandate_url"] and body["is_primary"] is True
    [row] = _rows(conn, customer_id)
    assert row["mandate_status"] == "pending" and row["is_active"] is True
    assert row["mandate_url"] == body["mandate_url"]
