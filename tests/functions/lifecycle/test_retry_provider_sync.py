"""Job retry-provider-sync: re-applies owed Interstellio changes; scheduled, or by hand."""

from __future__ import annotations

from datetime import timedelta

from isp_billing.clock import sast_today
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_row, service_with_line

JOB = ("RetryProviderSyncFunction", "POST", "/api/cron/retry-provider-sync")


def _run_scheduled():
    handler = function_by_id("RetryProviderSyncFunction").load_handler()
    return handler(scheduled_event("retry-provider-sync"), LambdaContext("RetryProviderSyncFunction"))


def _owe(conn, service_id, sync_status, not_before=None, **extra):
    sets = ", ".join(f"{key} = %s" for key in extra)
    conn.execute(
        "update customer_services set provider_sync_status = %s, provider_sync_not_before = %s"
        + (", " + sets if sets else "")
        + " where id = %s",
        (sync_status, not_before, *extra.values(), service_id),
    )


def test_a_failing_retry_keeps_the_pending_state_counts_the_attempt_and_logs_it(conn):
    with fake_interstellio_for_functions() as fake:
        # Given a suspended service whose disable is pending, and Interstellio still down
        service_id, subscriber = service_with_line(conn, fake, status="suspended")
        fake.add_subscriber(subscriber, subscriber, enabled=True)  # the line is still up
        _owe(conn, service_id, "pending_disable")
        fake.fail_next("http_500", times=3)
        # When the scheduled job runs
        result = _run_scheduled()
        # Then the run is partial, the disable still pending with one attempt counted, and the attempt logged
        assert result["status"] == "partial" and result["records_failed"] == 1
        row = service_row(conn, service_id)
        assert row["provider_sync_status"] == "pending_disable"
        assert row["provider_sync_attempts"] == 1 and row["provider_sync_error"] == "unavailable"
        [log] = log_rows(conn, service_id)
        assert log["action"] == "provider_retry" and log["details"]["outcome"] == "failed"
        assert log["details"]["provider"]["http_status"] == 500
        # When it runs again with Interstellio back
        result = _run_scheduled()
        # Then the line is disabled and the state settled
        assert result["status"] == "completed" and result["records_processed"] == 1
        assert fake.subscribers[subscriber]["enabled"] is False
        assert service_row(conn, service_id)["provider_sync_status"] == "in_sync"
        assert service_row(conn, service_id)["provider_sync_attempts"] == 0


def test_a_cancellation_disables_the_line_the_day_after_its_effective_date(conn):
    today = sast_today()
    with fake_interstellio_for_functions() as fake:
        # Given two cancelled services: one whose last day was yesterday, one whose last day is next week
        ended, ended_line = service_with_line(conn, fake, status="cancelled")
        later, later_line = service_with_line(conn, fake, status="cancelled")
        for service_id, subscriber, effective in (
            (ended, ended_line, today - timedelta(days=1)),
            (later, later_line, today + timedelta(days=7)),
        ):
            fake.add_subscriber(subscriber, subscriber, enabled=True)
            _owe(
                conn,
                service_id,
                "pending_disable",
                effective + timedelta(days=1),
                cancellation_effective_date=effective,
            )
        # When the job is started by hand with the cron secret
        status, _, run = call_api(*JOB, token=TEST_CRON_SECRET)
        # Then only the ended service's line is disabled; the other waits for its date
        assert status == 200 and run["records_processed"] == 1
        assert fake.subscribers[ended_line]["enabled"] is False
        assert fake.subscribers[later_line]["enabled"] is True
        assert service_row(conn, ended)["provider_sync_status"] == "in_sync"
        assert service_row(conn, later)["provider_sync_status"] == "pending_disable"


def test_an_owed_enable_on_a_cancelled_service_is_applied_then_the_disable_is_scheduled(conn):
    today = sast_today()
    with fake_interstellio_for_functions() as fake:
        # Given a service cancelled (last day next week) while its reactivation's enable was still owed
        service_id, subscriber = service_with_line(conn, fake, status="cancelled")
        effective = today + timedelta(days=7)
        _owe(conn, service_id, "pending_enable", None, cancellation_effective_date=effective)
        # When the job runs
        result = _run_scheduled()
        # Then the line is enabled now, and its disable is scheduled for the day after the last day
        assert result["records_processed"] == 1
        assert fake.subscribers[subscriber]["enabled"] is True
        row = service_row(conn, service_id)
        assert row["provider_sync_status"] == "pending_disable"
        assert row["provider_sync_not_before"] == effective + timedelta(days=1)
