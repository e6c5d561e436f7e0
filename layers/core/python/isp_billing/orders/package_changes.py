"""Package changes: an admin's, and the customer's requests an admin approves or declines.

A change has two sides, both from the effective date (today or later):

- the price: the billing input rule of every price change (`billing.inputs.change_price` with the new
  package and its price in force on that date: a price_change audit row; the billing run pro-rates);
- the line: a `change_profile` row of service_provider_work due on that date, committed with the change (the
  intent exists before any call); retry-provider-sync PATCHes the subscriber's profile_id on the day and
  retries until Interstellio confirms, with a `package_change` audit row. A later change replaces one that
  is still waiting. A line that does not exist yet gets the new package's profile when it is created.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import errors as pg_errors

from isp_billing.auth import AdminPrincipal, AdminRole, CustomerPrincipal
from isp_billing.billing import inputs as billing_inputs
from isp_billing.billing.models import ChangePriceRequest
from isp_billing.catalogue import sql as catalogue_sql
from isp_billing.clock import sast_now, sast_today
from isp_billing.db import Connection
from isp_billing.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from isp_billing.money import format_money
from isp_billing.orders import requests_sql, work_sql
from isp_billing.orders.models import (
    AdminChangeRequest,
    ApproveChangeRequest,
    ChangePackageRequest,
    ChangePackageResult,
    ChangeRequest,
    ChangeRequestCreate,
    DeclineChangeRequest,
)

CHANGE_ROLES: tuple[AdminRole, ...] = ("super_admin", "billing_admin")


def change_package(
    conn: Connection, admin: AdminPrincipal, service_id: UUID, request: ChangePackageRequest, request_id: str
) -> ChangePackageResult:
    admin.require(*CHANGE_ROLES)
    today = sast_today()
    if request.effective_date < today:
        raise ValidationFailed("effective_date: must be today or later", field="effective_date")
    service = work_sql.lock_service(conn, service_id)
    if service is None:
        raise NotFound("No such service.")
    if service["status"] == "cancelled":
        raise InvalidState("A cancelled service's package cannot change.", current_status=service["status"])
    package = catalogue_sql.lock_package(conn, request.package_id)
    if package is None:
        raise ValidationFailed("package_id: no such package", field="package_id")
    if not package["is_sellable"]:
        raise InvalidState("The package is retired: it is no longer sold.", field="package_id")
    if package["id"] == service["package_id"]:
        raise ValidationFailed("package_id: the service is on that package already", field="package_id")
    terms = catalogue_sql.terms_on(conn, package["id"], request.effective_date)
    assert terms is not None
    priced = billing_inputs.change_price(
        conn,
        admin,
        service_id,
        ChangePriceRequest.model_validate(
            {
                "package_id": package["id"],
                "monthly_price": format_money(terms["monthly_price"]),
                "effective_date": request.effective_date,
                "reason": request.reason,
            }
        ),
        request_id,
    )
    requests_sql.clear_negotiated_price(conn, service_id)
    work_sql.supersede_open_profile_changes(conn, service_id)
    profile_change_id = None
    if service["interstellio_subscriber_id"] and package["interstellio_profile_id"]:
        work = work_sql.insert(
            conn,
            service_id=service_id,
            customer_id=service["customer_id"],
            kind="change_profile",
            subscriber_id=service["interstellio_subscriber_id"],
            profile_id=package["interstellio_profile_id"],
            package_id=package["id"],
            due_date=request.effective_date,
            request_id=request_id,
            actor_admin_id=admin.audited_admin_id,
        )
        profile_change_id = work["id"]
    return ChangePackageResult(
        service_id=service_id,
        price_action_id=priced.action_id,
        old_price=priced.old_price,
        new_price=priced.new_price,
        effective_date=request.effective_date,
        profile_change_id=profile_change_id,
    )


# --- the customer's requests -------------------------------------------------------------------------------


def create_request(
    conn: Connection, customer: CustomerPrincipal, service_id: UUID, request: ChangeRequestCreate
) -> ChangeRequest:
    """In the customer's own RLS session: another customer's service is simply not found."""
    service = requests_sql.own_service(conn, service_id)
    if service is None:
        raise NotFound("No such service.")
    if service["status"] == "cancelled":
        raise InvalidState("A cancelled service cannot change package.", current_status=service["status"])
    package = requests_sql.sellable(conn, request.package_id)
    if package is None:
        raise ValidationFailed("package_id: not a package on sale", field="package_id")
    if package["id"] == service["package_id"]:
        raise ValidationFailed("package_id: the service is on that package already", field="package_id")
    try:
        with conn.transaction():
            request_id = requests_sql.insert(conn, service, package["id"], request.note)
    except pg_errors.UniqueViolation:
        raise Conflict("This service has a change request waiting for a decision already.") from None
    row = requests_sql.get(conn, request_id)
    assert row is not None
    return ChangeRequest.model_validate(row)


def list_own_requests(conn: Connection, customer: CustomerPrincipal) -> list[ChangeRequest]:
    return [ChangeRequest.model_validate(row) for row in requests_sql.list_requests(conn, customer_id=None)]


def list_requests(conn: Connection, admin: AdminPrincipal, status: str | None) -> list[AdminChangeRequest]:
    return [
        AdminChangeRequest.model_validate(row)
        for row in requests_sql.list_requests(conn, customer_id=None, status=status)
    ]


def approve(
    conn: Connection,
    admin: AdminPrincipal,
    change_request_id: UUID,
    body: ApproveChangeRequest,
    request_id: str,
) -> AdminChangeRequest:
    admin.require(*CHANGE_ROLES)
    pending = _lock_pending(conn, change_request_id)
    reason = body.reason or "Customer's change request approved"
    change_package(
        conn,
        admin,
        pending["service_id"],
        ChangePackageRequest(
            package_id=pending["package_id"], effective_date=body.effective_date, reason=reason
        ),
        request_id,
    )
    requests_sql.decide(
        conn, change_request_id, "approved", body.effective_date, body.reason, admin.admin_id, sast_now()
    )
    return _admin_view(conn, change_request_id)


def decline(
    conn: Connection, admin: AdminPrincipal, change_request_id: UUID, body: DeclineChangeRequest
) -> AdminChangeRequest:
    if admin.role not in ("super_admin", "billing_admin", "support"):
        raise Forbidden(f"The {admin.role} role may not decide change requests.")
    _lock_pending(conn, change_request_id)
    requests_sql.decide(conn, change_request_id, "declined", None, body.reason, admin.admin_id, sast_now())
    return _admin_view(conn, change_request_id)


def _lock_pending(conn: Connection, change_request_id: UUID) -> dict[str, Any]:
    row = requests_sql.lock(conn, change_request_id)
    if row is None:
        raise NotFound("No such change request.")
    if row["status"] != "pending":
        raise InvalidState(f"The request is {row['status']} already.", current_status=row["status"])
    return row


def _admin_view(conn: Connection, change_request_id: UUID) -> AdminChangeRequest:
    row = requests_sql.get(conn, change_request_id)
    assert row is not None
    return AdminChangeRequest.model_validate(row)
