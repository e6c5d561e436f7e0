"""Job process-debit-orders: collect due invoices as one NetCash batch, exactly once.

Intent first. One transaction claims every chosen invoice: a `submitted` collection row each (batch
reference, action date, attempt number) and the batch row in status `uploading`. Only then is the file
uploaded. Every later step (load report, authorisation) moves the batch forward from the status it left,
so a crash, a timeout or a second run resumes where the last one stopped:

- the upload's answer lost (timeout, garbage, a crash before the token was stored): the batch stays
  `uploading`/`unknown`; the next run asks NetCash for the batch by its name and never uploads it again
  (found: carry on; not found: its collections fail as `not_submitted`, and the invoices are due again);
- the load report rejects lines: exactly those collections fail, with NetCash's reason;
- the partial unique index on live collections per invoice is the database's guarantee that no invoice is
  ever claimed twice, whatever the code does.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any, Protocol
from uuid import UUID

from pydantic import Field

from isp_billing import db
from isp_billing.api_models import IsoDate
from isp_billing.clock import sast_today
from isp_billing.collections import debit_orders_sql as sql
from isp_billing.collections.action_dates import BusinessCalendar
from isp_billing.errors import ProviderError
from isp_billing.jobs import JobOptions, JobOutcome, JobRun
from isp_billing.money import format_money
from isp_billing.notifications import queue_sql as notifications
from isp_billing.observability import logger
from isp_billing.providers.netcash_debit_orders import BatchFile, BatchStatus, LoadReport, Statement
from isp_billing.settings import get_settings

JOB_NAME = "process-debit-orders"
NOT_SUBMITTED = "not_submitted"
LOAD_REJECTED = "load_rejected"
# NetCash batch statuses past authorisation (lower case); anything else unknown is left for review.
AUTHORISED_OR_LATER = {"processed", "released", "completed", "in progress", "processing"}


class ProcessDebitOrdersOptions(JobOptions):
    run_date: IsoDate | None = Field(default=None, description="The SAST upload day (default: today).")
    dry_run: bool = Field(default=False, description="Count what would be collected; write nothing.")


class DebitOrderProvider(Protocol):
    def batch_file(self, instruction: str, batch_name: str, action_date: date) -> BatchFile: ...

    def upload_batch(self, batch_file: str) -> str: ...

    def load_report(self, file_token: str) -> LoadReport | None: ...

    def batch_status(self, batch_name: str) -> BatchStatus | None: ...

    def authorise_batch(self, batch_id: str) -> None: ...

    def statement(self, day: date) -> Statement: ...


def business_calendar(around: date) -> BusinessCalendar:
    with db.service_session() as conn:
        declared = sql.declared_holidays(conn, around - timedelta(days=400), around + timedelta(days=400))
    return BusinessCalendar.with_declared(declared)


def action_date_for(run_date: date, calendar: BusinessCalendar) -> date:
    settings = get_settings()
    lead = (
        settings.debit_order_two_day_lead_business_days
        if settings.debit_order_instruction == "TwoDay"
        else settings.debit_order_same_day_lead_business_days
    )
    return calendar.earliest_action_date(run_date, lead)


def _debit_not_possible(row: dict[str, Any]) -> notifications.NotificationRequest:
    return notifications.NotificationRequest(
        customer_id=row["customer_id"],
        kind="debit_not_possible",
        subject=f"Invoice {row['invoice_number']}: please pay by EFT",
        template="debit_not_possible",
        dedupe_key=f"debit_not_possible:{row['invoice_id']}:{row['problem']}",
        data={
            "invoice_number": row["invoice_number"],
            "amount_due": format_money(row["amount_due"]),
            "mandate_amount": format_money(row["mandate_amount"]),
            "due_date": row["due_date"].isoformat(),
            "reason": row["problem"],
        },
    )


def process_debit_orders(run: JobRun, provider: DebitOrderProvider) -> JobOutcome:
    settings = get_settings()
    options = ProcessDebitOrdersOptions.of(run.options)
    run_date = options.run_date or sast_today()
    calendar = business_calendar(run_date)
    action_date = action_date_for(run_date, calendar)
    window_start = run_date - timedelta(days=settings.debit_order_window_days)
    limits = (settings.debit_order_item_limit, settings.debit_order_daily_limit)
    details: dict[str, Any] = {"run_date": run_date.isoformat(), "action_date": action_date.isoformat()}
    if not calendar.is_business_day(run_date):
        # Scheduled Monday to Friday; a public holiday uploads nothing (the next business day catches up).
        return JobOutcome(details=details | {"business_day": False})
    if options.dry_run:
        with db.service_session() as conn:
            would = sql.preview(conn, action_date, window_start, *limits)
            problems = sql.problems(conn, action_date, window_start, *limits)
        details |= {
            "dry_run": True,
            "would_collect": would["collections"],
            "total": format_money(would["total"]),
        }
        return JobOutcome(processed=0, skipped=len(problems), details=details)

    # Earlier batches first: a step owed to them (their upload's answer, report, authorisation) comes before
    # any new claim, so an invoice they hold is never claimed or uploaded again.
    resumed = [advance_batch(provider, batch) for batch in _open_batches(run.id)]

    batch_name = f"ISPB-{action_date:%Y%m%d}-{uuid.uuid4().hex[:12]}"
    # The file is written as the claim's rows stream in (inside the claim's transaction, which commits before
    # the upload): the 100,000 collections exist once, as lines of the file.
    batch_file = provider.batch_file(settings.debit_order_instruction, batch_name, action_date)
    with db.service_session() as conn:
        # One selection answers both the claimed collections and the invoices that may not be debited.
        claim = sql.claim(
            conn,
            batch_name=batch_name,
            action_date=action_date,
            window_start=window_start,
            item_limit=limits[0],
            daily_limit=limits[1],
            collect=batch_file.add,
        )
        problems = claim.problems
        sql.record_problems(conn, problems)
        notifications.queue_many(conn, [_debit_not_possible(row) for row in problems])
        batch_id = None
        if claim.count:
            batch_id = sql.insert_batch(
                conn,
                batch_name=batch_name,
                instruction=batch_file.instruction,
                action_date=action_date,
                run_id=run.id,
                item_count=claim.count,
                total=claim.total,
            )
    details |= {"not_debitable": len(problems), "resumed_batches": resumed}
    # An invoice that may not be debited (above its mandate amount or the item limit) is left for EFT with a
    # notice to the customer; the run counts it as failed, so it ends `partial` and is seen, never silent.
    if batch_id is None:
        return JobOutcome(processed=0, failed=len(problems), details=details)

    status = upload(provider, batch_id, batch_name, batch_file.finish())
    if status == "uploaded":
        status = advance_batch(provider, _batch(batch_id))
    details |= {"batch": batch_name, "batch_status": status, "collections": claim.count}
    failed = _failed_count(batch_name)
    return JobOutcome(processed=claim.count - failed, failed=failed + len(problems), details=details)


def upload(provider: DebitOrderProvider, batch_id: UUID, name: str, batch_file: str) -> str:
    """Upload the claimed batch once. An answer we cannot read leaves it `unknown` for the next step."""
    try:
        token = provider.upload_batch(batch_file)
    except ProviderError as error:
        with db.service_session() as conn:
            sql.set_batch(conn, batch_id, ("uploading",), status="unknown", error_message=error.detail[:500])
        logger.warning("debit order batch upload outcome unknown", extra={"batch": name})
        return "unknown"
    with db.service_session() as conn:
        sql.set_batch(conn, batch_id, ("uploading",), status="uploaded", file_token=token)
    return "uploaded"


def advance_batch(provider: DebitOrderProvider, batch: dict[str, Any]) -> str:
    """Take a batch as far as it goes now; returns the status it is left in. Each step is idempotent."""
    status = str(batch["status"])
    try:
        if status in ("uploading", "unknown"):
            status = _find_lost_upload(provider, batch)
        if status == "uploaded":
            status = _read_load_report(provider, batch)
        if status == "loaded":
            status = _authorise(provider, _batch(batch["id"]))
    except ProviderError as error:
        logger.warning(
            "debit order batch step failed; the next run retries",
            extra={"batch": batch["batch_name"], "provider_code": error.extra.get("code")},
        )
    return status


def _find_lost_upload(provider: DebitOrderProvider, batch: dict[str, Any]) -> str:
    found = provider.batch_status(batch["batch_name"])
    with db.service_session() as conn:
        if found is None:
            sql.fail_collections(
                conn,
                batch["batch_name"],
                NOT_SUBMITTED,
                None,
                "The debit order never reached NetCash; the invoice will be collected in a later run.",
            )
            sql.set_batch(conn, batch["id"], ("uploading", "unknown"), status="not_submitted")
            return "not_submitted"
        if found.volume is not None and found.volume != batch["item_count"]:
            sql.set_batch(
                conn,
                batch["id"],
                ("uploading", "unknown"),
                status="needs_review",
                netcash_batch_id=found.batch_id,
                error_message=f"NetCash holds {found.volume} of our {batch['item_count']} collections",
            )
            return "needs_review"
        # What NetCash says the batch is, recorded as it is: an authorised batch is never loaded again.
        status = _status_at_netcash(found)
        sql.set_batch(
            conn,
            batch["id"],
            ("uploading", "unknown"),
            status="loaded" if status == "unauthorised" else status,
            netcash_batch_id=found.batch_id,
            **_review_message(found, status),
        )
    return "loaded" if status == "unauthorised" else status


def _status_at_netcash(found: BatchStatus) -> str:
    """NetCash's batch status in our words: `unauthorised` (waiting for RequestBatchAuthorise), `authorised`
    (authorised or further along), or `needs_review` (expired, declined, a status we do not know)."""
    text = found.status.strip().lower()
    if text.startswith("unauthori") or text.startswith("not authori") or text == "awaiting authorisation":
        return "unauthorised"
    if text.startswith("authori") or text in AUTHORISED_OR_LATER:
        return "authorised"
    return "needs_review"


def _review_message(found: BatchStatus, status: str) -> dict[str, str]:
    if status != "needs_review":
        return {}
    return {"error_message": f"NetCash reports the batch as {found.status[:100]!r}; check it in the portal"}


def _read_load_report(provider: DebitOrderProvider, batch: dict[str, Any]) -> str:
    settings = get_settings()
    report = None
    for attempt in range(settings.debit_order_report_polls):
        report = provider.load_report(batch["file_token"])
        if report is not None:
            break
        if attempt + 1 < settings.debit_order_report_polls:
            time.sleep(settings.debit_order_report_poll_seconds)
    if report is None:
        return "uploaded"  # FILE NOT READY: the next run reads it
    with db.service_session() as conn:
        if not report.accepted:
            reason = "; ".join(report.file_errors) or "NetCash rejected the batch"
            sql.fail_collections(
                conn, batch["batch_name"], LOAD_REJECTED, report.rejected_references(), reason
            )
            sql.fail_collections(
                conn, batch["batch_name"], LOAD_REJECTED, None, f"NetCash rejected the batch: {reason}"
            )
            sql.set_batch(
                conn,
                batch["id"],
                ("uploaded",),
                status="rejected",
                load_result=report.result,
                error_message=reason[:500],
            )
            return "rejected"
        rejected = report.rejected_references()
        if rejected:
            sql.fail_collections(conn, batch["batch_name"], LOAD_REJECTED, rejected, "rejected by NetCash")
        sql.set_batch(conn, batch["id"], ("uploaded",), status="loaded", load_result=report.result)
    return "loaded"


def _authorise(provider: DebitOrderProvider, batch: dict[str, Any]) -> str:
    """Authorise a loaded batch once, whatever crashed before: NetCash's own status of the batch is read
    first and recorded; only a batch NetCash reports unauthorised is authorised (a run killed after NetCash
    accepted the authorisation, before the database recorded it, finds it authorised and records that)."""
    found = provider.batch_status(batch["batch_name"])
    if found is None:
        return "loaded"
    status = _status_at_netcash(found)
    if status == "unauthorised":
        provider.authorise_batch(found.batch_id)
        status = "authorised"
    with db.service_session() as conn:
        sql.set_batch(
            conn,
            batch["id"],
            ("loaded",),
            status=status,
            netcash_batch_id=found.batch_id,
            **_review_message(found, status),
        )
    return status


def _open_batches(run_id: UUID) -> list[dict[str, Any]]:
    with db.service_session() as conn:
        return sql.open_batches(conn, run_id)


def _batch(batch_id: UUID) -> dict[str, Any]:
    with db.service_session() as conn:
        return sql.get_batch(conn, batch_id)


def _failed_count(batch_name: str) -> int:
    with db.service_session() as conn:
        return sql.failed_count(conn, batch_name)
