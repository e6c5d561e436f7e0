"""Generic SQS fan-out for big job runs: plan the work into chunks, process each chunk (inline or queued).

The parent run (its `cron_execution_log` row, started with the job's lease) calls `plan(run)`. With more
than one chunk and a queue configured (`JOB_CHUNK_QUEUE_URL`), it records one `cron_job_chunks` row per
chunk, sends one SQS message per chunk (`{"job", "run_id", "chunk_no"}`; the items stay in the row, so a
message never nears SQS's size limit) and stays `running`. Otherwise (no queue: `make run`, most tests, or
a single chunk) it processes the chunks inline, in order, through the same `_execute_chunk` the SQS side
uses, and finishes with their summed counts.

The SQS side uses Powertools' BatchProcessor with partial batch failures. A message whose chunk is no longer
pending changes nothing (re-delivery). A chunk that raises is reported as a failure, so SQS retries it; on its
last allowed receive (ApproximateReceiveCount >= `job_chunk_max_receives`, equal to the queue's
maxReceiveCount) it is also marked failed in its row, so it lands in the DLQ and shows failed in the parent.
The chunk that ends last closes the parent (`completed`, `partial` or `failed`) with counts summed in SQL
under the parent's row lock. Every chunk renews the parent's lease; a chunk of a parent that is no longer
running (taken over after its lease) is acknowledged and marked failed without doing its work.

What a chunked job needs in template.yaml (besides its schedule and cron route):

    <Job>ChunkDLQ:   AWS::SQS::Queue  (MessageRetentionPeriod: 1209600)
    <Job>ChunkQueue: AWS::SQS::Queue
        VisibilityTimeout: >= 6 x the function's Timeout (AWS's advice for SQS event sources)
        RedrivePolicy: {deadLetterTargetArn: !GetAtt <Job>ChunkDLQ.Arn, maxReceiveCount: 3}
    the function:
        Environment.Variables: JOB_CHUNK_QUEUE_URL: !Ref <Job>ChunkQueue
                               JOB_CHUNK_MAX_RECEIVES: "3"  (the same number as maxReceiveCount)
        Policies: - SQSSendMessagePolicy: {QueueName: !GetAtt <Job>ChunkQueue.QueueName}
        Events: Chunks: Type: SQS, Properties: {Queue: !GetAtt <Job>ChunkQueue.Arn, BatchSize: 1..10,
                FunctionResponseTypes: [ReportBatchItemFailures]}
        ReservedConcurrentExecutions: how many chunks may hit the database at once
    an alarm on the DLQ's ApproximateNumberOfMessagesVisible > 0.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import BaseModel, ValidationError

from isp_billing import db
from isp_billing.errors import DomainError, JobFailed, JobLeaseLost
from isp_billing.jobs import chunks_sql as cron_chunks
from isp_billing.jobs import http as job_http
from isp_billing.jobs import log_sql as cron_log
from isp_billing.jobs import metrics as job_metrics
from isp_billing.jobs.models import ChunkMessage
from isp_billing.jobs.runner import JobOutcome, JobRun, run_from_event, run_job
from isp_billing.observability import bind, log_failure, logger, metrics, per_request_log_context, traced
from isp_billing.settings import get_settings

ChunkPlanner = Callable[[JobRun], list[list[str]]]  # the run's work items, already split into chunks
ChunkWork = Callable[[JobRun, list[str]], JobOutcome]  # processes one chunk; must be idempotent

SQS_BATCH_LIMIT = 10  # send_message_batch takes at most ten entries


def _chunk_size(setting: str) -> int:
    value = getattr(get_settings(), setting)
    return int(value)


def _execute_chunk(run: JobRun, items: list[str], process_chunk: ChunkWork) -> JobOutcome:
    """One chunk's work as batch work (the batch statement timeout applies to its sessions)."""
    with db.batch_work():
        return process_chunk(run, items)


def _process_inline(run: JobRun, chunks: list[list[str]], process_chunk: ChunkWork) -> JobOutcome:
    """Chunks in order, as the queue would deliver them: a failing chunk counts its items as failed and the
    others go on; when every chunk failed the run fails."""
    summary = {"total": len(chunks), "done": 0, "failed": 0}
    total = JobOutcome(details={"chunks": summary})
    for chunk_no, items in enumerate(chunks):
        if chunk_no:
            run.renew_lease()
        try:
            outcome = _execute_chunk(run, items, process_chunk)
        except JobLeaseLost:
            raise
        except Exception as error:
            log_failure("job chunk failed", error)
            summary["failed"] += 1
            total.failed += len(items)
            continue
        summary["done"] += 1
        total.processed += outcome.processed
        total.failed += outcome.failed
        total.skipped += outcome.skipped
    if summary["failed"] and not summary["done"]:
        raise JobFailed(f"All {summary['failed']} chunks of the {run.job_name} run failed.")
    return total


def _send_chunks(queue_url: str, job_name: str, run_id: UUID, count: int) -> None:
    import boto3  # only deployed fan-out needs it; imported late to keep cold starts of other paths light

    client = boto3.client("sqs")
    for start in range(0, count, SQS_BATCH_LIMIT):
        entries = [
            {
                "Id": str(chunk_no),
                "MessageBody": json.dumps({"job": job_name, "run_id": str(run_id), "chunk_no": chunk_no}),
            }
            for chunk_no in range(start, min(start + SQS_BATCH_LIMIT, count))
        ]
        answer = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if answer.get("Failed"):
            raise RuntimeError(f"SQS refused {len(answer['Failed'])} chunk messages")


