"""Job sync-usage-data against the local fake Interstellio: conversion, SAST days, manual rows kept, re-runs
harmless, provider failures per subscriber, validation errors, cap alerts, the cron route's range."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from isp_billing.clock import sast_today
from isp_billing.errors import JobFailed
from isp_billing.providers import registry
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.chunk_queue import chunk_queue, receive
from tests.conftest import TEST_CRON_SECRET
from tests.environment import settings_environment
from tests.events import call_api, sqs_event_from_messages
from tests.factories import admin_with_token, insert_package
from tests.lifecycle_helpers import fake_interstellio_for_functions, service_with_line

FUNCTION = "SyncUsageDataFunction"
CRON = (FUNCTION, "POST", "/api/cron/sync-usage-data")
MB = 1024  # KB per MB


@pytest.fixture
def fake(conn):
    with fake_interstellio_for_functions() as server:
        yield server


def _run() -> dict[str, Any]:
    handler = function_by_id(FUNCTION).load_handler()
    return handler(scheduled_event("sync-usage-data"), LambdaContext(FUNCTION))


def _usage(conn, service_id: str) -> dict[tuple[date, str], tuple[Decimal, Decimal]]:
    rows = conn.execute(
        "select usage_date, source, upload_mb, download_mb from usage_history where service_id = %s",
        (service_id,),
    ).fetchall()
    return {(r["usage_date"], r["source"]): (r["upload_mb"], r["download_mb"]) for r in rows}


def _warm_token(fake, subscriber: str) -> None:
    """The function's client fetches its token now, so injected faults hit the calls under test."""
    registry.interstellio().get_subscriber(subscriber)


def _daily_calls(fake) -> list[Any]:
    return [call for call in fake.requests if call.path.endswith("/data/daily")]


def test_the_daily_run_syncs_the_last_three_sast_days_of_live_services_and_a_rerun_changes_nothing(
    conn, fake
):
    # Given an active and a suspended service with usage at Interstellio, and services the sync must skip
    today = sast_today()
    active, sub_a = service_with_line(conn, fake, status="active")
    suspended, sub_s = service_with_line(conn, fake, status="suspended")
    cancelled, sub_c = service_with_line(conn, fake, status="cancelled", cancellation_date=str(today))
    service_with_line(conn, fake, status="active", subscriber=False)
    for day_offset in range(5):
        day = today - timedelta(days=day_offset)
        for subscriber in (sub_a, sub_s, sub_c):
            fake.set_daily_usage(subscriber, day, download_kb=2048 * MB, upload_kb=512 * MB + 512)
    # When the scheduled run syncs
    result = _run()
    # Then the two live services have the last three SAST days in MB (KB / 1024), source interstellio
    assert result["status"] == "completed" and result["records_processed"] == 2
    for service in (active, suspended):
        rows = _usage(conn, service)
        assert set(rows) == {(today - timedelta(days=n), "interstellio") for n in range(3)}
        assert set(rows.values()) == {(Decimal("512.500"), Decimal("2048.000"))}
    assert _usage(conn, cancelled) == {}
    # And the calls asked for SAST bounds
    body = _daily_calls(fake)[0].body
    assert body["start"] == f"{today - timedelta(days=2)}T00:00:00+02:00"
    assert body["end"] == f"{today}T23:59:59+02:00"
    # When the run happens again
    before = conn.execute("select id, upload_mb, download_mb from usage_history order by id").fetchall()
    again = _run()
    # Then nothing is added or changed
    assert again["status"] == "completed"
    after = conn.execute("select id, upload_mb, download_mb from usage_history order by id").fetchall()
    assert after == before


def test_a_manual_row_is_never_overwritten_and_yesterdays_growing_bucket_is_updated(conn, fake):
    # Given a service with a manual correction for yesterday and a synced day
    today = sast_today()
    yesterday = today - timedelta(days=1)
    service, subscriber = service_with_line(conn, fake)
    fake.set_daily_usage(subscriber, yesterday, download_kb=1000 * MB, upload_kb=100 * MB)
    _run()
    conn.execute(
        "insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)"
        " select customer_id, id, %s, 1, 2, 'manual' from customer_services where id = %s",
        (yesterday, service),
    )
    # When Interstellio's bucket for yesterday grows and the sync runs again
    fake.set_daily_usage(subscriber, yesterday, download_kb=3000 * MB, upload_kb=300 * MB)
    _run()
    # Then the synced row follows Interstellio and the manual row is untouched
    rows = _usage(conn, service)
    assert rows[(yesterday, "interstellio")] == (Decimal("300.000"), Decimal("3000.000"))
    assert rows[(yesterday, "manual")] == (Decimal("1.000"), Decimal("2.000"))


