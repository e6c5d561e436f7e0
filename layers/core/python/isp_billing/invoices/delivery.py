"""Getting a tax invoice to its customer: the PDF in S3, the PDF route's answer, rendering once, the sweep.

- Issued invoices are rendered once, after their transaction commits: the billing run sends their ids to the
  render queue (`request_pdfs`); the render-invoice-pdfs function renders, uploads and records `pdf_url`
  (`render_and_store`, idempotent: a stored PDF is not rendered again; a re-render gives the same bytes).
- A lost enqueue (a crash between the commit and the send) or a render that ended in the DLQ is found by
  the sweep (the same function on a schedule): invoices issued more than N minutes ago with no PDF.
- The route answers a presigned URL when the PDF is stored, renders on demand (stores, then redirects) when
  not, and answers the bytes where the stage has no bucket (`make run`).

Nothing here holds a database transaction across an S3 call: the invoice row is read, the session ends,
then S3 is called, then a new short transaction records the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from isp_billing import admins_sql as admins
from isp_billing import db
from isp_billing.errors import DomainError, Forbidden, NotFound
from isp_billing.invoices import documents_sql as invoice_documents
from isp_billing.invoices.pdf import (
    DocumentLine,
    DocumentUsage,
    InvoiceDocument,
    address_lines,
    render,
    supplier_from_settings,
)
from isp_billing.invoices.queries import usage_of
from isp_billing.jobs import JobOutcome, JobRun
from isp_billing.observability import log_failure, logger
from isp_billing.settings import get_settings

RENDER_JOB_NAME = "render-invoice-pdfs"


@dataclass(frozen=True)
class PdfAnswer:
    """What the PDF route answers: a redirect to the stored object, or the bytes themselves."""

    filename: str
    redirect_url: str | None = None
    content: bytes | None = None


class RenderMessage(BaseModel):
    """The render queue's message body."""

    model_config = ConfigDict(extra="forbid")
    invoice_id: UUID


def to_document(row: dict[str, Any]) -> InvoiceDocument:
    person = f"{row['first_name']} {row['last_name']}".strip()
    business = row["customer_type"] == "business"
    return InvoiceDocument(
        invoice_number=row["invoice_number"],
        kind=row["kind"],
        invoice_date=row["invoice_date"],
        due_date=row["due_date"],
        period_start=row["period_start"],
        period_end=row["period_end"],
        customer_name=person,
        company_name=row["company_name"] if business else None,
        customer_vat_number=row["vat_number"] if business else None,
        customer_address=address_lines(row["address"]),
        account_number=row["account_number"],
        lines=tuple(
            DocumentLine(
                description=line["description"],
                period_start=_date(line["period_start"]),
                period_end=_date(line["period_end"]),
                amount=Decimal(str(line["amount"])),
            )
            for line in row["lines"]
        ),
        subtotal=row["subtotal"],
        vat_rate=row["vat_rate"],
        vat_amount=row["vat_amount"],
        total_amount=row["total_amount"],
        amount_paid=row["amount_paid"],
        amount_due=row["amount_due"],
        amount_credited=row["amount_credited"],
        account_credit_applied=row["account_credit_applied"],
        credit_note_for_number=row["credit_note_for_number"],
        # read as the API reads them, so the PDF lists the services in the API's order
        usage=tuple(
            DocumentUsage(
                service_name=usage.service_name,
                period_start=usage.period_start,
                period_end=usage.period_end,
                upload_mb=usage.upload_mb,
                download_mb=usage.download_mb,
                total_mb=usage.total_mb,
                data_cap_gb=usage.data_cap_gb,
            )
            for usage in usage_of(row.get("usage_totals"))
        ),
    )


def _date(value: Any) -> date | None:
    """Line dates arrive as ISO text (the lines are aggregated as JSON)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def render_row(row: dict[str, Any]) -> bytes:
    return render(to_document(row), supplier_from_settings())


def filename_of(row: dict[str, Any]) -> str:
    return f"{row['invoice_number']}.pdf"


# --- storage -------------------------------------------------------------------------------------------


def _s3() -> Any:
    import boto3  # only where a bucket is configured

    return boto3.client("s3")


def object_key(row: dict[str, Any]) -> str:
    """Year / number / id: readable in the console, unique even for imported numbers that repeat a shape."""
    return f"invoices/{row['invoice_date']:%Y}/{row['invoice_number']}-{row['id']}.pdf"


def store(bucket: str, row: dict[str, Any], pdf: bytes) -> str:
    """Upload (SSE by the bucket's default, and asked for explicitly) and return the s3:// URI."""
    key = object_key(row)
    _s3().put_object(
        Bucket=bucket,
        Key=key,
        Body=pdf,
        ContentType="application/pdf",
        ContentDisposition=f'inline; filename="{filename_of(row)}"',
        ServerSideEncryption="AES256",
    )
    return f"s3://{bucket}/{key}"


def presigned_url(pdf_url: str) -> str:
    parsed = urlparse(pdf_url)
    return str(
        _s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": parsed.netloc, "Key": parsed.path.lstrip("/")},
            ExpiresIn=get_settings().invoice_pdf_url_seconds,
        )
    )


