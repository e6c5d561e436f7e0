"""Sell a service: a pending service on a sellable package and its once-off charges, in one transaction.

support and up sell; a price other than the package's (a negotiated price, with a reason) needs
billing_admin or super_admin. The once-off charges are the package's installation and equipment fees unless
the order gives its own (an empty list: none). The charges are due on the requested date, so the first
invoice on or after it carries them. A fixed-term package's term (months) is recorded now; its dates start
at activation. The `order` audit row keeps who sold what.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from isp_billing.lifecycle import audit_sql as service_actions
from isp_billing.money import format_money
from isp_billing.orders import sql as orders_sql
from isp_billing.orders.models import OrderCharge, OrderRequest, OrderResult

PRICE_ROLES = ("super_admin", "billing_admin")


def create_order(
    conn: Connection, admin: AdminPrincipal, customer_id: UUID, request: OrderRequest, request_id: str
) -> OrderResult:
    if (request.monthly_price is None) != (request.price_override_reason is None):
        raise ValidationFailed(
            "monthly_price and price_override_reason go together", field="price_override_reason"
        )
    if request.monthly_price is not None:
        if admin.role not in PRICE_ROLES:
            raise Forbidden(f"The {admin.role} role may not set a price other than the package's.")
        if request.monthly_price < 0:
            raise ValidationFailed("monthly_price: must not be negative", field="monthly_price")
    if request.requested_date < sast_today():
        raise ValidationFailed("requested_date: must be today or later", field="requested_date")
    for index, charge in enumerate(request.charges or []):
        if charge.amount <= 0:
            raise ValidationFailed(f"charges[{index}].amount: must be positive", field="charges")
    if not orders_sql.customer_exists(conn, customer_id):
        raise NotFound("No such customer.")
    package = orders_sql.sellable_package(conn, request.package_id)
    if package is None:
        raise ValidationFailed("package_id: no such package", field="package_id")
    if not package["is_sellable"]:
        raise InvalidState("The package is retired: it is no longer sold.", field="package_id")
    price: Decimal = request.monthly_price if request.monthly_price is not None else package["monthly_price"]
    charges = _charges(request, package)
    service = orders_sql.insert_service(
        conn,
        customer_id=customer_id,
        package=package,
        monthly_price=price,
        price_override_reason=request.price_override_reason,
        installation_address=request.installation_address.model_dump(exclude_none=True),
        requested_date=request.requested_date,
    )
    rows = orders_sql.insert_charges(
        conn, customer_id, charges, request.requested_date, admin.audited_admin_id
    )
    action_id = service_actions.insert(
        conn,
        service_id=service["id"],
        customer_id=customer_id,
        action="order",
        previous_status=None,
        new_status="pending",
        reason=request.price_override_reason or "Ordered",
        notes=None,
        actor_type="system" if admin.is_system else "admin",
        actor_admin_id=admin.audited_admin_id,
        request_id=request_id,
        previous_data=None,
        new_data={"package_id": str(package["id"]), "monthly_price": format_money(price)},
        details={
            "package_name": package["name"],
            "list_price": format_money(package["monthly_price"]),
            "monthly_price": format_money(price),
            "price_override_reason": request.price_override_reason,
            "requested_date": str(request.requested_date),
            "term_months": package["minimum_term_months"],
            "charges": [
                {"kind": r["kind"], "amount": format_money(r["amount"]), "id": str(r["id"])} for r in rows
            ],
        },
    )
    return OrderResult(
        service_id=service["id"],
        customer_id=customer_id,
        package_id=package["id"],
        package_name=package["name"],
        status="pending",
        monthly_price=price,
        price_override_reason=request.price_override_reason,
        requested_date=request.requested_date,
        term_months=package["minimum_term_months"],
        charges=[OrderCharge.model_validate(r) for r in rows],
        action_id=action_id,
    )


def _charges(request: OrderRequest, package: dict[str, Any]) -> list[tuple[str, str, Decimal]]:
    if request.charges is not None:
        return [(c.kind, c.description, c.amount) for c in request.charges]
    defaults = []
    if package["installation_fee"]:
        defaults.append(("installation", f"Installation: {package['name']}", package["installation_fee"]))
    if package["equipment_fee"]:
        defaults.append(("equipment", f"Equipment: {package['name']}", package["equipment_fee"]))
    return defaults
