"""The job runner's generic SQS fan-out: a test job over N items, inline and through a (moto) SQS queue
with a DLQ, delivered to the handler as real SQS events the way Lambda's event source mapping does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from isp_billing.jobs import JobOutcome, JobRun, NoOptions, chunked_job_handler, split_into_chunks
from isp_billing_cli.events import LambdaContext, scheduled_event
from tests.chunk_queue import chunk_queue, receive
from tests.environment import settings_environment
from tests.events import sqs_event_from_messages

JOB = "fanout-test"
ITEMS = [f"item-{n:02d}" for n in range(8)]  # chunk size 3: chunks of 3, 3 and 2
MAX_RECEIVES = 3
POISON = "item-04"  # in chunk 1


@pytest.fixture
def effects(conn) -> Iterator[Any]:
    """The test job's effect: one row per processed item (its own schema, so the app's tables stay as
    migrated), writable by service_role like a real job's tables."""
    conn.execute(
        "create schema if not exists fanout_test;"
        " create table if not exists fanout_test.effects (item text primary key, run_id uuid not null);"
        " truncate fanout_test.effects;"
        " grant usage on schema fanout_test to service_role;"
        " grant select, insert on fanout_test.effects to service_role"
    )
    yield conn


def _process(run: JobRun, items: list[str]) -> JobOutcome:
    """Idempotent: an item already processed is not processed again."""
    from isp_billing import db

    if POISON in items and run.options.get("poison", True):
        raise RuntimeError("poison chunk")
    with db.service_session() as session:
        inserted = session.execute(
            "insert into fanout_test.effects (item, run_id) select unnest(%s::text[]), %s"
            " on conflict (item) do nothing",
            (items, run.id),
        ).rowcount
    return JobOutcome(processed=inserted, skipped=len(items) - inserted)


def _handler(items: list[str] = ITEMS) -> Any:
    return chunked_job_handler(
        JOB,
        plan=lambda run: split_into_chunks(items, run.chunk_size),
        process_chunk=_process,
        options_model=NoOptions,
    )


def _no_poison(run: JobRun, items: list[str]) -> JobOutcome:
    return _process(JobRun(run.id, run.job_name, run.trigger, {"poison": False}, run.chunk_size), items)


@pytest.fixture
def queue(monkeypatch) -> Iterator[dict[str, str]]:
    with chunk_queue(monkeypatch, "fanout", chunk_size=3, max_receives=MAX_RECEIVES) as created:
        yield created


def _deliver(handler: Any, queue: dict[str, str], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Lambda's event source mapping: one SQS event, then delete what the function did not report failed."""
    answer = handler(sqs_event_from_messages(messages, queue["arn"]), LambdaContext(JOB))
    failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
    sqs = boto3.client("sqs", region_name="af-south-1")
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue["url"], ReceiptHandle=message["ReceiptHandle"])
    return answer


def _drain(handler: Any, queue: dict[str, str]) -> int:
    deliveries = 0
    while messages := receive(queue["url"]):
        _deliver(handler, queue, messages)
        deliveries += 1
        assert deliveries < 20, "the queue never drained"
    return deliveries


def _parent(conn) -> dict[str, Any]:
    return conn.execute("select * from cron_execution_log where job_name = %s", (JOB,)).fetchone()


def _chunks(conn) -> list[dict[str, Any]]:
    return conn.execute(
        "select chunk_no, status, items, attempts, records_processed, records_failed, records_skipped"
        " from cron_job_chunks order by chunk_no"
    ).fetchall()


def test_without_a_queue_the_chunks_run_inline_in_order_and_the_run_finishes(effects):
    # Given no queue configured and a chunk size of 3
    with settings_environment({"JOB_CHUNK_SIZE": "3", "JOB_CHUNK_QUEUE_URL": ""}):
        # When the job's schedule fires
        row = chunked_job_handler(
            JOB,
            plan=lambda run: split_into_chunks(ITEMS, run.chunk_size),
            process_chunk=_no_poison,
            options_model=NoOptions,
        )(scheduled_event(JOB), LambdaContext(JOB))
    # Then every item is processed once, in one run that completes with the summed counts, no chunk rows
    assert row["status"] == "completed" and row["records_processed"] == len(ITEMS)
    assert row["details"]["chunks"] == {"total": 3, "done": 3, "failed": 0}
    assert effects.execute("select count(*) as n from fanout_test.effects").fetchone()["n"] == len(ITEMS)
    assert _chunks(effects) == []


def test_inline_a_failing_chunk_counts_its_items_failed_and_the_others_go_on(effects):
    # Given no queue and a poison item in the second chunk
    with settings_environment({"JOB_CHUNK_SIZE": "3", "JOB_CHUNK_QUEUE_URL": ""}):
        # When the job runs
        row = _handler()(scheduled_event(JOB), LambdaContext(JOB))
    # Then the run is partial: two chunks done, the poison chunk's three items counted as failed
    assert row["status"] == "partial"
    assert (row["records_processed"], row["records_failed"]) == (5, 3)
    assert row["details"]["chunks"] == {"total": 3, "done": 2, "failed": 1}


