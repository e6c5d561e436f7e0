"""The send-notifications job: outbox rows become e-mails (a local .eml folder, or SES under moto), with
backoff on transient errors, `failed` after the last attempt, `failed` at once for an address SES refuses,
and two concurrent senders never sending one row twice."""

from __future__ import annotations

import email
import email.policy
import io
import os
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pypdf
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from isp_billing import db
from isp_billing.errors import DatabaseUnavailable
from isp_billing.invoices import documents_sql as invoice_documents
from isp_billing.notifications import sender as notification_sender
from isp_billing.notifications.email_transport import OutboxFolderTransport, TransientSendError
from isp_billing.notifications.queue_sql import NotificationRequest, queue_many
from isp_billing_cli.events import LambdaContext
from isp_billing_cli.template import function_by_id
from tests.aws_delivery import SENDER, delivery_aws
from tests.chunk_queue import REGION
from tests.environment import settings_environment
from tests.factories import insert_customer
from tests.invoice_helpers import insert_invoice


def _send_job() -> dict:
    handler = function_by_id("SendNotificationsFunction").load_handler()
    return handler({}, LambdaContext("SendNotificationsFunction"))


def _queue_invoice_email(conn, **customer) -> tuple[str, dict]:
    customer_id = insert_customer(conn, first_name="Thandi", **customer)
    invoice = insert_invoice(conn, customer_id)
    with db.service_session() as runtime:
        assert invoice_documents.queue_issued(runtime, [invoice["id"]], "https://api.isp.example") == 1
    return customer_id, invoice


def _row(conn, dedupe_key: str) -> dict:
    return conn.execute("select * from notifications where dedupe_key = %s", (dedupe_key,)).fetchone()


