"""Jobs sync-mandate-statuses and expire-unsigned-mandates through their Lambda handlers, NetCash faked."""

from __future__ import annotations

import io
import json
import logging
import uuid
from datetime import date
from decimal import Decimal

import pytest

from isp_billing.observability import logger
from isp_billing.providers import registry
from isp_billing.providers.netcash import BankAccountType, MandateRequest
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.factories import customer_with_token, insert_service
from tests.netcash_env import calls, running_fake

CREATE = ("CustomerPaymentMethodCreateFunction", "POST", "/api/customer/payment-methods")
LIST = ("CustomerPaymentMethodsListFunction", "GET", "/api/customer/payment-methods")
SYNC = ("SyncMandateStatusesFunction", "POST", "/api/cron/sync-mandate-statuses")
EXPIRE = ("ExpireUnsignedMandatesFunction", "POST", "/api/cron/expire-unsigned-mandates")
ACCOUNT_NUMBER = "62098765432"


@pytest.fixture
def netcash(clean_db, monkeypatch):
    monkeypatch.setattr(registry, "JOB_POLL_INTERVAL_SECONDS", 0.01)
    yield from running_fake(monkeypatch)


def _debit_order(conn, *, token=None, days_old=0):
    """A debit order whose mandate awaits signature at the fake NetCash: (method id, customer token)."""
    if token is None:
        customer_id, token = customer_with_token(conn)
        insert_service(conn, customer_id, price="799.00")
    status, _, body = call_api(
        *CREATE,
        token=token,
        body={
            "method_type": "debit_order",
            "bank_name": "FNB",
            "branch_code": "250655",
            "account_type": "cheque",
            "account_number": ACCOUNT_NUMBER,
            "account_holder": "N Dlamini",
        },
    )
    assert status == 201, body
    if days_old:
        conn.execute(
            "update customer_payment_methods set created_at = now() - make_interval(days => %s)"
            " where id = %s",
            (days_old, body["id"]),
        )
    return body["id"], token


def _mandate_at_netcash_only(field1):
    """A mandate on the NetCash account that we did not create here (another system, or not a uuid)."""
    registry.netcash_for_requests().add_mandate(
        MandateRequest(
            account_reference="OTHER-1",
            mandate_name="Other system",
            mandate_amount=Decimal("100.00"),
            first_name="Other",
            surname="System",
            mobile_number="",
            email_address="",
            bank_account_name="Other",
            bank_account_number="1234567891",
            branch_code="250655",
            account_type=BankAccountType.CHEQUE,
            agreement_date=date.today(),
            agreement_reference=field1,
            field1=field1,
            commencement_month=1,
        )
    )


def _status(conn, method_id):
    return conn.execute(
        "select mandate_status, mandate_signed_at, is_active, is_primary, updated_at"
        " from customer_payment_methods where id = %s",
        (method_id,),
    ).fetchone()


def _run(function_id):
    handler = function_by_id(function_id).load_handler()
    return handler(scheduled_event(function_id), LambdaContext(function_id))


@pytest.fixture
def json_logs():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


# --- sync-mandate-statuses -----------------------------------------------------------------------------