def test_a_single_chunk_runs_inline_even_with_a_queue(effects, queue):
    # Given a queue, and only two items (one chunk)
    # When the job runs
    row = _handler(ITEMS[:2])(scheduled_event(JOB), LambdaContext(JOB))
    # Then it finished inline and sent nothing
    assert row["status"] == "completed" and row["records_processed"] == 2
    assert receive(queue["url"]) == []


def test_queued_chunks_are_processed_from_sqs_and_the_last_one_closes_the_parent(effects, queue):
    # Given a queue and eight items in chunks of three
    handler = chunked_job_handler(
        JOB,
        plan=lambda run: split_into_chunks(ITEMS, run.chunk_size),
        process_chunk=_no_poison,
        options_model=NoOptions,
    )
    # When the schedule fires
    started = handler(scheduled_event(JOB), LambdaContext(JOB))
    # Then the parent stays running with three pending chunk rows and three messages on the queue
    assert started["status"] == "running" and started["details"]["chunks"]["total"] == 3
    assert [(c["chunk_no"], c["status"], len(c["items"])) for c in _chunks(effects)] == [
        (0, "pending", 3),
        (1, "pending", 3),
        (2, "pending", 2),
    ]
    messages = receive(queue["url"])
    assert sorted(json.loads(m["Body"])["chunk_no"] for m in messages) == [0, 1, 2]
    assert all(
        json.loads(m["Body"])
        == {"job": JOB, "run_id": str(started["id"]), "chunk_no": json.loads(m["Body"])["chunk_no"]}
        for m in messages
    )
    # When Lambda delivers them
    answer = _deliver(handler, queue, messages)
    # Then no failure is reported, every item was processed once, and the parent completed with the sums
    assert answer == {"batchItemFailures": []}
    parent = _parent(effects)
    assert parent["status"] == "completed" and parent["records_processed"] == len(ITEMS)
    assert parent["details"]["chunks"] == {"total": 3, "done": 3, "failed": 0}
    assert parent["lease_expires_at"] is None and parent["execution_end"] is not None
    assert effects.execute("select count(*) as n from fanout_test.effects").fetchone()["n"] == len(ITEMS)
    assert [c["status"] for c in _chunks(effects)] == ["done", "done", "done"]


def test_a_redelivered_chunk_changes_nothing(effects, queue):
    # Given a fanned-out run whose chunks were all delivered once
    handler = chunked_job_handler(
        JOB,
        plan=lambda run: split_into_chunks(ITEMS, run.chunk_size),
        process_chunk=_no_poison,
        options_model=NoOptions,
    )
    handler(scheduled_event(JOB), LambdaContext(JOB))
    messages = receive(queue["url"])
    handler(sqs_event_from_messages(messages, queue["arn"]), LambdaContext(JOB))
    before = (_parent(effects), _chunks(effects))
    # When SQS delivers the same messages again (at-least-once delivery)
    answer = handler(sqs_event_from_messages(messages, queue["arn"]), LambdaContext(JOB))
    # Then they are acknowledged and nothing changes: parent, chunks (attempts too) and effects
    assert answer == {"batchItemFailures": []}
    assert (_parent(effects), _chunks(effects)) == before
    assert effects.execute("select count(*) as n from fanout_test.effects").fetchone()["n"] == len(ITEMS)


def test_a_poison_chunk_lands_in_the_dlq_and_shows_failed_in_the_parent(effects, queue):
    # Given a fanned-out run whose second chunk always fails
    handler = _handler()
    handler(scheduled_event(JOB), LambdaContext(JOB))
    # When Lambda keeps delivering until the queue is empty (SQS moving the poison message to the DLQ)
    _drain(handler, queue)
    # Then the poison chunk is failed after its last allowed receive, the others are done
    chunks = _chunks(effects)
    assert [(c["chunk_no"], c["status"]) for c in chunks] == [(0, "done"), (1, "failed"), (2, "done")]
    assert chunks[1]["attempts"] == MAX_RECEIVES
    # And its message is in the DLQ
    dead = receive(queue["dlq_url"])
    assert [json.loads(m["Body"])["chunk_no"] for m in dead] == [1]
    # And the parent is partial, its counts the sums of its chunks'
    parent = _parent(effects)
    assert parent["status"] == "partial" and parent["error_message"] == "1 of 3 chunks failed"
    assert parent["details"]["chunks"] == {"total": 3, "done": 2, "failed": 1}
    assert (
        (parent["records_processed"], parent["records_failed"], parent["records_skipped"])
        == (
            sum(c["records_processed"] for c in chunks),
            sum(c["records_failed"] for c in chunks),
            sum(c["records_skipped"] for c in chunks),
        )
        == (5, 3, 0)
    )


def test_a_batch_with_one_failing_chunk_reports_only_that_message(effects, queue):
    # Given a fanned-out run and one SQS event holding all its chunk messages
    handler = _handler()
    handler(scheduled_event(JOB), LambdaContext(JOB))
    messages = receive(queue["url"])
    poison_id = next(m["MessageId"] for m in messages if json.loads(m["Body"])["chunk_no"] == 1)
    # When it is delivered
    answer = handler(sqs_event_from_messages(messages, queue["arn"]), LambdaContext(JOB))
    # Then the answer is a partial batch failure naming only the poison chunk's message
    assert answer == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    # And, before its last receive, the chunk stays pending (SQS will retry it) and the parent running
    assert [c["status"] for c in _chunks(effects)] == ["done", "pending", "done"]
    assert _parent(effects)["status"] == "running"