def test_an_invoice_email_lands_in_the_outbox_folder_with_its_pdf(clean_db, conn, tmp_path):
    # Given an issued invoice whose e-mail is queued, and no SES (the local outbox folder)
    _, invoice = _queue_invoice_email(conn, email="thandi@example.test")
    with settings_environment({"NOTIFICATIONS_OUTBOX_DIR": str(tmp_path)}):
        # When the job runs
        log = _send_job()
    # Then the run sent one, and the row is sent with the message's reference
    assert log["status"] == "completed" and log["records_processed"] == 1
    row = _row(conn, f"invoice_issued:{invoice['id']}")
    assert row["status"] == "sent" and row["sent_at"] is not None and row["attempts"] == 1
    files = list(tmp_path.glob("*.eml"))
    assert [f.name for f in files] == [f"{row['id']}.eml"]
    assert row["provider_message_id"] == f"outbox:{row['id']}.eml"
    # and the .eml is the e-mail: to the billing address, the number, total, due date and the PDF link
    message = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "thandi@example.test"
    assert message["Subject"] == f"Your tax invoice {invoice['invoice_number']}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Thandi," in text and invoice["invoice_number"] in text
    assert "Total: R699.00" in text and "Due date: 04 March 2026" in text
    assert f"https://api.isp.example/api/customer/invoices/{invoice['id']}/pdf" in text
    assert message.get_body(preferencelist=("html",)) is not None
    # and the tax invoice PDF is attached
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"{invoice['invoice_number']}.pdf"]
    pdf = pypdf.PdfReader(io.BytesIO(attachments[0].get_content()))
    assert "Tax Invoice" in pdf.pages[0].extract_text()
    # When the job runs again / Then nothing is sent twice
    with settings_environment({"NOTIFICATIONS_OUTBOX_DIR": str(tmp_path)}):
        assert _send_job()["records_processed"] == 0
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_ses_sends_the_raw_message_and_records_its_message_id(clean_db, conn, monkeypatch):
    # Given SES (moto) with a verified sender and a queued invoice e-mail
    _, invoice = _queue_invoice_email(conn, email="thandi@example.test")
    with delivery_aws(monkeypatch, extra={"EMAIL_DELIVERY": "ses"}):
        # When the job runs
        log = _send_job()
        sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
        # Then SES took one raw message, to the billing address, with the invoice PDF attached
        assert len(sent) == 1
        message = email.message_from_string(sent[0].raw_data, policy=email.policy.default)
        assert message["To"] == "thandi@example.test" and message["From"] == SENDER
        attachment = next(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == f"{invoice['invoice_number']}.pdf"
    # and the row is sent with SES's message id
    row = _row(conn, f"invoice_issued:{invoice['id']}")
    assert log["records_processed"] == 1
    assert row["status"] == "sent" and row["provider_message_id"] and row["last_error"] is None


def test_an_unverified_sender_is_refused_by_ses_and_fails_once_without_retry(clean_db, conn, monkeypatch):
    # Given SES whose only verified identity is not our sender (SES answers MessageRejected)
    _, invoice = _queue_invoice_email(conn)
    environment = {"EMAIL_DELIVERY": "ses", "EMAIL_FROM_ADDRESS": "nobody@unverified.example"}
    with delivery_aws(monkeypatch, extra=environment):
        # When the job runs twice
        first = _send_job()
        second = _send_job()
    # Then the row failed once, with SES's reason and no address in it, and was not tried again
    row = _row(conn, f"invoice_issued:{invoice['id']}")
    assert first["records_failed"] == 1 and second["records_failed"] == 0
    assert row["status"] == "failed" and row["attempts"] == 1
    assert row["last_error"] == "SES refused the message (MessageRejected)"
    assert "@" not in row["last_error"]


def test_an_address_that_is_not_one_fails_at_once(clean_db, conn, tmp_path):
    # Given a row addressed to something that is not an e-mail address
    customer_id = insert_customer(conn)
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, "bad-address", recipient="not an address")])
    # When the job runs
    with settings_environment({"NOTIFICATIONS_OUTBOX_DIR": str(tmp_path)}):
        _send_job()
    # Then it failed at once, nothing was written (no attempt: the transport was never called), and the
    # reason names no address
    row = _row(conn, "bad-address")
    assert row["status"] == "failed" and (row["attempts"], row["claims"]) == (0, 1)
    assert row["last_error"] == "the recipient is missing or is not an e-mail address"
    assert list(tmp_path.iterdir()) == []


class _FlakyTransport:
    """SES stand-in that fails the first `failures` sends with a transient error, then writes .eml files."""

    def __init__(self, folder: Path, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.folder = OutboxFolderTransport(folder)

    def send(self, message):
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientSendError("SES did not take the message (TooManyRequestsException)")
        return self.folder.send(message)


def _request(customer_id, key, **extra) -> NotificationRequest:
    return NotificationRequest(
        customer_id=uuid.UUID(customer_id),
        kind="invoice_issued",
        subject="Your invoice",
        template="invoice_issued",
        dedupe_key=key,
        data={
            "invoice_number": "INV-2026-00001",
            "total_amount": "699.00",
            "due_date": "2026-03-04",
            "pdf_link": "http://127.0.0.1:3000/api/customer/invoices/x/pdf",
        },
        **extra,
    )


def _make_due(conn, key: str) -> None:
    conn.execute("update notifications set next_attempt_at = now() where dedupe_key = %s", (key,))


def test_a_transient_error_retries_with_exponential_backoff_then_sends(clean_db, conn, tmp_path):
    # Given a queued e-mail and a transport that fails twice
    customer_id = insert_customer(conn)
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, "flaky")])
    transport = _FlakyTransport(tmp_path, failures=2)
    with settings_environment({"NOTIFICATION_BACKOFF_SECONDS": "60"}):
        # When it is sent: the first attempt fails
        assert notification_sender.drain(transport)["retrying"] == 1
        first = _row(conn, "flaky")
        # Then it waits about a minute, and is not due before then
        assert first["status"] == "pending" and first["attempts"] == 1
        assert "TooManyRequestsException" in first["last_error"]
        wait = conn.execute(
            "select extract(epoch from next_attempt_at - now()) as s from notifications"
        ).fetchone()["s"]
        assert 50 < wait <= 60
        assert notification_sender.drain(transport) == {"sent": 0, "retrying": 0, "failed": 0}
        # When it is due again and fails again / Then the wait doubles
        _make_due(conn, "flaky")
        notification_sender.drain(transport)
        wait = conn.execute(
            "select extract(epoch from next_attempt_at - now()) as s from notifications"
        ).fetchone()["s"]
        assert 110 < wait <= 120
        # When the third attempt goes through / Then it is sent, once
        _make_due(conn, "flaky")
        assert notification_sender.drain(transport)["sent"] == 1
    row = _row(conn, "flaky")
    assert row["status"] == "sent" and row["attempts"] == 3 and row["last_error"] is None
    assert len(list(tmp_path.glob("*.eml"))) == 1


