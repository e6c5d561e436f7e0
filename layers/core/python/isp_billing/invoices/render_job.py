"""The render-invoice-pdfs function's two entry points in one handler: an SQS batch of render messages
(Powertools batch processing: a failed message is reported alone, retried by SQS, and after the queue's
maxReceiveCount lands in the DLQ), or the sweep as a job (schedule, direct invoke, POST /api/cron/...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from isp_billing.errors import DomainError
from isp_billing.invoices.delivery import RENDER_JOB_NAME, RenderMessage, render_and_store, sweep
from isp_billing.jobs import NoOptions, job_handler
from isp_billing.observability import logger, per_request_log_context


def render_record(record: SQSRecord) -> None:
    try:
        message = RenderMessage.model_validate_json(record.body)
    except ValidationError:
        raise DomainError("The message is not an invoice render message.") from None
    result = render_and_store(message.invoice_id)
    logger.info("invoice pdf", extra={"invoice_id": str(message.invoice_id), "result": result})


def build_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    sweep_handler = job_handler(RENDER_JOB_NAME, sweep, options_model=NoOptions)

    @per_request_log_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = (event or {}).get("Records")
        if isinstance(records, list) and records and records[0].get("eventSource") == "aws:sqs":
            processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
            return dict(process_partial_response(event, render_record, processor, context))
        return sweep_handler(event, context)

    handler.job_name = RENDER_JOB_NAME  # type: ignore[attr-defined]  # read by the OpenAPI export
    handler.options_model = NoOptions  # type: ignore[attr-defined]
    return handler
