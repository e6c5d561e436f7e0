"""render-invoice-pdfs: the render queue's messages (moto SQS, real event shapes) render, upload (moto S3)
and record each invoice's PDF once; a failing render is retried by SQS and lands in the DLQ; the sweep
renders what a lost enqueue left behind; the billing run enqueues its new invoices after commit."""

from __future__ import annotations

import json
from datetime import date

from isp_billing import db
from isp_billing.invoices import delivery as invoice_delivery
from isp_billing.invoices import documents_sql as invoice_documents
from isp_billing_cli.events import LambdaContext
from isp_billing_cli.template import function_by_id
from tests.aws_delivery import BUCKET, delivery_aws
from tests.billing_helpers import billed_customer, run_billing
from tests.events import sqs_event_from_messages
from tests.factories import insert_customer
from tests.invoice_helpers import insert_invoice

FUNCTION = "RenderInvoicePdfsFunction"


def _handler():
    return function_by_id(FUNCTION).load_handler()


def _receive(aws, queue_url=None):
    return (
        aws["sqs"]
        .receive_message(QueueUrl=queue_url or aws["url"], MaxNumberOfMessages=10, AttributeNames=["All"])
        .get("Messages", [])
    )


def _deliver(aws, messages):
    """Play Lambda's poller: invoke with the batch, delete what succeeded (as the event source mapping
    does)."""
    answer = _handler()(sqs_event_from_messages(messages, aws["arn"]), LambdaContext(FUNCTION))
    failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
    for message in messages:
        if message["MessageId"] not in failed:
            aws["sqs"].delete_message(QueueUrl=aws["url"], ReceiptHandle=message["ReceiptHandle"])
    return failed


def _pdf_url(conn, invoice_id):
    return conn.execute("select pdf_url from customer_invoices where id = %s", (invoice_id,)).fetchone()[
        "pdf_url"
    ]


def test_render_messages_render_store_and_record_each_invoice_once(conn, monkeypatch):
    # Given two issued invoices and their render messages (one sent twice: a re-delivery)
    customer_id = insert_customer(conn)
    first = insert_invoice(conn, customer_id)
    second = insert_invoice(conn, customer_id, invoice_date=date(2026, 3, 25))
    with delivery_aws(monkeypatch) as aws:
        for invoice in (first, second, first):
            aws["sqs"].send_message(
                QueueUrl=aws["url"], MessageBody=json.dumps({"invoice_id": str(invoice["id"])})
            )
        # When the function gets the batch
        failed = _deliver(aws, _receive(aws))
        # Then nothing failed, each PDF is in the bucket once and recorded on its invoice
        assert failed == set()
        keys = [item["Key"] for item in aws["s3"].list_object_versions(Bucket=BUCKET).get("Versions", [])]
        assert sorted(keys) == sorted(
            f"invoices/2026/{inv['invoice_number']}-{inv['id']}.pdf" for inv in (first, second)
        )
        for invoice in (first, second):
            assert _pdf_url(conn, invoice["id"]).startswith(f"s3://{BUCKET}/invoices/2026/")
        assert _receive(aws) == []


def test_a_render_that_keeps_failing_is_retried_then_lands_in_the_dlq(conn, monkeypatch):
    # Given a queue with a DLQ after 3 receives, one good message and one that is not a render message
    customer_id = insert_customer(conn)
    good = insert_invoice(conn, customer_id)
    with delivery_aws(monkeypatch, max_receives=3) as aws:
        aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody=json.dumps({"invoice_id": str(good["id"])}))
        aws["sqs"].send_message(QueueUrl=aws["url"], MessageBody='{"invoice": "nope"}')
        # When the poller delivers until the queue is empty
        rounds = 0
        while messages := _receive(aws):
            failed = _deliver(aws, messages)
            assert len(failed) == 1  # only the bad one is reported: partial batch failure
            rounds += 1
        # Then the good invoice is rendered and the bad message, after 3 tries, is in the DLQ
        assert rounds == 3
        assert _pdf_url(conn, good["id"]) is not None
        dead = _receive(aws, aws["dlq_url"])
        assert [m["Body"] for m in dead] == ['{"invoice": "nope"}']