def test_after_the_last_attempt_the_row_is_failed_and_given_up(clean_db, conn, tmp_path):
    # Given at most 3 attempts and a transport that always fails
    customer_id = insert_customer(conn)
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, "doomed")])
    transport = _FlakyTransport(tmp_path, failures=100)
    with settings_environment({"NOTIFICATION_MAX_ATTEMPTS": "3"}):
        # When it is tried three times
        results = []
        for _ in range(3):
            _make_due(conn, "doomed")
            results.append(notification_sender.drain(transport))
        # and once more
        _make_due(conn, "doomed")
        after = notification_sender.drain(transport)
    # Then two retries, then failed with the reason; the fourth run does not try it
    assert [r["retrying"] for r in results] == [1, 1, 0] and results[2]["failed"] == 1
    assert after == {"sent": 0, "retrying": 0, "failed": 0} and transport.calls == 3
    row = _row(conn, "doomed")
    assert row["status"] == "failed" and row["attempts"] == 3
    assert row["last_error"].startswith("gave up after 3 attempts: SES did not take the message")


def test_a_sender_that_died_mid_send_is_retried_after_its_lease(clean_db, conn, tmp_path):
    # Given a row claimed by a sender that then died (status sending, its lease passed)
    customer_id = insert_customer(conn)
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, "orphan")])
        from isp_billing.notifications import outbox_sql as notification_outbox

        assert len(notification_outbox.claim_due(runtime, 10, 300, 6, 3)) == 1
    # When a sender runs while the lease holds / Then it leaves the row alone
    transport = OutboxFolderTransport(tmp_path)
    assert notification_sender.drain(transport)["sent"] == 0
    # When the lease has passed / Then the next sender sends it: its first attempt (the dead sender never
    # called the transport), its second claim
    _make_due(conn, "orphan")
    assert notification_sender.drain(transport)["sent"] == 1
    row = _row(conn, "orphan")
    assert row["status"] == "sent" and (row["attempts"], row["claims"]) == (1, 2)


_SENDER = """
import sys
from isp_billing.notifications import sender as notification_sender
from isp_billing.notifications.email_transport import OutboxFolderTransport
from pathlib import Path
counts = notification_sender.drain(OutboxFolderTransport(Path(sys.argv[1])))
print(counts["sent"])
"""


def test_two_concurrent_senders_never_send_one_row_twice(clean_db, conn, tmp_path):
    # Given 120 queued e-mails
    customer_id = insert_customer(conn)
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, f"bulk:{n}") for n in range(120)])
    # When two sender processes drain the outbox at the same time, in small batches, each into its folder
    env = {**os.environ, "DATABASE_URL": clean_db, "NOTIFICATION_BATCH_SIZE": "3"}
    folders = [tmp_path / "a", tmp_path / "b"]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _SENDER, str(folder)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for folder in folders
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), [o[1][-2000:] for o in outputs]
    # Then every row was sent exactly once between them: no file in both folders, none missing
    sent = [{path.name for path in folder.glob("*.eml")} for folder in folders]
    assert not (sent[0] & sent[1])
    assert len(sent[0]) + len(sent[1]) == 120
    assert sum(int(out.decode().split()[-1]) for out, _ in outputs) == 120
    counts = conn.execute(
        "select status, count(*) as n, max(attempts) as most from notifications group by status"
    ).fetchall()
    assert [(r["status"], r["n"], r["most"]) for r in counts] == [("sent", 120, 1)]