def test_one_failing_subscriber_does_not_stop_the_others(conn, fake):
    # Given three services, and Interstellio failing every attempt for the first one asked (5xx three times)
    today = sast_today()
    services = [service_with_line(conn, fake) for _ in range(3)]
    for _, subscriber in services:
        fake.set_daily_usage(subscriber, today, download_kb=MB, upload_kb=MB)
    _warm_token(fake, services[0][1])
    fake.fail_next("http_500", times=3)
    # When the run syncs
    result = _run()
    # Then it is partial: one failed, two processed, and the two have their day
    assert (result["status"], result["records_processed"], result["records_failed"]) == ("partial", 2, 1)
    synced = conn.execute("select count(distinct service_id) as n from usage_history").fetchone()["n"]
    assert synced == 2


def test_429_with_retry_after_a_timeout_and_an_expired_token_are_retried(conn, fake):
    # Given a service with usage, and Interstellio rate-limiting, then timing out, once each
    today = sast_today()
    service, subscriber = service_with_line(conn, fake)
    fake.set_daily_usage(subscriber, today, download_kb=10 * MB, upload_kb=MB)
    _warm_token(fake, subscriber)
    fake.fail_next("http_429", retry_after="0")
    fake.fail_next("timeout", seconds=1.0)
    # When the run syncs
    result = _run()
    # Then the third attempt got the day
    assert result["status"] == "completed"
    assert _usage(conn, service)[(today, "interstellio")] == (Decimal("1.000"), Decimal("10.000"))
    assert len(_daily_calls(fake)) == 3
    # When every token expires (401) and the run syncs again
    fake.expire_tokens()
    tokens_before = sum(1 for call in fake.requests if call.path == "/v3/token")
    result = _run()
    # Then the client re-authenticated once and the run completed
    assert result["status"] == "completed"
    assert sum(1 for call in fake.requests if call.path == "/v3/token") == tokens_before + 1


def test_a_bare_array_reply_is_read_like_the_payload_envelope(conn, fake):
    # Given Interstellio answering daily usage as a bare JSON array
    today = sast_today()
    service, subscriber = service_with_line(conn, fake)
    fake.set_daily_usage(subscriber, today, download_kb=4 * MB, upload_kb=2 * MB)
    fake.usage_shape = "array"
    # When the run syncs
    result = _run()
    # Then the day is stored as with the envelope
    assert result["status"] == "completed"
    assert _usage(conn, service)[(today, "interstellio")] == (Decimal("2.000"), Decimal("4.000"))


def test_an_unknown_subscriber_becomes_one_validation_error_and_the_run_completes(conn, fake):
    # Given a service whose subscriber Interstellio does not know (404), and a known one with usage
    today = sast_today()
    unknown, unknown_sub = service_with_line(conn, None)
    known, known_sub = service_with_line(conn, fake)
    fake.set_daily_usage(known_sub, today, download_kb=MB, upload_kb=MB)
    # When the run syncs, twice
    result = _run()
    _run()
    # Then the run completed (the unknown one skipped), and one open validation error names the subscriber
    assert (result["status"], result["records_processed"], result["records_skipped"]) == ("completed", 1, 1)
    errors = conn.execute(
        "select record_ref, record_id, error_code from validation_errors where source = 'usage_ingest'"
    ).fetchall()
    assert [(e["record_ref"], str(e["record_id"]), e["error_code"]) for e in errors] == [
        (unknown_sub, unknown, "unknown_subscriber")
    ]
    assert _usage(conn, known) != {}


def test_a_malformed_reply_becomes_a_validation_error_and_the_others_go_on(conn, fake):
    # Given two services, and the first reply being a 200 that is not JSON
    today = sast_today()
    services = [service_with_line(conn, fake) for _ in range(2)]
    for _, subscriber in services:
        fake.set_daily_usage(subscriber, today, download_kb=MB, upload_kb=MB)
    _warm_token(fake, services[0][1])
    fake.fail_next("malformed")
    # When the run syncs
    result = _run()
    # Then one service failed with a malformed_usage validation error and the other has its day
    assert (result["status"], result["records_processed"], result["records_failed"]) == ("partial", 1, 1)
    codes = [
        row["error_code"]
        for row in conn.execute("select error_code from validation_errors where source = 'usage_ingest'")
    ]
    assert codes == ["malformed_usage"]
    assert conn.execute("select count(distinct service_id) as n from usage_history").fetchone()["n"] == 1


def test_a_run_where_interstellio_answers_nothing_fails(conn, fake):
    # Given a service and Interstellio down for every attempt
    service, subscriber = service_with_line(conn, fake)
    _warm_token(fake, subscriber)
    fake.fail_next("http_500", times=3)
    # When the run syncs
    with pytest.raises(JobFailed):
        _run()
    # Then the run is logged failed and nothing is written
    row = conn.execute("select status from cron_execution_log where job_name = 'sync-usage-data'").fetchone()
    assert row["status"] == "failed"
    assert _usage(conn, service) == {}