def test_the_sweep_renders_invoices_issued_a_while_ago_with_no_pdf(conn, monkeypatch):
    # Given an invoice issued an hour ago whose enqueue was lost, one issued a minute ago, and a draft
    customer_id = insert_customer(conn)
    lost = insert_invoice(conn, customer_id, age_minutes=60)
    recent = insert_invoice(conn, customer_id, age_minutes=1, invoice_date=date(2026, 3, 25))
    draft = insert_invoice(conn, customer_id, status="draft", age_minutes=60, invoice_date=date(2026, 4, 25))
    with delivery_aws(monkeypatch):
        # When the scheduled sweep runs (an EventBridge Scheduler event)
        log = _handler()({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}}, None)
        # Then only the old one is rendered (the queue still has time for the recent one; drafts never)
        assert log["status"] == "completed" and log["records_processed"] == 1
        assert _pdf_url(conn, lost["id"]) is not None
        assert _pdf_url(conn, recent["id"]) is None and _pdf_url(conn, draft["id"]) is None
        # When it runs again / Then there is nothing left to do
        again = _handler()({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}}, None)
        assert again["records_processed"] == 0


def test_the_billing_run_enqueues_its_new_invoices_after_commit_and_queues_their_emails(conn, monkeypatch):
    # Given two customers billed on the 25th and the render queue configured
    customers = [billed_customer(conn, billing_day=25)[0] for _ in range(2)]
    with delivery_aws(monkeypatch) as aws:
        # When the billing run bills them
        run_billing(date(2026, 2, 25))
        # Then one render message per new invoice is on the queue
        invoices = conn.execute(
            "select id from customer_invoices where customer_id = any(%s::uuid[])", (customers,)
        ).fetchall()
        assert len(invoices) == 2
        bodies = sorted(json.loads(m["Body"])["invoice_id"] for m in _receive(aws))
        assert bodies == sorted(str(row["id"]) for row in invoices)
    # and one invoice_issued e-mail per invoice was queued in the run's transaction
    keys = conn.execute("select dedupe_key from notifications order by dedupe_key").fetchall()
    assert [k["dedupe_key"] for k in keys] == sorted(f"invoice_issued:{row['id']}" for row in invoices)
    # When the run is repeated / Then nothing more is queued
    run_billing(date(2026, 2, 25))
    assert conn.execute("select count(*) as n from notifications").fetchone()["n"] == 2


def test_a_crash_between_upload_and_record_is_repaired_by_the_sweep_with_identical_bytes(conn, monkeypatch):
    # Given an invoice whose PDF was uploaded by a render that died before recording it
    customer_id = insert_customer(conn)
    invoice = insert_invoice(conn, customer_id, age_minutes=60)
    with delivery_aws(monkeypatch) as aws:
        with db.service_session() as runtime:
            row = invoice_documents.document(runtime, invoice["id"])
        invoice_delivery.store(BUCKET, row, invoice_delivery.render_row(row))
        assert _pdf_url(conn, invoice["id"]) is None
        # When the sweep runs
        log = _handler()({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}}, None)
        # Then the invoice records its PDF, and the second upload is the same bytes as the first
        assert log["records_processed"] == 1 and _pdf_url(conn, invoice["id"]) is not None
        key = invoice_delivery.object_key(row)
        versions = aws["s3"].list_object_versions(Bucket=BUCKET)["Versions"]
        bodies = {
            aws["s3"].get_object(Bucket=BUCKET, Key=key, VersionId=v["VersionId"])["Body"].read()
            for v in versions
        }
        assert len(versions) == 2 and len(bodies) == 1