def test_the_sync_applies_every_confirmed_outcome_once_and_ignores_mandates_we_did_not_create(
    conn, netcash, json_logs
):
    # Given five pending mandates whose postbacks never arrived: signed, declined, cancelled, expired at
    # NetCash, and one still awaiting signature; plus two mandates on the account that are not ours
    accepted, declined, cancelled, expired, waiting = (_debit_order(conn)[0] for _ in range(5))
    netcash.sign_mandate(accepted, "accepted", post=False)
    netcash.sign_mandate(declined, "declined", post=False)
    netcash.sign_mandate(cancelled, "cancelled", post=False)
    netcash.expire_mandate(expired)
    _mandate_at_netcash_only(str(uuid.uuid4()))
    _mandate_at_netcash_only("LEGACY-0042")
    # When the scheduled job runs
    run = _run("SyncMandateStatusesFunction")
    # Then each outcome is applied, NetCash's file read once, and the counts say so
    assert {
        m: _status(conn, m)["mandate_status"] for m in (accepted, declined, cancelled, expired, waiting)
    } == {
        accepted: "accepted",
        declined: "declined",
        cancelled: "cancelled",
        expired: "expired",
        waiting: "pending",
    }
    assert _status(conn, accepted)["mandate_signed_at"] is not None
    assert _status(conn, declined)["mandate_signed_at"] is None
    assert len(calls(netcash, "RequestMandateData")) == 1
    assert run["status"] == "completed" and run["records_processed"] == 4 and run["records_skipped"] == 1
    assert run["details"]["applied"] == {"accepted": 1, "cancelled": 1, "declined": 1, "expired": 1}
    assert run["details"]["unknown_references"] == 2 and run["details"]["netcash_mandates"] == 7
    # And each change is logged with ids and statuses only (no names, account numbers or references)
    changes = [
        json.loads(line) for line in json_logs.getvalue().splitlines() if "mandate status changed" in line
    ]
    assert {(c["payment_method_id"], c["mandate_status"], c["source"]) for c in changes} == {
        (accepted, "accepted", "sync"),
        (declined, "declined", "sync"),
        (cancelled, "cancelled", "sync"),
        (expired, "expired", "sync"),
    }
    logged = json_logs.getvalue()
    assert ACCOUNT_NUMBER not in logged and "Dlamini" not in logged and "LEGACY-0042" not in logged


def test_a_second_sync_changes_nothing(conn, netcash):
    # Given a signed mandate the first sync applied
    method_id, _ = _debit_order(conn)
    netcash.sign_mandate(method_id, "accepted", post=False)
    first = _run("SyncMandateStatusesFunction")
    before = _status(conn, method_id)
    # When the job runs again on the same NetCash data
    second = _run("SyncMandateStatusesFunction")
    # Then the row is untouched (not even its signed time or updated_at) and the run counts it unchanged
    assert first["records_processed"] == 1
    assert second["records_processed"] == 0 and second["details"]["unchanged"] == 1
    assert _status(conn, method_id) == before


def test_an_accepted_mandate_cancelled_at_netcash_is_cancelled_by_the_sync(conn, netcash):
    # Given a mandate accepted here, then cancelled at NetCash with the postback lost
    method_id, _ = _debit_order(conn)
    netcash.sign_mandate(method_id, "accepted", post=False)
    _run("SyncMandateStatusesFunction")
    netcash.sign_mandate(method_id, "cancelled", post=False)
    # When the job runs
    run = _run("SyncMandateStatusesFunction")
    # Then it is cancelled (no longer collectable) and its signed time kept
    row = _status(conn, method_id)
    assert row["mandate_status"] == "cancelled" and row["mandate_signed_at"] is not None
    assert run["details"]["applied"] == {"cancelled": 1}


def test_the_sync_does_not_revive_a_final_status(conn, netcash):
    # Given a mandate declined here that NetCash now shows as accepted
    method_id, _ = _debit_order(conn)
    netcash.sign_mandate(method_id, "declined", post=False)
    _run("SyncMandateStatusesFunction")
    netcash.sign_mandate(method_id, "accepted", post=False)
    # When the job runs
    run = _run("SyncMandateStatusesFunction")
    # Then declined stays (a new mandate is a new payment method), and the refusal is counted
    assert _status(conn, method_id)["mandate_status"] == "declined"
    assert run["records_processed"] == 0 and run["details"]["refused"] == 1


def test_the_mandate_file_never_ready_fails_the_run_and_changes_nothing(conn, netcash):
    # Given a signed mandate, and NetCash's mandate file that never gets ready
    method_id, _ = _debit_order(conn)
    netcash.sign_mandate(method_id, "accepted", post=False)
    netcash.not_ready_polls = 1000
    # When the job is started by hand
    status, headers, body = call_api(*SYNC, token=TEST_CRON_SECRET)
    # Then it answers 502 naming the cause, after the job's 12 polls, and the run is logged as failed
    assert status == 502 and headers["content-type"] == "application/problem+json"
    assert body["provider"] == "netcash" and body["code"] == "file_not_ready"
    assert len(calls(netcash, "RetrieveMandateData")) == registry.JOB_POLL_ATTEMPTS == 12
    log = conn.execute("select status, error_message from cron_execution_log").fetchone()
    assert log["status"] == "failed"
    assert log["error_message"] == "NetCash mandate data was not ready after 12 polls"
    # And nothing changed
    assert _status(conn, method_id)["mandate_status"] == "pending"