def _plan_and_dispatch(plan: ChunkPlanner, process_chunk: ChunkWork) -> Callable[[JobRun], JobOutcome]:
    def work(run: JobRun) -> JobOutcome:
        chunks = [list(chunk) for chunk in plan(run) if chunk]
        queue_url = get_settings().job_chunk_queue_url
        if len(chunks) <= 1 or not queue_url:
            return _process_inline(run, chunks, process_chunk)
        # Rows first, committed: a chunk message may be delivered before this function returns.
        with db.service_session() as conn:
            cron_chunks.insert_chunks(conn, run.id, chunks)
            run.renew_lease(conn)
        _send_chunks(queue_url, run.job_name, run.id, len(chunks))
        logger.info("job chunks queued", extra={"chunks": len(chunks)})
        return JobOutcome(details={"chunks": {"total": len(chunks), "done": 0, "failed": 0}}, continues=True)

    return work


def _finish(run_id: UUID, chunk_no: int, status: str, outcome: JobOutcome | None, error: str | None) -> None:
    counts = None if outcome is None else (outcome.processed, outcome.failed, outcome.skipped)
    details = {} if outcome is None else outcome.details
    with db.service_session() as conn:
        cron_log.find_run(conn, run_id, for_update=True)  # serialises the last-chunk check (see repository)
        cron_chunks.finish_chunk(conn, run_id, chunk_no, status, counts, details, error)
        closed = cron_chunks.close_parent_if_last(conn, run_id)
    if closed is not None:
        logger.info(
            "job finished", extra={"status": closed["status"], "processed": closed["records_processed"]}
        )
        metrics.add_metric(
            name=f"{closed['job_name']}-processed", unit="Count", value=closed["records_processed"]
        )
        job_metrics.record_run(closed)


def _chunk_record_handler(
    job_name: str, process_chunk: ChunkWork, chunk_size: int
) -> Callable[[SQSRecord], None]:
    def handle(record: SQSRecord) -> None:
        try:
            message = ChunkMessage.model_validate_json(record.body)
        except ValidationError:
            raise DomainError("The message is not a chunk message of this job.") from None
        if message.job != job_name:
            raise DomainError(f"The message is a chunk of {message.job!r}, not of {job_name!r}.")
        run_id, chunk_no = UUID(message.run_id), message.chunk_no
        with db.service_session() as conn:
            claimed = cron_chunks.claim_chunk(conn, run_id, chunk_no)
            renewed = claimed is not None and cron_log.renew_lease(
                conn, run_id, get_settings().job_lease_seconds
            )
        if claimed is None:
            logger.info("chunk already finished: re-delivery ignored", extra={"chunk_no": chunk_no})
            return
        if not renewed:
            _finish(run_id, chunk_no, "failed", None, "the parent run is no longer running")
            return
        run = JobRun(run_id, job_name, claimed["trigger"], claimed["options"] or {}, chunk_size)
        bind(job_name=job_name, job_run_id=str(run_id), chunk_no=chunk_no)
        try:
            outcome = _execute_chunk(run, list(claimed["items"]), process_chunk)
        except Exception as error:
            receives = int(record.attributes.approximate_receive_count or 1)
            log_failure("job chunk failed", error)
            if receives >= get_settings().job_chunk_max_receives:
                message_text = error.detail if isinstance(error, DomainError) else type(error).__name__
                _finish(run_id, chunk_no, "failed", None, message_text[:1000])
            raise
        _finish(run_id, chunk_no, "done", outcome, None)

    return handle


def chunked_job_handler(
    job_name: str,
    *,
    plan: ChunkPlanner,
    process_chunk: ChunkWork,
    options_model: type[BaseModel],
    chunk_size_setting: str = "job_chunk_size",
) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """A chunked job's Lambda handler: schedule, direct invoke and POST /api/cron/<job> start a parent run;
    an SQS batch of its own chunk messages processes chunks (answering `batchItemFailures`)."""
    get_settings()  # fail the cold start, naming the variable, when configuration is missing
    _chunk_size(chunk_size_setting)  # and when the chunk size setting does not exist
    parent_work = _plan_and_dispatch(plan, process_chunk)

    @per_request_log_context
    @traced
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        event = event or {}
        chunk_size = _chunk_size(chunk_size_setting)
        if _is_sqs_event(event):
            processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
            record_handler = _chunk_record_handler(job_name, process_chunk, chunk_size)
            return dict(process_partial_response(event, record_handler, processor, context))
        if job_http.is_http_event(event):

            def start(options: dict[str, Any], actor: UUID | None) -> dict[str, Any]:
                return run_job(
                    job_name,
                    parent_work,
                    trigger="manual",
                    triggered_by=actor,
                    options=options,
                    chunk_size=chunk_size,
                )

            return job_http.handle(event, options_model, start)
        return run_from_event(job_name, parent_work, options_model, event, chunk_size)

    handler.job_name = job_name  # type: ignore[attr-defined]  # read by the OpenAPI export
    handler.options_model = options_model  # type: ignore[attr-defined]
    return handler


def _is_sqs_event(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and bool(records) and records[0].get("eventSource") == "aws:sqs"
