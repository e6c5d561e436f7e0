"""Reads of invoices: the customer's own (RLS session; never a draft or void) and the admin console's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.auth import CustomerPrincipal
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import NotFound
from isp_billing.invoices import actions_sql as invoice_actions
from isp_billing.invoices import sql as invoices
from isp_billing.invoices.line_reasons import reason
from isp_billing.invoices.models import (
    AdminInvoiceDetail,
    AdminInvoiceLine,
    AdminInvoiceSummary,
    AdminPayment,
    AppliedPayment,
    CustomerInvoiceDetail,
    InvoiceAction,
    InvoiceLine,
    InvoiceServiceUsage,
    InvoiceSummary,
)
from isp_billing.pagination import Page, decode_cursor, page_of
from isp_billing.usage.ingest import percent_used


def _cursor(cursor: str | None) -> tuple[date, UUID] | None:
    if not cursor:
        return None
    after_date, after_id = decode_cursor(cursor, date.fromisoformat, UUID)
    return after_date, after_id


def _key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["invoice_date"], row["id"])


def _with_reasons(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "reason": reason(row)} for row in rows]


def usage_of(usage_totals: dict[str, Any] | None) -> list[InvoiceServiceUsage]:
    """The invoice's usage totals (stored with it by the billing run), by service name."""
    entries = [
        InvoiceServiceUsage(
            service_id=UUID(service_id),
            service_name=entry["service_name"],
            period_start=entry["period_start"],
            period_end=entry["period_end"],
            upload_mb=Decimal(entry["upload_mb"]),
            download_mb=Decimal(entry["download_mb"]),
            total_mb=Decimal(entry["total_mb"]),
            data_cap_gb=entry.get("data_cap_gb"),
            percent_used=percent_used(Decimal(entry["total_mb"]), entry.get("data_cap_gb")),
            out_of_bundle_price_per_gb=entry.get("price_per_gb"),
        )
        for service_id, entry in (usage_totals or {}).items()
    ]
    return sorted(entries, key=lambda usage: (usage.service_name, str(usage.service_id)))


def list_customer_invoices(
    conn: Connection, customer: CustomerPrincipal, *, status: str | None, cursor: str | None, limit: int
) -> Page[InvoiceSummary]:
    rows = invoices.list_for_customer(
        conn, customer.customer_id, status=status, after=_cursor(cursor), limit=limit
    )
    items, next_cursor = page_of(rows, limit, key=_key)
    return Page[InvoiceSummary](
        items=[InvoiceSummary.model_validate(r) for r in items], next_cursor=next_cursor
    )


def get_customer_invoice(
    conn: Connection, customer: CustomerPrincipal, invoice_id: UUID
) -> CustomerInvoiceDetail:
    # Another customer's invoice, a draft or a void one is "not found": its existence is not disclosed.
    row = invoices.get_for_customer(conn, customer.customer_id, invoice_id)
    if row is None:
        raise NotFound("No such invoice.")
    return CustomerInvoiceDetail.model_validate(
        {
            **row,
            "lines": [
                InvoiceLine.model_validate(line) for line in _with_reasons(invoices.lines(conn, invoice_id))
            ],
            "payments": [AppliedPayment.model_validate(p) for p in invoices.payments(conn, invoice_id)],
            "usage": usage_of(row["usage_totals"]),
        }
    )


def list_admin_invoices(
    conn: Connection,
    *,
    customer_id: UUID | None,
    status: str | None,
    kind: str | None,
    date_from: date | None,
    date_to: date | None,
    overdue: bool,
    cursor: str | None,
    limit: int,
) -> Page[AdminInvoiceSummary]:
    rows = invoices.list_for_admin(
        conn,
        customer_id=customer_id,
        status=status,
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        overdue_on=sast_today() if overdue else None,
        after=_cursor(cursor),
        limit=limit,
    )
    items, next_cursor = page_of(rows, limit, key=_key)
    return Page[AdminInvoiceSummary](
        items=[AdminInvoiceSummary.model_validate(r) for r in items], next_cursor=next_cursor
    )


def get_admin_invoice(conn: Connection, invoice_id: UUID) -> AdminInvoiceDetail:
    row = invoices.get_for_admin(conn, invoice_id)
    if row is None:
        raise NotFound("No such invoice.")
    return AdminInvoiceDetail.model_validate(
        {
            **row,
            "lines": [
                AdminInvoiceLine.model_validate(x) for x in _with_reasons(invoices.lines(conn, invoice_id))
            ],
            "payments": [AdminPayment.model_validate(p) for p in invoices.payments(conn, invoice_id)],
            "usage": usage_of(row["usage_totals"]),
            "credit_notes": [
                InvoiceSummary.model_validate(n) for n in invoices.credit_notes(conn, invoice_id)
            ],
            "actions": [
                InvoiceAction.model_validate(a) for a in invoice_actions.for_invoice(conn, invoice_id)
            ],
        }
    )
