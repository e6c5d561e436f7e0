"""What admins feed the billing run: price changes (pro-rated by the run) and once-off charges."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.billing import inputs_sql as billing_inputs
from isp_billing.billing import lookups_sql as billing_lookups
from isp_billing.billing import run_sql as billing_run_sql
from isp_billing.billing.models import ChangePriceRequest, ChangePriceResult, Charge, ChargeCreateRequest
from isp_billing.billing.periods import period_containing
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import Forbidden, InvalidState, NotFound, ValidationFailed
from isp_billing.lifecycle import audit_sql as service_actions
from isp_billing.lifecycle import services_sql as admin_services
from isp_billing.money import format_money

BILLING_ROLES = ("super_admin", "billing_admin")


def require_billing_role(admin: AdminPrincipal) -> None:
    if admin.role not in BILLING_ROLES:
        raise Forbidden(f"The {admin.role} role may not change billing.")


def change_price(
    conn: Connection, admin: AdminPrincipal, service_id: UUID, request: ChangePriceRequest, request_id: str
) -> ChangePriceResult:
    """New price (or package) from an effective date; the billing run pro-rates the difference for the
    period already invoiced. The price_change audit row (before/after and the figures) is what it reads."""
    require_billing_role(admin)
    if request.monthly_price is None and request.package_id is None:
        raise ValidationFailed("monthly_price or package_id is required", field="monthly_price")
    if request.monthly_price is not None and request.monthly_price < 0:
        raise ValidationFailed("monthly_price: must not be negative", field="monthly_price")
    before = admin_services.lock_service(conn, service_id)
    if before is None:
        raise NotFound("No such service.")
    billing_run_sql.lock_customer(conn, before["customer_id"])  # serialised with the run's billing of it
    if before["status"] == "cancelled":
        raise InvalidState("A cancelled service's price cannot change.", current_status=before["status"])
    package_row = None
    if request.package_id is not None:
        package_row = billing_inputs.package(conn, request.package_id)
        if package_row is None:
            raise ValidationFailed("package_id: no such package", field="package_id")
    billing_day = billing_lookups.billing_day(conn, before["customer_id"]) or 1
    period_start = period_containing(sast_today(), billing_day)[0]
    if request.effective_date < period_start:
        raise ValidationFailed(
            f"effective_date: must not be before the current period's start ({period_start})",
            field="effective_date",
        )
    latest = billing_inputs.latest_price_change(conn, service_id)
    if latest is not None and request.effective_date < latest:
        raise ValidationFailed(
            f"effective_date: must not be before the last price change's ({latest})", field="effective_date"
        )
    new_price: Decimal = (
        request.monthly_price if request.monthly_price is not None else package_row["monthly_price"]  # type: ignore[index]
    )
    old_price: Decimal = before["monthly_price"]
    after = billing_inputs.set_price(conn, service_id, new_price, package_row)
    snapshot = {key: before[key] for key in admin_services.SNAPSHOT_COLUMNS if key in before}
    action_id = service_actions.insert(
        conn,
        service_id=service_id,
        customer_id=before["customer_id"],
        action="price_change",
        previous_status=before["status"],
        new_status=before["status"],
        reason=request.reason,
        notes=None,
        actor_type="admin",
        actor_admin_id=admin.admin_id,
        request_id=request_id,
        previous_data=snapshot,
        new_data={**snapshot, **{key: after[key] for key in after}},
        details={
            "effective_date": str(request.effective_date),
            "old_price": format_money(old_price),
            "new_price": format_money(new_price),
            "old_package_id": str(before["package_id"]),
            "new_package_id": str(after["package_id"]),
            "billing_day": billing_day,
            "current_period_start": str(period_start),
        },
    )
    return ChangePriceResult(
        service_id=service_id,
        action_id=action_id,
        package_id=after["package_id"],
        package_name=after["package_name"],
        old_price=old_price,
        new_price=new_price,
        effective_date=request.effective_date,
    )


def add_charge(
    conn: Connection, admin: AdminPrincipal, customer_id: UUID, request: ChargeCreateRequest
) -> Charge:
    require_billing_role(admin)
    if request.amount == 0 or (request.kind != "adjustment" and request.amount < 0):
        raise ValidationFailed(
            "amount: must be positive (an adjustment may be negative, not zero)", field="amount"
        )
    if not billing_inputs.customer_exists(conn, customer_id):
        raise NotFound("No such customer.")
    billing_run_sql.lock_customer(conn, customer_id)  # serialised with the run's billing of the customer
    row = billing_inputs.insert_charge(
        conn, customer_id, request.kind, request.description, request.amount, request.due_date, admin.admin_id
    )
    return Charge.model_validate(row)


def list_charges(conn: Connection, admin: AdminPrincipal, customer_id: UUID) -> list[Charge]:
    require_billing_role(admin)
    if not billing_inputs.customer_exists(conn, customer_id):
        raise NotFound("No such customer.")
    return [Charge.model_validate(row) for row in billing_inputs.list_charges(conn, customer_id)]


def cancel_charge(conn: Connection, admin: AdminPrincipal, customer_id: UUID, charge_id: UUID) -> Charge:
    require_billing_role(admin)
    # The run's lock: a charge the run has read is cancelled only after its invoice is written (then 409)
    billing_run_sql.lock_customer(conn, customer_id)
    if not billing_inputs.cancel_pending_charge(conn, customer_id, charge_id, admin.admin_id):
        row = billing_inputs.get_charge(conn, customer_id, charge_id)
        if row is None:
            raise NotFound("No such charge.")
        raise InvalidState(
            f"The charge is {row['status']}; only a pending charge can be cancelled.",
            current_status=row["status"],
        )
    row = billing_inputs.get_charge(conn, customer_id, charge_id)
    assert row is not None
    return Charge.model_validate(row)
