"""The customer's usage views: the current billing period, and history by day or month.

Both read through the customer's RLS session and still filter by the caller's customer id (two walls). A day
with a manual row shows the manual figures instead of the synced ones, never their sum.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from isp_billing.auth import CustomerPrincipal
from isp_billing.billing.periods import period_containing
from isp_billing.clock import sast_today
from isp_billing.customers import billing_sql as customer_billing
from isp_billing.customers import services_sql as customer_services
from isp_billing.db import Connection
from isp_billing.errors import NotFound, ValidationFailed
from isp_billing.pagination import decode_cursor, page_of
from isp_billing.usage import sql as usage
from isp_billing.usage.ingest import percent_used
from isp_billing.usage.models import (
    CurrentUsage,
    ServicePeriodUsage,
    UsageDay,
    UsageHistory,
    UsageHistoryRow,
    UsageTotals,
)

DEFAULT_HISTORY_MONTHS = 6
MAX_HISTORY_MONTHS = 24


def _billing_day(conn: Connection, customer_id: UUID) -> int:
    row = customer_billing.get_for_customer(conn, customer_id)
    return int(row["billing_day"]) if row else 1


def _totals(days: list[dict[str, Any]]) -> UsageTotals:
    upload = sum((d["upload_mb"] for d in days), Decimal(0))
    download = sum((d["download_mb"] for d in days), Decimal(0))
    return UsageTotals(upload_mb=upload, download_mb=download, total_mb=upload + download)


def current_usage(conn: Connection, customer: CustomerPrincipal) -> CurrentUsage:
    first, last = period_containing(sast_today(), _billing_day(conn, customer.customer_id))
    by_service: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in usage.effective_days(conn, customer.customer_id, first, last):
        by_service[row["service_id"]].append(row)
    services = []
    for service in usage.customer_services_with_caps(conn, customer.customer_id):
        days = by_service.get(service["service_id"], [])
        totals = _totals(days)
        services.append(
            ServicePeriodUsage(
                service_id=service["service_id"],
                package_name=service["package_name"],
                status=service["status"],
                data_cap_gb=service["data_cap_gb"],
                percent_used=percent_used(totals.total_mb, service["data_cap_gb"]),
                totals=totals,
                days=[UsageDay.model_validate(d) for d in days],
            )
        )
    return CurrentUsage(
        period_start=first,
        period_end=last,
        last_synced_at=usage.last_synced_at(conn, customer.customer_id),
        services=services,
    )


def _months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day where it has no such day)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month_index + 1, min(day.day, calendar.monthrange(year, month_index + 1)[1]))


def history_range(start: date | None, end: date | None) -> tuple[date, date]:
    """[start, end], default the last six months to today; at most 24 months, not reversed, else 422."""
    last = end or sast_today()
    first = start or _months_before(last, DEFAULT_HISTORY_MONTHS) + timedelta(days=1)
    if first > last:
        raise ValidationFailed("start_date must not be after end_date.", field="start_date")
    if first < _months_before(last, MAX_HISTORY_MONTHS):
        raise ValidationFailed(f"The range is at most {MAX_HISTORY_MONTHS} months.", field="start_date")
    return first, last


def usage_history(
    conn: Connection,
    customer: CustomerPrincipal,
    *,
    start: date | None,
    end: date | None,
    granularity: Literal["day", "month"],
    service_id: UUID | None,
    cursor: str | None,
    limit: int,
) -> UsageHistory:
    first, last = history_range(start, end)
    if (
        service_id is not None
        and customer_services.get_for_customer(conn, customer.customer_id, service_id) is None
    ):
        raise NotFound("No such service.")
    if granularity == "month":
        if cursor is not None:
            raise ValidationFailed("Monthly history is one page: no cursor.", field="cursor")
        rows = usage.effective_months(conn, customer.customer_id, first, last, service_id=service_id)
        items = [UsageHistoryRow.model_validate(row) for row in rows]
        return UsageHistory(
            start_date=first, end_date=last, granularity="month", items=items, next_cursor=None
        )
    after = decode_cursor(cursor, date.fromisoformat, UUID) if cursor else None
    rows = usage.effective_days(
        conn,
        customer.customer_id,
        first,
        last,
        service_id=service_id,
        after=after,
        limit=limit,  # type: ignore[arg-type]
    )
    page, next_cursor = page_of(rows, limit, lambda row: (row["usage_date"], row["service_id"]))
    return UsageHistory(
        start_date=first,
        end_date=last,
        granularity="day",
        items=[UsageHistoryRow.model_validate(row) for row in page],
        next_cursor=next_cursor,
    )
