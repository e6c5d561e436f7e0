"""The send-notifications job: deliver the outbox's due rows by e-mail (SES, or the local outbox folder).

Per batch: give up rows whose senders stopped mid-send too often, claim due rows (SKIP LOCKED, a lease, the
claim counted), then for each: render its template, build the message (an `invoice_issued` e-mail carries
the invoice PDF when it fits), send, and record the outcome at once (the attempt counted only now, and only
if the transport was called). The outcome is written per
row, straight after its send, on purpose: it is the receipt of an outside effect, and batching receipts
would widen the window in which a crash makes a second sender repeat e-mails that already went.

Two senders at once never claim one row (SKIP LOCKED, then `sending`); a sender that crashes after SES took
a message and before its receipt leaves the row to be sent again after its lease (at least once, with the
same Message-ID), without burning an attempt; `notification_max_unfinished_claims` such stops end it
`failed`, so a message that crashes its sender every time does not loop. Transient errors retry with
exponential backoff until `notification_max_attempts`, then `failed`; an address or message SES refuses
fails at once. Logs carry the row's id and kind, never the address, the name or the body.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from isp_billing import db
from isp_billing.jobs import JobOutcome, JobRun
from isp_billing.notifications import email_transport
from isp_billing.notifications import outbox_sql as outbox
from isp_billing.notifications import templates as notification_templates
from isp_billing.notifications.email_transport import Attachment, PermanentSendError, Transport
from isp_billing.observability import log_failure, logger, metrics
from isp_billing.settings import get_settings

JOB_NAME = "send-notifications"
# A run claims no new batch after this many seconds: its last batch (100 sends, each well under a second)
# still finishes inside the function's 300 s timeout; the next run, 5 minutes later, goes on.
CLAIM_BUDGET_SECONDS = 180.0
_PLAUSIBLE_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def backoff_seconds(attempt: int) -> int:
    """After attempt n (1-based): base x 2^(n-1), capped at a day."""
    return int(min(get_settings().notification_backoff_seconds * 2 ** max(0, attempt - 1), 86_400))


def send_due(run: JobRun, transport: Transport | None = None) -> JobOutcome:
    """The job's work: drain the due rows, renewing the run's lease between batches."""
    counts = drain(transport or email_transport.configured_transport(), between_batches=run.renew_lease)
    return JobOutcome(
        processed=counts["sent"], failed=counts["failed"], skipped=counts["retrying"], details=counts
    )


def drain(transport: Transport, between_batches: Callable[[], None] = lambda: None) -> dict[str, int]:
    """Claim and send batch after batch until nothing is due or the claim budget is spent."""
    settings = get_settings()
    counts = {"sent": 0, "retrying": 0, "failed": 0}
    deadline = time.monotonic() + CLAIM_BUDGET_SECONDS
    while time.monotonic() < deadline:
        with db.service_session() as conn:
            abandoned = outbox.give_up_abandoned(conn, settings.notification_max_unfinished_claims)
            claimed = outbox.claim_due(
                conn,
                settings.notification_batch_size,
                settings.notification_lease_seconds,
                settings.notification_max_attempts,
                settings.notification_max_unfinished_claims,
            )
        _count(counts, "failed", abandoned)
        if not claimed:
            break
        for row in claimed:
            _count(counts, deliver(row, transport))
        between_batches()
    return counts


def _count(counts: dict[str, int], result: str, how_many: int = 1) -> None:
    counts[result] += how_many
    if result == "failed" and how_many:
        metrics.add_metric(name="NotificationsFailed", unit="Count", value=how_many)


def deliver(row: dict[str, Any], transport: Transport) -> str:
    """Send one claimed row and record the outcome in its own transaction at once: 'sent', 'retrying' or
    'failed'. An attempt is counted only when the transport was called."""
    settings = get_settings()
    attempt = int(row["attempts"]) + 1  # the attempt this is, if the transport is called
    claim = int(row["claims"])
    notification_id: UUID = row["id"]
    log = {"notification_id": str(notification_id), "kind": row["kind"], "attempt": attempt}
    called = False
    try:
        message = _message(row)
        called = True
        message_id = transport.send(message)
    except PermanentSendError as refused:
        return _fail(notification_id, claim, str(refused), log, called)
    except notification_templates.UnknownTemplate:
        return _fail(notification_id, claim, f"no template named {row['template']!r}", log, called)
    except Exception as error:
        reason = _safe_reason(error)
        if called and attempt >= settings.notification_max_attempts:
            return _fail(notification_id, claim, f"gave up after {attempt} attempts: {reason}", log, called)
        with db.service_session() as conn:
            outbox.mark_retry(
                conn, notification_id, claim, reason, backoff_seconds(attempt if called else 1), called
            )
        log_failure("notification send failed; retrying later", error)
        logger.warning("notification retrying", extra=log)
        return "retrying"
    # The receipt of an outside effect, committed on its own straight after it: a connection cut now can
    # make a later sender repeat this one message, never the others of the batch.
    with db.service_session() as conn:
        outbox.mark_sent(conn, notification_id, claim, message_id)
    logger.info("notification sent", extra=log)
    return "sent"


def _fail(notification_id: UUID, claim: int, reason: str, log: dict[str, Any], attempted: bool) -> str:
    with db.service_session() as conn:
        outbox.mark_failed(conn, notification_id, claim, reason, attempted)
    logger.warning("notification failed", extra={**log, "reason": reason})
    return "failed"


def _safe_reason(error: Exception) -> str:
    """An error's class, and its text only for our own transports' errors (whose texts carry no address)."""
    if isinstance(error, email_transport.TransientSendError):
        return str(error)
    return type(error).__name__


def _message(row: dict[str, Any]) -> Any:
    recipient = (row["recipient"] or "").strip()
    if not _PLAUSIBLE_ADDRESS.match(recipient):
        raise PermanentSendError("the recipient is missing or is not an e-mail address")
    body = notification_templates.render(row["template"], row["data"] or {})
    return email_transport.build_message(
        sender=get_settings().email_from_address,
        recipient=recipient,
        subject=row["subject"],
        text=body.text,
        html=body.html,
        attachment=_attachment(row),
        reference=str(row["id"]),
    )


def _attachment(row: dict[str, Any]) -> Attachment | None:
    """The invoice PDF for an invoice_issued e-mail; without it (it could not be had) the link still works."""
    if row["kind"] != "invoice_issued" or not (row["data"] or {}).get("invoice_id"):
        return None
    from isp_billing.invoices import delivery as invoice_delivery

    try:
        found = invoice_delivery.pdf_for_attachment(UUID(str(row["data"]["invoice_id"])))
    except Exception as error:
        log_failure("invoice pdf for the e-mail failed; sending the link only", error)
        return None
    if found is None:
        return None
    filename, content = found
    return Attachment(filename, content)