def test_each_chunk_renews_the_parents_lease(effects, queue):
    # Given a fanned-out run whose lease is about to end
    handler = chunked_job_handler(
        JOB,
        plan=lambda run: split_into_chunks(ITEMS, run.chunk_size),
        process_chunk=_no_poison,
        options_model=NoOptions,
    )
    handler(scheduled_event(JOB), LambdaContext(JOB))
    effects.execute("update cron_execution_log set lease_expires_at = now() + interval '2 seconds'")
    messages = receive(queue["url"])
    # When one chunk is processed
    handler(sqs_event_from_messages(messages[:1], queue["arn"]), LambdaContext(JOB))
    # Then the parent's lease reaches a full lease from now again
    left = effects.execute(
        "select extract(epoch from lease_expires_at - now()) as seconds from cron_execution_log"
    ).fetchone()["seconds"]
    assert float(left) > 300


def test_a_chunk_of_a_run_that_was_taken_over_does_no_work(effects, queue):
    # Given a fanned-out run that was closed as abandoned (its lease expired) before a chunk arrived
    handler = _handler()
    handler(scheduled_event(JOB), LambdaContext(JOB))
    effects.execute("update cron_execution_log set status = 'failed', execution_end = now()")
    messages = receive(queue["url"])
    # When the chunks are delivered
    answer = handler(sqs_event_from_messages(messages, queue["arn"]), LambdaContext(JOB))
    # Then they are acknowledged without doing their work, marked failed, and the parent is left as it was
    assert answer == {"batchItemFailures": []}
    assert effects.execute("select count(*) as n from fanout_test.effects").fetchone()["n"] == 0
    assert [c["status"] for c in _chunks(effects)] == ["failed", "failed", "failed"]
    assert _parent(effects)["status"] == "failed"


def test_a_message_that_is_not_a_chunk_of_this_job_is_reported_failed(effects, queue):
    # Given messages that are not this job's chunks
    bodies = ['{"job": "other-job", "run_id": "00000000-0000-0000-0000-000000000000", "chunk_no": 0}', "nope"]
    sqs = boto3.client("sqs", region_name="af-south-1")
    for body in bodies:
        sqs.send_message(QueueUrl=queue["url"], MessageBody=body)
    messages = receive(queue["url"])
    # When they are delivered / Then both are reported failed (they end in the DLQ), nothing is written
    answer = _handler()(sqs_event_from_messages(messages, queue["arn"]), LambdaContext(JOB))
    assert sorted(item["itemIdentifier"] for item in answer["batchItemFailures"]) == sorted(
        m["MessageId"] for m in messages
    )
    assert effects.execute("select count(*) as n from cron_execution_log").fetchone()["n"] == 0


def test_two_last_chunks_finishing_at_once_close_the_parent_once_with_all_counts(effects, queue):
    import threading

    import psycopg
    from psycopg.rows import dict_row

    from isp_billing.jobs import chunks_sql as cron_chunks
    from isp_billing.jobs import log_sql as cron_log
    from tests.concurrency import wait_until_a_session_waits_for_a_lock

    # Given a fanned-out run with two chunks left pending
    handler = _handler(ITEMS[:6])  # two chunks of three, no poison
    started = handler(scheduled_event(JOB), LambdaContext(JOB))
    run_id = started["id"]

    def session(url: str) -> psycopg.Connection:
        connection = psycopg.connect(url, row_factory=dict_row, prepare_threshold=None)
        connection.execute("select set_config('role', 'service_role', true)")
        return connection

    from isp_billing.settings import get_settings

    url = get_settings().database_url.get_secret_value()  # the code's URL (runtime role)
    first, second = session(url), session(url)
    # When both chunks finish in two transactions at the same moment (the first holds the parent lock)
    cron_log.find_run(first, run_id, for_update=True)
    cron_chunks.finish_chunk(first, run_id, 0, "done", (3, 0, 0), {}, None)
    closed: list = []

    def finish_second() -> None:
        cron_log.find_run(second, run_id, for_update=True)
        cron_chunks.finish_chunk(second, run_id, 1, "done", (2, 0, 1), {}, None)
        closed.append(cron_chunks.close_parent_if_last(second, run_id))
        second.commit()

    thread = threading.Thread(target=finish_second)
    thread.start()
    wait_until_a_session_waits_for_a_lock(effects)
    closed.append(cron_chunks.close_parent_if_last(first, run_id))
    first.commit()
    thread.join(10)
    first.close()
    second.close()
    # Then exactly one of them closed the parent, and its counts are both chunks' sums
    assert closed[0] is None and closed[1] is not None
    parent = _parent(effects)
    assert parent["status"] == "completed"
    assert (parent["records_processed"], parent["records_skipped"]) == (5, 1)