@pytest.mark.parametrize("attempt,expected", [(1, 60), (2, 120), (5, 960), (30, 86_400)])
def test_backoff_doubles_per_attempt_and_is_capped_at_a_day(attempt, expected, clean_db):
    assert notification_sender.backoff_seconds(attempt) == expected


def test_invoice_emails_are_queued_once_per_invoice_and_never_for_drafts(clean_db, conn):
    # Given an issued and a draft invoice
    customer_id = insert_customer(conn)
    issued = insert_invoice(conn, customer_id)
    draft = insert_invoice(conn, customer_id, status="draft", invoice_date=date(2026, 3, 25))
    # When their e-mails are queued twice
    with db.service_session() as runtime:
        first = invoice_documents.queue_issued(runtime, [issued["id"], draft["id"]], "http://x")
    with db.service_session() as runtime:
        second = invoice_documents.queue_issued(runtime, [issued["id"]], "http://x")
    # Then one row, for the issued invoice only
    assert (first, second) == (1, 0)
    rows = conn.execute("select dedupe_key, data from notifications").fetchall()
    assert [r["dedupe_key"] for r in rows] == [f"invoice_issued:{issued['id']}"]
    assert rows[0]["data"]["total_amount"] == "699.00" and rows[0]["data"]["due_date"] == "2026-03-04"


def test_the_sender_logs_no_address_and_no_name(clean_db, conn, tmp_path, caplog, monkeypatch):
    # Given one e-mail that sends, and one SES refuses (its reason is logged)
    _queue_invoice_email(conn, email="zanele.private@example.test", last_name="Privatesurname")
    caplog.clear()
    # When the job runs through SES (the sender unverified: refused) and then through the outbox folder
    with delivery_aws(
        monkeypatch, extra={"EMAIL_DELIVERY": "ses", "EMAIL_FROM_ADDRESS": "x@unverified.example"}
    ):
        _send_job()
    conn.execute("update notifications set status = 'pending', attempts = 0, next_attempt_at = now()")
    with settings_environment({"NOTIFICATIONS_OUTBOX_DIR": str(tmp_path)}):
        _send_job()
    # Then the logs name rows and kinds, never the address or the customer
    logged = " ".join(str(record.__dict__) for record in caplog.records)
    assert "notification" in logged
    assert "zanele.private" not in logged and "Privatesurname" not in logged and "Thandi" not in logged


def test_a_run_claims_no_new_batch_once_its_time_budget_is_spent(clean_db, conn, tmp_path, monkeypatch):
    # Given queued e-mails and a run whose claim budget is already spent
    customer_id = insert_customer(conn)
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, f"late:{n}") for n in range(3)])
    monkeypatch.setattr(notification_sender, "CLAIM_BUDGET_SECONDS", 0.0)
    # When it drains / Then it claims nothing: the rows wait, pending and untried, for the next run
    assert notification_sender.drain(OutboxFolderTransport(tmp_path))["sent"] == 0
    rows = conn.execute("select status, attempts from notifications").fetchall()
    assert {(r["status"], r["attempts"]) for r in rows} == {("pending", 0)}


_CRASHING_SENDER = """
import os, signal, sys
from isp_billing.notifications import sender as notification_sender
from isp_billing.notifications.email_transport import OutboxFolderTransport
from pathlib import Path

class Dies(OutboxFolderTransport):
    def send(self, message):
        os.kill(os.getpid(), signal.SIGKILL)

notification_sender.drain(Dies(Path(sys.argv[1])))
"""