def test_a_netcash_outage_fails_the_scheduled_run(conn, netcash):
    # Given NetCash answering HTTP 500
    method_id, _ = _debit_order(conn)
    netcash.fail_next("http_500")
    # When the scheduled job runs / Then it raises (the Lambda errors alarm fires) and logs a failed run
    with pytest.raises(Exception, match="HTTP 500"):
        _run("SyncMandateStatusesFunction")
    assert conn.execute("select status from cron_execution_log").fetchone()["status"] == "failed"
    assert _status(conn, method_id)["mandate_status"] == "pending"


# --- expire-unsigned-mandates --------------------------------------------------------------------------


def test_mandates_unsigned_after_seven_days_expire_unless_netcash_shows_them_signed(conn, netcash):
    # Given three pending mandates: 6 days old, 8 days old, and 8 days old but signed at NetCash with the
    # postback lost
    recent, _ = _debit_order(conn, days_old=6)
    stale, stale_token = _debit_order(conn, days_old=8)
    signed, _ = _debit_order(conn, days_old=8)
    netcash.sign_mandate(signed, "accepted", post=False)
    # When the nightly job runs
    run = _run("ExpireUnsignedMandatesFunction")
    # Then only the stale one expires; the signed one is accepted, not expired; the recent one waits
    assert _status(conn, recent)["mandate_status"] == "pending"
    assert _status(conn, stale)["mandate_status"] == "expired"
    assert _status(conn, signed)["mandate_status"] == "accepted"
    assert run["status"] == "completed" and run["records_processed"] == 1
    assert run["details"]["expired"] == 1 and run["details"]["sync"]["applied"] == {"accepted": 1}
    # And the expired method stays on the customer's list, not collectable, with no signing link
    status, _, methods = call_api(*LIST, token=stale_token)
    assert status == 200
    [method] = methods
    assert method["mandate_status"] == "expired" and method["is_collectable"] is False
    assert method["mandate_url"] is None


def test_the_expiry_is_idempotent(conn, netcash):
    # Given a stale mandate the job expired
    stale, _ = _debit_order(conn, days_old=9)
    _run("ExpireUnsignedMandatesFunction")
    before = _status(conn, stale)
    # When the job runs again
    run = _run("ExpireUnsignedMandatesFunction")
    # Then nothing changes
    assert run["records_processed"] == 0 and _status(conn, stale) == before


def test_an_expired_primary_keeps_its_flag_and_the_other_methods_are_untouched(conn, netcash):
    # Given a customer whose primary is a stale unsigned debit order, and a newer accepted one
    stale, token = _debit_order(conn, days_old=8)
    newer, _ = _debit_order(conn, token=token)
    netcash.sign_mandate(newer, "accepted", post=False)
    # When the nightly job runs
    _run("ExpireUnsignedMandatesFunction")
    # Then the stale one is expired but stays active and primary (the customer chooses the next primary);
    # the accepted one is collectable
    assert _status(conn, stale)["mandate_status"] == "expired"
    assert _status(conn, stale)["is_active"] and _status(conn, stale)["is_primary"]
    assert _status(conn, newer)["mandate_status"] == "accepted" and not _status(conn, newer)["is_primary"]


def test_the_expiry_expires_nothing_when_netcash_cannot_be_read(conn, netcash):
    # Given a stale pending mandate, and NetCash's mandate file that never gets ready
    stale, _ = _debit_order(conn, days_old=8)
    netcash.not_ready_polls = 1000
    # When the job is started by hand
    status, _, body = call_api(*EXPIRE, token=TEST_CRON_SECRET)
    # Then the run fails and nothing expires: it may have been signed with the postback lost
    assert status == 502 and body["code"] == "file_not_ready"
    assert _status(conn, stale)["mandate_status"] == "pending"
    log = conn.execute("select job_name, status from cron_execution_log").fetchone()
    assert (log["job_name"], log["status"]) == ("expire-unsigned-mandates", "failed")
