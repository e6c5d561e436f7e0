"""The admin's customer use cases: sign a customer up, change contact and business details, change billing
settings; each change audited in customer_audit_log, in the same transaction, with before and after."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.billing import billing_day
from isp_billing.customers import audit_sql, contact_rules
from isp_billing.customers import customers_sql as customers
from isp_billing.customers.admin_models import (
    BillingDayChangeResult,
    BillingUpdateResult,
    CustomerBillingUpdate,
    CustomerContactUpdate,
    CustomerCreateRequest,
    CustomerWithBilling,
)
from isp_billing.db import Connection
from isp_billing.errors import Conflict, Forbidden, NotFound, ValidationFailed
from isp_billing.settings import get_settings

# Who may change billing settings (payment terms, auto-pay, debit day decide when and how money is taken).
BILLING_ROLES = ("super_admin", "billing_admin")


def create(
    conn: Connection, admin: AdminPrincipal, body: CustomerCreateRequest, request_id: str
) -> CustomerWithBilling:
    """Any active admin (support and up). The customer, its billing settings and the audit row commit
    together; a taken e-mail is 409 naming the existing account number."""
    existing = customers.account_number_with_email(conn, body.email)
    if existing is not None:
        # The common case answered before any write; a concurrent twin is caught by the unique index.
        raise Conflict(
            f"A customer with this e-mail already exists: {existing}.",
            reason="email_taken",
            account_number=existing,
        )
    values: dict[str, Any] = body.model_dump(
        include={
            "customer_type",
            "first_name",
            "last_name",
            "email",
            "phone",
            "physical_address",
            "postal_address",
            "company_name",
            "vat_number",
            "is_test",
        },
        exclude_none=True,
    )
    customer_id = customers.insert_customer(conn, values)
    settings = body.billing
    billing = {
        "billing_day": settings.billing_day or get_settings().default_billing_day,
        "payment_terms_days": settings.payment_terms_days,
        "invoice_email": settings.invoice_email or body.email,
        "auto_pay": settings.auto_pay,
        "debit_day": settings.debit_day,
    }
    customers.update_billing(conn, customer_id, {k: v for k, v in billing.items() if v is not None})
    created = _read(conn, customer_id)
    audit_sql.insert(
        conn,
        customer_id=customer_id,
        action="create",
        actor_type="admin",
        actor_admin_id=admin.admin_id,
        request_id=request_id,
        previous_data={},
        new_data={**values, "billing": billing},
    )
    return created


def get(conn: Connection, customer_id: UUID) -> CustomerWithBilling:
    return _read(conn, customer_id)


def update_contact(
    conn: Connection, admin: AdminPrincipal, customer_id: UUID, body: CustomerContactUpdate, request_id: str
) -> CustomerWithBilling:
    """Any active admin: names, e-mail, phone, addresses, customer type and business details."""
    row = customers.lock_customer(conn, customer_id)
    if row is None:
        raise NotFound("No such customer.")
    current, _ = customers.split_billing(row)
    requested = contact_rules.without_empty_parts(body.model_dump(include=body.model_fields_set))
    if {"customer_type", "company_name", "vat_number"} & body.model_fields_set:
        after = {**current, **requested}
        problem = contact_rules.business_details_problem(
            after["customer_type"], after["company_name"], after["vat_number"]
        )
        if problem:
            raise ValidationFailed(problem, field="customer_type")
    changes = _changed(current, requested)
    customers.update_customer(conn, customer_id, changes)
    if changes:
        audit_sql.insert(
            conn,
            customer_id=customer_id,
            action="contact_change",
            actor_type="admin",
            actor_admin_id=admin.admin_id,
            request_id=request_id,
            previous_data={key: current[key] for key in changes},
            new_data=changes,
        )
    return _read(conn, customer_id)


def update_billing(
    conn: Connection, admin: AdminPrincipal, customer_id: UUID, body: CustomerBillingUpdate, request_id: str
) -> BillingUpdateResult:
    """super_admin and billing_admin: debit day, auto-pay, payment terms, invoice e-mail. A billing day goes
    through the billing package's rule (`billing.billing_day.change_billing_day`: the current period ends
    before the new billing date, with a bridging period or a credit for days already invoiced), refused while
    a billing period that has begun is still to bill."""
    if admin.role not in BILLING_ROLES:
        raise Forbidden(f"The {admin.role} role may not change billing settings.")
    row = customers.lock_customer(conn, customer_id)
    if row is None:
        raise NotFound("No such customer.")
    _, current = customers.split_billing(row)
    requested = body.model_dump(include=body.model_fields_set - {"billing_day"})
    moved = None
    if "billing_day" in body.model_fields_set and body.billing_day != current["billing_day"]:
        if body.billing_day is None:
            raise ValidationFailed("billing_day: cannot be cleared.", field="billing_day")
        moved = billing_day.change_billing_day(conn, customer_id, body.billing_day)
    changes = _changed(current, requested)
    customers.update_billing(conn, customer_id, changes)
    if moved is not None:
        changes["billing_day"] = moved.new_day
    if changes:
        audit_sql.insert(
            conn,
            customer_id=customer_id,
            action="billing_change",
            actor_type="admin",
            actor_admin_id=admin.admin_id,
            request_id=request_id,
            previous_data={key: current[key] for key in changes},
            new_data=changes,
        )
    settings = _read(conn, customer_id).billing
    return BillingUpdateResult(
        **settings.model_dump(),
        changed_fields=sorted(changes),
        billing_day_change=None if moved is None else _billing_day_change(moved),
    )


def _billing_day_change(moved: billing_day.BillingDayChange) -> BillingDayChangeResult:
    current, bridging, overlap = moved.current_period, moved.bridging_period, moved.overlap
    return BillingDayChangeResult(
        old_day=moved.old_day,
        new_day=moved.new_day,
        next_billing_date=moved.next_billing_date,
        current_period_start=current[0] if current else None,
        current_period_end=current[1] if current else None,
        bridging_period_start=bridging[0] if bridging else None,
        bridging_period_end=bridging[1] if bridging else None,
        overlap_start=overlap[0] if overlap else None,
        overlap_end=overlap[1] if overlap else None,
        overlap_credit=moved.overlap_credit,
    )


def _changed(current: dict[str, Any], requested: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in requested.items() if current.get(key) != value}


def _read(conn: Connection, customer_id: UUID) -> CustomerWithBilling:
    row = customers.get_customer(conn, customer_id)
    if row is None:
        raise NotFound("No such customer.")
    customer, billing = customers.split_billing(row)
    return CustomerWithBilling.model_validate({**customer, "billing": billing})
