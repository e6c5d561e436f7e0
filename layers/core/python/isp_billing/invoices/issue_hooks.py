"""What the billing run does for delivery when it issues invoices: two calls, kept light to import (no PDF
library) because the billing run's cold start pays for every import.

- `queue_issued_emails(conn, invoice_ids)`: in the chunk's transaction, one INSERT ... SELECT of an
  `invoice_issued` e-mail per new invoice (dedupe key `invoice_issued:<invoice id>`).
- `request_pdfs_for(customer_ids, billing_date)`: after that transaction committed, a render message per
  invoice of the chunk that has no PDF yet. A failure is logged, not raised: the invoices are committed,
  and the render function's sweep renders whatever was not enqueued, so the chunk must not fail for it.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from isp_billing import db
from isp_billing.db import Connection
from isp_billing.invoices import documents_sql as invoice_documents
from isp_billing.observability import log_failure
from isp_billing.settings import get_settings

SQS_BATCH = 10  # SendMessageBatch's most entries


def queue_issued_emails(conn: Connection, invoice_ids: list[UUID]) -> int:
    return invoice_documents.queue_issued(conn, invoice_ids, get_settings().public_api_base_url)


def request_pdfs_for(customer_ids: list[UUID], billing_date: date) -> int:
    queue_url = get_settings().invoice_pdf_queue_url
    if not queue_url or not customer_ids:
        return 0
    try:
        with db.service_session() as conn:
            invoice_ids = invoice_documents.unrendered_for_period(conn, customer_ids, billing_date)
        return send_render_messages(queue_url, invoice_ids)
    except Exception as error:
        log_failure("invoice pdf enqueue failed; the sweep will render them", error)
        return 0


def send_render_messages(queue_url: str, invoice_ids: list[UUID]) -> int:
    import boto3  # only where the queue is configured

    client = boto3.client("sqs")
    sent = 0
    for start in range(0, len(invoice_ids), SQS_BATCH):
        batch = invoice_ids[start : start + SQS_BATCH]
        answer = client.send_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(number), "MessageBody": f'{{"invoice_id":"{invoice_id}"}}'}
                for number, invoice_id in enumerate(batch)
            ],
        )
        sent += len(answer.get("Successful", []))
    return sent