def fetch_stored(pdf_url: str) -> bytes:
    parsed = urlparse(pdf_url)
    body = _s3().get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"]
    return bytes(body.read())


# --- the route -----------------------------------------------------------------------------------------


def customer_pdf(claims: dict[str, Any], invoice_id: UUID) -> PdfAnswer:
    """The signed-in customer's invoice PDF; another customer's invoice, a draft or a void one: 404."""
    with db.customer_session(claims) as (conn, customer_id):
        if customer_id is None:
            raise Forbidden("This user has no customer account.")
        row = invoice_documents.document(conn, invoice_id, customer_id)
    return _answer(row)


def admin_pdf(claims: dict[str, Any], invoice_id: UUID) -> PdfAnswer:
    """Any active admin may fetch any customer's invoice PDF (support answers questions about them)."""
    with db.service_session() as conn:
        if admins.find_active_by_auth_user(conn, claims["sub"]) is None:
            raise Forbidden("This user is not an active admin.")
        row = invoice_documents.document(conn, invoice_id)
    return _answer(row)


def _answer(row: dict[str, Any] | None) -> PdfAnswer:
    if row is None:
        raise NotFound("No such invoice.")
    bucket = get_settings().invoice_pdf_bucket
    if bucket is None:
        return PdfAnswer(filename_of(row), content=render_row(row))
    if row["pdf_url"]:
        return PdfAnswer(filename_of(row), redirect_url=presigned_url(row["pdf_url"]))
    # Not rendered yet (the queue is behind, or the render failed): render now, store, and redirect to it
    # like a stored one, so on AWS the bytes never pass through API Gateway (whose binary handling depends
    # on the caller's Accept header).
    url = _store_and_record(bucket, row, render_row(row))
    return PdfAnswer(filename_of(row), redirect_url=presigned_url(url))


def _store_and_record(bucket: str, row: dict[str, Any], pdf: bytes) -> str:
    url = store(bucket, row, pdf)
    with db.service_session() as conn:
        invoice_documents.record_pdf(conn, row["id"], url)
    return url


# --- rendering once per invoice ------------------------------------------------------------------------


def render_and_store(invoice_id: UUID) -> str:
    """Render and store one invoice's PDF unless it is stored already: 'rendered', 'already' or 'gone'."""
    bucket = get_settings().invoice_pdf_bucket
    if bucket is None:
        raise DomainError("INVOICE_PDF_BUCKET is not set: there is nowhere to store the PDF.")
    with db.service_session() as conn:
        row = invoice_documents.document(conn, invoice_id)
    if row is None:
        return "gone"  # voided before it was rendered (or never issued): nothing to deliver
    if row["pdf_url"]:
        return "already"
    _store_and_record(bucket, row, render_row(row))
    return "rendered"


def sweep(run: JobRun) -> JobOutcome:
    """Render what the queue has not: invoices issued more than N minutes ago with no PDF."""
    settings = get_settings()
    if settings.invoice_pdf_bucket is None:
        return JobOutcome(details={"reason": "no bucket configured; PDFs are rendered on request"})
    with db.service_session() as conn:
        missing = invoice_documents.missing_pdfs(
            conn, settings.invoice_pdf_sweep_after_minutes, settings.invoice_pdf_sweep_batch
        )
    outcome = JobOutcome(details={"missing": len(missing)})
    for invoice_id in missing:
        try:
            result = render_and_store(invoice_id)
        except Exception as error:
            log_failure("invoice pdf render failed", error)
            outcome.failed += 1
            continue
        if result == "rendered":
            outcome.processed += 1
        else:
            outcome.skipped += 1
    logger.info("invoice pdf sweep", extra={"rendered": outcome.processed, "failed": outcome.failed})
    return outcome


def pdf_for_attachment(invoice_id: UUID) -> tuple[str, bytes] | None:
    """(filename, bytes) of an invoice's PDF for an e-mail: the stored object, else rendered now; None when
    the invoice is no longer deliverable (voided since)."""
    with db.service_session() as conn:
        row = invoice_documents.document(conn, invoice_id)
    if row is None:
        return None
    if row["pdf_url"]:
        return filename_of(row), fetch_stored(row["pdf_url"])
    return filename_of(row), render_row(row)