def _crashing_sender(clean_db: str, folder: Path) -> int:
    env = {**os.environ, "DATABASE_URL": clean_db, "NOTIFICATION_BATCH_SIZE": "5"}
    process = subprocess.run(
        [sys.executable, "-c", _CRASHING_SENDER, str(folder)], env=env, capture_output=True, timeout=120
    )
    return process.returncode


def test_senders_that_crash_in_a_row_burn_no_attempt_and_a_crash_loop_is_bounded(clean_db, conn, tmp_path):
    # Given 5 queued e-mails, and at most 6 attempts and 3 unfinished claims per row
    customer_id = insert_customer(conn)
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, f"crash:{n}") for n in range(5)])
    # When two senders in a row are SIGKILLed before any send finished (the first in the transport)
    for _ in range(2):
        assert _crashing_sender(clean_db, tmp_path) == -9
        conn.execute("update notifications set next_attempt_at = now() where status = 'sending'")
    # Then no attempt was counted: the rows go back to the queue, and a healthy sender sends them all once
    rows = conn.execute("select status, attempts, claims from notifications").fetchall()
    assert {(r["status"], r["attempts"]) for r in rows} == {("sending", 0)}
    assert notification_sender.drain(OutboxFolderTransport(tmp_path))["sent"] == 5
    rows = conn.execute("select status, attempts, claims from notifications").fetchall()
    assert {(r["status"], r["attempts"]) for r in rows} == {("sent", 1)}
    # When one message stops its sender every time
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, "poison")])
    for _ in range(3):
        assert _crashing_sender(clean_db, tmp_path) == -9
        _make_due(conn, "poison")
    counts = notification_sender.drain(OutboxFolderTransport(tmp_path))
    # Then after 3 unfinished claims it is failed, with no attempt counted and the reason in words
    row = _row(conn, "poison")
    assert counts["failed"] == 1 and (row["status"], row["attempts"], row["claims"]) == ("failed", 0, 3)
    assert row["last_error"] == "its sender stopped 3 times before the send finished"


def test_a_connection_cut_after_a_send_repeats_at_most_that_one_message(
    clean_db, conn, tmp_path, monkeypatch
):
    # Given 30 queued e-mails, one batch, and a transport that records every message it is given
    customer_id = insert_customer(conn)
    with db.service_session() as runtime:
        queue_many(runtime, [_request(customer_id, f"cut:{n}") for n in range(30)])
    deliveries: list[str] = []

    class Recording(OutboxFolderTransport):
        def send(self, message):
            deliveries.append(str(message["Message-ID"]))
            return super().send(message)

    # And the sender's database connection is cut while it writes the 11th receipt
    from isp_billing.notifications import outbox_sql as notification_outbox

    receipts: list[str] = []
    write_receipt = notification_outbox.mark_sent

    def cut_at_the_eleventh(*args, **kwargs):
        receipts.append(str(args[1]))
        if len(receipts) == 11:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return write_receipt(*args, **kwargs)

    monkeypatch.setattr(notification_outbox, "mark_sent", cut_at_the_eleventh)
    # When the sender dies of it, and a new sender runs once the lease has passed
    with pytest.raises(DatabaseUnavailable):
        notification_sender.drain(Recording(tmp_path))
    monkeypatch.setattr(notification_outbox, "mark_sent", write_receipt)
    conn.execute("update notifications set next_attempt_at = now() where status = 'sending'")
    notification_sender.drain(Recording(tmp_path))
    # Then all 30 are sent; the one whose receipt was lost went twice (with the same Message-ID), no other
    rows = conn.execute("select status, count(*) as n from notifications group by status").fetchall()
    assert [(r["status"], r["n"]) for r in rows] == [("sent", 30)]
    repeated = {message_id for message_id in deliveries if deliveries.count(message_id) > 1}
    assert len(deliveries) == 31 and len(repeated) == 1
