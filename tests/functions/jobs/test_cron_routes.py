"""Jobs: started by the EventBridge Scheduler event, or by hand with the cron secret or a job admin."""

import json

from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token

PURGE = ("PurgeIdempotencyKeysFunction", "POST", "/api/cron/purge-idempotency-keys")


def _add_key(conn, key, expired):
    conn.execute(
        "insert into idempotency_keys (scope, key, request_hash, status, expires_at)"
        " values ('test', %s, 'h', 'completed', now() + %s::interval)",
        (key, "-1 hour" if expired else "1 hour"),
    )


def test_the_scheduled_event_runs_the_job_and_logs_it(conn):
    # Given one expired and one live idempotency key
    _add_key(conn, "old", expired=True)
    _add_key(conn, "new", expired=False)
    # When EventBridge Scheduler invokes the function
    handler = function_by_id("PurgeIdempotencyKeysFunction").load_handler()
    result = handler(scheduled_event("purge"), LambdaContext("PurgeIdempotencyKeysFunction"))
    # Then only the expired key is gone, and the run is logged as a scheduled, completed run
    assert [row["key"] for row in conn.execute("select key from idempotency_keys").fetchall()] == ["new"]
    assert result["status"] == "completed" and result["records_processed"] == 1
    log = conn.execute("select trigger, status from cron_execution_log").fetchone()
    assert (log["trigger"], log["status"]) == ("schedule", "completed")


def test_the_cron_secret_starts_a_manual_run(conn):
    status, _, body = call_api(*PURGE, token=TEST_CRON_SECRET)
    assert status == 200 and body["trigger"] == "manual" and body["status"] == "completed"


def test_a_billing_admin_starts_a_manual_run_and_is_recorded(conn):
    # Given a billing admin / When they start the job with an empty options object
    admin_id, token = admin_with_token(conn, role="billing_admin")
    status, _, _ = call_api(*PURGE, token=token, body={})
    # Then it runs, recorded with who started it and the (declared, here none) options
    assert status == 200
    row = conn.execute("select triggered_by, details from cron_execution_log").fetchone()
    assert str(row["triggered_by"]) == admin_id
    assert row["details"]["options"] == {}


def test_an_undeclared_option_is_422_and_nothing_is_stored(conn):
    # Given a job that declares no options / When a body carries one
    _, token = admin_with_token(conn, role="billing_admin")
    status, headers, body = call_api(*PURGE, token=token, body={"reason": "test"})
    # Then it is refused as problem+json naming the field, and no run is logged
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert body["errors"][0]["loc"] == ["reason"] and headers["x-request-id"] == body["request_id"]
    assert conn.execute("select count(*) as n from cron_execution_log").fetchone()["n"] == 0


def test_support_admins_and_customers_may_not_start_jobs(conn):
    _, support = admin_with_token(conn, role="support")
    _, customer = customer_with_token(conn)
    for token in (support, customer):
        status, headers, _ = call_api(*PURGE, token=token)
        assert status == 403 and headers["content-type"] == "application/problem+json"
    assert conn.execute("select count(*) as n from cron_execution_log").fetchone()["n"] == 0


def test_a_wrong_secret_is_401_and_runs_nothing(conn):
    status, _, body = call_api(*PURGE, token="not-the-cron-secret")
    assert status == 401 and body["status"] == 401
    assert conn.execute("select count(*) as n from cron_execution_log").fetchone()["n"] == 0


def test_a_body_that_is_not_an_object_is_422(conn):
    status, _, body = call_api(*PURGE, token=TEST_CRON_SECRET, body=json.dumps([1, 2]))
    assert status == 422 and body["status"] == 422


def test_a_direct_invoke_is_logged_as_a_manual_run(conn):
    # Given a direct Lambda invoke (the CLI, the console) with an empty event
    handler = function_by_id("PurgeIdempotencyKeysFunction").load_handler()
    # When it runs / Then its log row says manual, not schedule
    result = handler({}, LambdaContext("PurgeIdempotencyKeysFunction"))
    assert result["trigger"] == "manual"
