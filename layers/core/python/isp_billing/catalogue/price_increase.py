"""A new price for every subscriber of a package from a date, announced now.

The date is at least PRICE_CHANGE_NOTICE_DAYS (a setting, default 30) after today. In one transaction:

1. the package's terms get a new history row from that date (so new sales and the catalogue follow it);
2. each service on the package at the package's price (not cancelled, no negotiated price of its own) gets
   the date's price through the billing input rule every single price change uses (`billing.inputs.
   change_price`: a price_change audit row; the billing run pro-rates the difference by day);
3. each affected customer gets one notice e-mail in the outbox (deduplicated per package, date and
   customer, so a retry queues nothing twice).

A service with its own negotiated price (an order's price override, or any price other than the package's
today) is left alone and listed. A second increase for the same package and date is refused (409): the
history already has that day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.billing import inputs as billing_inputs
from isp_billing.billing.models import ChangePriceRequest
from isp_billing.catalogue import sql as catalogue_sql
from isp_billing.catalogue.models import PriceIncreaseRequest, PriceIncreaseResult, PriceIncreaseService
from isp_billing.catalogue.packages import CATALOGUE_ROLES
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import Conflict, DomainError, NotFound, ValidationFailed
from isp_billing.money import format_money
from isp_billing.notifications import queue_sql as notifications
from isp_billing.settings import get_settings

TEMPLATE = "price_increase"


def increase(
    conn: Connection, admin: AdminPrincipal, package_id: UUID, request: PriceIncreaseRequest, request_id: str
) -> PriceIncreaseResult:
    admin.require(*CATALOGUE_ROLES)
    today = sast_today()
    notice_days = get_settings().price_change_notice_days
    earliest = today + timedelta(days=notice_days)
    if request.effective_date < earliest:
        raise ValidationFailed(
            f"effective_date: at least {notice_days} days' notice is required (from {earliest})",
            field="effective_date",
            earliest=str(earliest),
        )
    if request.monthly_price < 0:
        raise ValidationFailed("monthly_price: must not be negative", field="monthly_price")
    package = catalogue_sql.lock_package(conn, package_id)
    if package is None:
        raise NotFound("No such package.")
    list_price_today = catalogue_sql.terms_on(conn, package_id, today)
    at_date = catalogue_sql.terms_on(conn, package_id, request.effective_date)
    assert list_price_today is not None and at_date is not None
    if not catalogue_sql.insert_terms(
        conn,
        package_id,
        request.effective_date,
        request.monthly_price,
        at_date["data_cap_gb"],
        at_date["out_of_bundle_price_per_gb"],
        request.reason,
        admin.audited_admin_id,
    ):
        raise Conflict(
            f"The package already has terms from {request.effective_date}; history is never overwritten.",
            field="effective_date",
        )
    changed: list[PriceIncreaseService] = []
    left_alone: list[PriceIncreaseService] = []
    by_customer: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for service in catalogue_sql.subscribers(conn, package_id):
        entry = {"service_id": service["id"], "customer_id": service["customer_id"]}
        old_price = service["monthly_price"]
        negotiated = (
            service["price_override_reason"] is not None or old_price != list_price_today["monthly_price"]
        )
        if negotiated or old_price == request.monthly_price:
            left_alone.append(PriceIncreaseService(**entry, old_price=old_price, action_id=None))
            continue
        try:
            with conn.transaction():
                result = billing_inputs.change_price(
                    conn,
                    admin,
                    service["id"],
                    ChangePriceRequest.model_validate(
                        {
                            "monthly_price": format_money(request.monthly_price),
                            "effective_date": request.effective_date,
                            "reason": request.reason,
                        }
                    ),
                    request_id,
                )
        except DomainError:
            # e.g. a later price change of its own is already recorded: this service keeps its course
            left_alone.append(PriceIncreaseService(**entry, old_price=old_price, action_id=None))
            continue
        changed.append(PriceIncreaseService(**entry, old_price=old_price, action_id=result.action_id))
        by_customer[service["customer_id"]].append({**service, "old_price": old_price})
    queued = notifications.queue_many(
        conn,
        [
            notifications.NotificationRequest(
                customer_id=customer_id,
                kind=TEMPLATE,
                subject=f"Your {package['name']} price changes on {request.effective_date:%d %B %Y}",
                template=TEMPLATE,
                dedupe_key=f"price_increase:{package_id}:{request.effective_date}:{customer_id}",
                data={
                    "package_name": package["name"],
                    "old_prices": sorted({format_money(s["old_price"]) for s in services}),
                    "new_price": format_money(request.monthly_price),
                    "effective_date": str(request.effective_date),
                    "reason": request.reason,
                },
            )
            for customer_id, services in by_customer.items()
        ],
    )
    catalogue_sql.apply_terms(conn, today)
    return PriceIncreaseResult(
        package_id=package_id,
        effective_date=request.effective_date,
        new_price=request.monthly_price,
        changed=changed,
        left_alone=left_alone,
        notices_queued=queued,
    )
