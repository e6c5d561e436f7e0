"""POST /api/admin/billing/preview: the invoices a run on a date would write, through the run's own plan and
chunk computation (`billing_run.plan_items`, `billing_run.compute`), with nothing written and nothing
locked."""

from __future__ import annotations

from isp_billing.auth import AdminPrincipal
from isp_billing.billing import run as billing_run
from isp_billing.billing.facts_models import InvoiceDraft
from isp_billing.billing.inputs import require_billing_role
from isp_billing.billing.models import (
    PreviewInvoice,
    PreviewLine,
    PreviewProblem,
    PreviewRequest,
    PreviewResponse,
)
from isp_billing.db import Connection
from isp_billing.errors import ValidationFailed
from isp_billing.settings import get_settings


def preview(conn: Connection, admin: AdminPrincipal, request: PreviewRequest) -> PreviewResponse:
    require_billing_role(admin)
    window = billing_run.billing_window(conn, request.run_date)
    invoices: list[PreviewInvoice] = []
    problems: list[PreviewProblem] = []
    nothing = 0
    chunks = billing_run.plan_items(conn, request.run_date, request.customer_id)
    _check_size(chunks, request)
    for chunk in chunks:
        for billing_date, customer_ids in sorted(billing_run.parse_items(chunk).items()):
            result = billing_run.compute(conn, billing_date, customer_ids, lock=False)
            invoices.extend(_invoice(draft) for draft in result.invoices)
            problems.extend(
                PreviewProblem(customer_id=p.customer_id, error_code=p.error_code, message=p.message)
                for p in result.problems
            )
            nothing += len(result.nothing_to_bill)
    return PreviewResponse(
        run_date=request.run_date,
        billed_from=window[0] if window else None,
        billed_through=window[1] if window else None,
        invoices=invoices,
        problems=problems,
        nothing_to_bill=nothing,
    )


def _check_size(chunks: list[list[str]], request: PreviewRequest) -> None:
    """A whole book in one request would outlast API Gateway's 29 s: above the limit, name a customer."""
    limit = get_settings().billing_preview_max_customers
    customers = len({item.split(":", 1)[1] for chunk in chunks for item in chunk})
    if request.customer_id is None and customers > limit:
        raise ValidationFailed(
            f"customer_id: required when the run would bill more than {limit} customers"
            f" (this run: {customers}); preview one customer, or use a dry run of the job for the counts",
            field="customer_id",
            limit=limit,
            customers=customers,
        )


def _invoice(draft: InvoiceDraft) -> PreviewInvoice:
    return PreviewInvoice(
        customer_id=draft.customer_id,
        invoice_date=draft.invoice_date,
        due_date=draft.due_date,
        period_start=draft.period_start,
        period_end=draft.period_end,
        vat_rate=draft.vat_rate,
        subtotal=draft.subtotal,
        vat_amount=draft.vat_amount,
        kind=draft.kind,
        total_amount=draft.total_amount,
        credit_applied=draft.credit_applied,
        credit_added=draft.credit_added,
        lines=[
            PreviewLine(
                kind=line.kind,
                description=line.description,
                amount=line.amount,
                service_id=line.service_id,
                period_start=line.period_start,
                period_end=line.period_end,
                source=line.source,
            )
            for line in draft.lines
        ],
    )
