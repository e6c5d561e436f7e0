"""Fixed-term contracts: the early-termination charge and the CPA s14(2)(c) end-of-term notices.

A service sold on a package with a minimum term keeps the term (months) from the order; activation sets
term_start (the activation day) and term_end (a day less than term_months later).

Cancelling with a last day of service before term_end adds an early-termination charge, due on the last day
so the final invoice carries it: EARLY_TERMINATION_PERCENT of the monthly price in force on the last day
(a price increase recorded for a later date does not count) for each whole or part month
from the last day to term_end, at most EARLY_TERMINATION_MAX_MONTHS months (docs/adr/0137: CPA s14(3)(b)(i)
and regulation 5(2)-(3)). A billing admin may waive it with a reason. The cancel response and its audit row
show the figures.

Between 80 and 40 business days before term_end, the send-term-end-notices job queues one e-mail per service
and term (outbox dedupe key): the term ends on that day and the service then continues month to month at
the package's price unless the customer cancels.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing import db
from isp_billing.auth import AdminPrincipal, AdminRole
from isp_billing.catalogue import sql as catalogue_sql
from isp_billing.clock import sast_today
from isp_billing.collections.action_dates import BusinessCalendar
from isp_billing.db import Connection
from isp_billing.errors import Forbidden, ValidationFailed
from isp_billing.jobs import JobOutcome, JobRun
from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import CancelRequest
from isp_billing.money import format_money, to_cents
from isp_billing.notifications import queue_sql as notifications
from isp_billing.orders import sql as orders_sql
from isp_billing.orders.models import ContractCancelRequest, ContractCancelResult, EarlyTermination
from isp_billing.settings import get_settings

WAIVER_ROLES: tuple[AdminRole, ...] = ("super_admin", "billing_admin")
NOTICE_FIRST_BUSINESS_DAYS = 80
NOTICE_LAST_BUSINESS_DAYS = 40
NOTICE_TEMPLATE = "term_ending"
JOB_NAME = "send-term-end-notices"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, the month's last day where it has none (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def months_remaining(last_day: date, term_end: date) -> int:
    """Whole or part months of the term after the last day of service (0 when none is left)."""
    months = 0
    while last_day < term_end and add_months(last_day, months) < term_end:
        months += 1
    return months


def early_termination_amount(
    monthly_price: Decimal, remaining: int, percent: Decimal, max_months: int
) -> Decimal:
    """percent of the monthly price for each month left, at most max_months of them; cents, half up."""
    charged = max(0, min(remaining, max_months))
    return to_cents(monthly_price * percent / Decimal(100) * charged)


def cancel(
    conn: Connection, admin: AdminPrincipal, service_id: UUID, request: ContractCancelRequest, request_id: str
) -> ContractCancelResult:
    if request.waive_early_termination:
        if admin.role not in WAIVER_ROLES:
            raise Forbidden(f"The {admin.role} role may not waive an early-termination charge.")
        if request.waiver_reason is None:
            raise ValidationFailed("waiver_reason: required to waive the charge", field="waiver_reason")
    elif request.waiver_reason is not None:
        raise ValidationFailed("waiver_reason goes with waive_early_termination", field="waiver_reason")
    settings = get_settings()
    found: dict[str, Any] = {}

    def early_termination(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        term = orders_sql.term_of(conn, service_id)
        last_day: date | None = after["cancellation_effective_date"]
        if term is None or term["term_end"] is None or last_day is None or last_day >= term["term_end"]:
            return {}
        remaining = months_remaining(last_day, term["term_end"])
        charged = min(remaining, settings.early_termination_max_months)
        # the price of the last day of service (a later price change already recorded does not count)
        price = orders_sql.price_on(conn, service_id, last_day)
        amount = early_termination_amount(
            price,
            remaining,
            settings.early_termination_percent,
            settings.early_termination_max_months,
        )
        charge_id = None
        if not request.waive_early_termination and amount > 0:
            rows = orders_sql.insert_charges(
                conn,
                term["customer_id"],
                [
                    (
                        "adjustment",
                        f"Early termination: {term['package_name']}, {remaining} of {term['term_months']}"
                        " months of the term left",
                        amount,
                    )
                ],
                last_day,
                admin.audited_admin_id,
            )
            charge_id = rows[0]["id"]
        found["value"] = EarlyTermination(
            term_end=term["term_end"],
            months_remaining=remaining,
            months_charged=charged,
            percent=str(settings.early_termination_percent),
            amount=Decimal("0.00") if request.waive_early_termination else amount,
            waived=request.waive_early_termination,
            waiver_reason=request.waiver_reason,
            charge_id=charge_id,
        )
        return {
            "early_termination": {
                "term_start": str(term["term_start"]),
                "term_end": str(term["term_end"]),
                "months_remaining": remaining,
                "months_charged": charged,
                "percent": str(settings.early_termination_percent),
                "monthly_price": format_money(price),
                "amount": format_money(found["value"].amount),
                "computed_amount": format_money(amount),
                "waived": request.waive_early_termination,
                "waiver_reason": request.waiver_reason,
                "charge_id": str(charge_id) if charge_id else None,
                "rule": "CPA s14(3)(b)(i), regulation 5(2)-(3): docs/adr/0137",
            }
        }

    lifecycle_request = request.model_dump(exclude={"waive_early_termination", "waiver_reason"})
    result = service_lifecycle.cancel(
        conn,
        admin,
        service_id,
        CancelRequest.model_validate(lifecycle_request),
        request_id,
        more_details=early_termination,
    )
    return ContractCancelResult(**dict(result), early_termination=found.get("value"))


# --- the end-of-term notices ------------------------------------------------------------------------------


def business_days_between(calendar: BusinessCalendar, start: date, end: date) -> int:
    """Business days after `start` up to and including `end`."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            count += 1
    return count


def queue_term_end_notices(run: JobRun) -> JobOutcome:
    today = sast_today()
    with db.service_session() as conn:
        calendar = BusinessCalendar.with_declared(
            row["holiday_date"] for row in conn.execute("select holiday_date from declared_public_holidays")
        )
        # 80 business days are at most 80 * 7 / 5 + holidays < 130 calendar days
        candidates = orders_sql.terms_ending(conn, today, today + timedelta(days=130))
        requests = []
        late = 0
        for row in candidates:
            days_left = business_days_between(calendar, today, row["term_end"])
            if days_left > NOTICE_FIRST_BUSINESS_DAYS:
                continue
            late += days_left < NOTICE_LAST_BUSINESS_DAYS
            terms = catalogue_sql.terms_on(conn, row["package_id"], row["term_end"] + timedelta(days=1))
            price_after = terms["monthly_price"] if terms else row["monthly_price"]
            requests.append(
                notifications.NotificationRequest(
                    customer_id=row["customer_id"],
                    kind=NOTICE_TEMPLATE,
                    subject=f"Your {row['package_name']} contract ends on {row['term_end']:%d %B %Y}",
                    template=NOTICE_TEMPLATE,
                    dedupe_key=f"term_ending:{row['id']}:{row['term_end']}",
                    data={
                        "package_name": row["package_name"],
                        "term_end": str(row["term_end"]),
                        "monthly_price_after": format_money(
                            row["monthly_price"] if row["price_override_reason"] else price_after
                        ),
                        "business_days_left": days_left,
                    },
                )
            )
        queued = notifications.queue_many(conn, requests)
    return JobOutcome(
        processed=queued,
        skipped=len(requests) - queued,
        details={"in_window": len(requests), "queued": queued, "late": late},
    )