def test_the_cron_route_takes_a_range_splits_it_into_128_day_calls_and_refuses_other_fields(conn, fake):
    # Given a service with a day of usage 150 days ago
    today = sast_today()
    service, subscriber = service_with_line(conn, fake)
    old_day = today - timedelta(days=150)
    fake.set_daily_usage(subscriber, old_day, download_kb=MB, upload_kb=0)
    _, admin_token = admin_with_token(conn, role="billing_admin")
    body = {"start_date": str(today - timedelta(days=199)), "end_date": str(today)}
    # When a billing admin starts a run for 200 days
    status, _, run = call_api(*CRON, token=admin_token, body=body)
    # Then it ran with two provider calls (128 + 72 days) and stored the old day
    assert status == 200 and run["status"] == "completed"
    assert len(_daily_calls(fake)) == 2
    assert _usage(conn, service)[(old_day, "interstellio")] == (Decimal("0.000"), Decimal("1.000"))
    # When the body has another field, or a reversed or future range
    for bad in (
        {"days": 3},
        {"start_date": str(today), "end_date": str(today - timedelta(days=1))},
        {"start_date": str(today), "end_date": str(today + timedelta(days=1))},
        {"start_date": str(today)},
    ):
        status, _, _ = call_api(*CRON, token=TEST_CRON_SECRET, body=json.dumps(bad))
        # Then it is 422 and no run is logged
        assert status == 422, bad
    runs = conn.execute("select count(*) as n from cron_execution_log where job_name = 'sync-usage-data'")
    assert runs.fetchone()["n"] == 1


def test_crossing_80_and_100_percent_of_the_cap_queues_one_alert_per_threshold_per_period(conn, fake):
    # Given a service on a 1 GB capped package
    today = sast_today()
    package = insert_package(conn, data_cap_gb=1)
    service, subscriber = service_with_line(conn, fake, package_id=package)
    fake.set_daily_usage(subscriber, today, download_kb=850 * MB, upload_kb=0)
    # When the sync sees 850 MB (83%), twice
    _run()
    _run()
    # Then exactly one 80% alert is queued
    alerts = conn.execute("select dedupe_key, kind, template, data from notifications order by dedupe_key")
    rows = alerts.fetchall()
    assert [row["kind"] for row in rows] == ["usage_cap"]
    assert rows[0]["dedupe_key"].startswith(f"usage_cap:{service}:") and rows[0]["dedupe_key"].endswith(":80")
    assert rows[0]["data"]["threshold_percent"] == 80
    # When usage reaches 1100 MB
    fake.set_daily_usage(subscriber, today, download_kb=1100 * MB, upload_kb=0)
    _run()
    _run()
    # Then one 100% alert is added, and no second 80% alert
    keys = [row["dedupe_key"] for row in conn.execute("select dedupe_key from notifications").fetchall()]
    assert sorted(key.rsplit(":", 1)[1] for key in keys) == ["100", "80"]


def test_a_fanned_out_run_syncs_through_sqs_chunks_and_a_poison_chunk_lands_in_the_dlq(
    conn, fake, monkeypatch
):
    # Given five services, a chunk size of 2 (three chunks) and a moto chunk queue with a DLQ after 2 receives
    today = sast_today()
    services = [service_with_line(conn, fake) for _ in range(5)]
    for _, subscriber in services:
        fake.set_daily_usage(subscriber, today, download_kb=MB, upload_kb=MB)
    with (
        chunk_queue(monkeypatch, "usage", chunk_size=2, max_receives=2) as queue,
        settings_environment({"USAGE_SYNC_CHUNK_SIZE": "2"}),
    ):
        handler = function_by_id(FUNCTION).load_handler()
        # When the run starts: the parent plans and queues its chunks and stays running
        parent = handler(scheduled_event("sync-usage-data"), LambdaContext(FUNCTION))
        assert parent["status"] == "running"
        messages = receive(queue["url"])
        assert len(messages) == 3
        poison = next(m for m in messages if json.loads(m["Body"])["chunk_no"] == 0)
        good = [m for m in messages if m is not poison]
        # When the good chunks are delivered
        answer = handler(sqs_event_from_messages(good, queue["arn"]), LambdaContext(FUNCTION))
        assert answer["batchItemFailures"] == []
        _delete(queue, good)
        # And the first chunk comes again (its second receive, the last allowed) while Interstellio fails
        _warm_token(fake, services[0][1])
        fake.fail_next("http_500", times=6)
        [again] = receive(queue["url"])
        failed = handler(sqs_event_from_messages([again], queue["arn"]), LambdaContext(FUNCTION))
        assert len(failed["batchItemFailures"]) == 1
        # Then the poison chunk is in the DLQ, and the parent is partial with the chunks' counts summed
        assert receive(queue["url"]) == [] and len(receive(queue["dlq_url"])) == 1
        row = conn.execute("select * from cron_execution_log where parent_id is null").fetchone()
        assert (row["status"], row["records_processed"], row["records_failed"]) == ("partial", 3, 2)
        assert conn.execute("select count(*) as n from usage_history").fetchone()["n"] == 3


def _delete(queue, messages) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="af-south-1")
    for message in messages:
        sqs.delete_message(QueueUrl=queue["url"], ReceiptHandle=message["ReceiptHandle"])
