"""The customer's payment methods: list, add (debit order with a NetCash eMandate, card token, EFT), rename or
update a card's expiry, deactivate, choose the primary.

Every write runs in the customer's RLS transaction (`authenticated`); the guard trigger on the table limits
the columns a customer may touch. Changes to one customer's methods are serialised by an advisory lock, and
the partial unique index on (customer_id) where is_primary and is_active guarantees one primary regardless.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from isp_billing import idempotency
from isp_billing.auth import CustomerPrincipal
from isp_billing.db import Connection
from isp_billing.errors import Conflict, InvalidState, NotFound, ValidationFailed
from isp_billing.observability import logger
from isp_billing.payment_methods import mandate_requests
from isp_billing.payment_methods import sql as repository
from isp_billing.payment_methods.models import (
    CardCreate,
    DebitOrderCreate,
    EftCreate,
    PaymentMethod,
    PaymentMethodUpdate,
    expiry_has_passed,
)
from isp_billing.providers.netcash import MandateProvider

COLLECTION_ROUTE = "/api/customer/payment-methods"
CREATE_ROUTE = f"POST {COLLECTION_ROUTE}"
SET_PRIMARY_ROUTE = f"POST {COLLECTION_ROUTE}/{{payment_method_id}}/set-primary"
UNUSABLE_MANDATE = ("declined", "cancelled", "expired")


def list_active(conn: Connection, customer: CustomerPrincipal) -> list[PaymentMethod]:
    return [PaymentMethod.model_validate(row) for row in repository.list_active(conn, customer.customer_id)]


def add(
    conn: Connection,
    customer: CustomerPrincipal,
    body: DebitOrderCreate | CardCreate | EftCreate,
    *,
    provider: MandateProvider,
    idempotency_key: str | None,
) -> idempotency.Outcome:
    request = idempotency.IdempotentRequest.for_customer(
        route=CREATE_ROUTE,
        path=COLLECTION_ROUTE,
        body=body.fingerprint_material(),
        key=idempotency_key,
        customer_id=customer.customer_id,
    )

    def effect() -> tuple[int, Any]:
        method = _add(conn, customer.customer_id, body, provider)
        return 201, method.model_dump(mode="json")

    return idempotency.run(conn, request, effect)


def _add(
    conn: Connection,
    customer_id: UUID,
    body: DebitOrderCreate | CardCreate | EftCreate,
    provider: MandateProvider,
) -> PaymentMethod:
    method_id = uuid.uuid4()
    repository.lock_customer(conn, customer_id)
    if isinstance(body, DebitOrderCreate):
        # Committed before AddMandate on a connection of its own, settled after it: see mandate_requests.
        row = mandate_requests.request(conn, customer_id, method_id, body, provider)
    else:
        values: dict[str, Any] = {
            "id": method_id,
            "customer_id": customer_id,
            "method_type": body.method_type,
            "display_name": body.display_name,
            "is_primary": not repository.has_active_primary(conn, customer_id),
        }
        if isinstance(body, CardCreate):
            values.update(
                provider_token=body.provider_token,
                card_brand=body.card_brand,
                card_last4=body.card_last4,
                card_expiry_month=body.card_expiry_month,
                card_expiry_year=body.card_expiry_year,
            )
        row = repository.insert(conn, values)
    logger.info(
        "payment method added",
        extra={
            "customer_id": str(customer_id),
            "payment_method_id": str(method_id),
            "method_type": body.method_type,
            "is_primary": row["is_primary"],
            "mandate_status": row["mandate_status"],
        },
    )
    return PaymentMethod.model_validate(row)


def update(
    conn: Connection, customer: CustomerPrincipal, method_id: UUID, changes: PaymentMethodUpdate
) -> PaymentMethod:
    row = repository.get(conn, customer.customer_id, method_id)
    if row is None or not row["is_active"]:
        raise NotFound("No such payment method.")
    fields = {name: getattr(changes, name) for name in changes.model_fields_set}
    expiry_fields = {"card_expiry_month", "card_expiry_year"} & fields.keys()
    if expiry_fields and row["method_type"] != "card":
        name = sorted(expiry_fields)[0]
        raise ValidationFailed(f"{name}: only a card has an expiry", field=name)
    if expiry_fields:
        month = fields.get("card_expiry_month", row["card_expiry_month"])
        year = fields.get("card_expiry_year", row["card_expiry_year"])
        if expiry_has_passed(month, year):
            raise ValidationFailed("card_expiry_year: the card has expired", field="card_expiry_year")
    updated = repository.update_fields(conn, customer.customer_id, method_id, fields)
    if updated is None:
        raise NotFound("No such payment method.")
    logger.info(
        "payment method updated",
        extra={
            "customer_id": str(customer.customer_id),
            "payment_method_id": str(method_id),
            "fields": sorted(fields),
        },
    )
    return PaymentMethod.model_validate(updated)


def deactivate(conn: Connection, customer: CustomerPrincipal, method_id: UUID) -> None:
    """Soft delete: the row stays for payment history. A second delete of the same method changes nothing."""
    customer_id = customer.customer_id
    repository.lock_customer(conn, customer_id)
    row = repository.get(conn, customer_id, method_id)
    if row is None:
        raise NotFound("No such payment method.")
    if not row["is_active"]:
        return
    if (
        row["method_type"] == "debit_order"
        and row["mandate_status"] not in UNUSABLE_MANDATE
        and not repository.has_other_live_debit_order(conn, customer_id, method_id)
        and repository.has_invoice_awaiting_collection(conn, customer_id, method_id)
    ):
        raise Conflict(
            "This is your only debit order and an unpaid invoice is waiting to be collected with it. Pay the "
            "invoice or add another debit order first.",
            reason="unpaid_invoice_awaiting_collection",
        )
    repository.deactivate(conn, customer_id, method_id)
    promoted = repository.promote_latest(conn, customer_id) if row["is_primary"] else None
    logger.info(
        "payment method deactivated",
        extra={
            "customer_id": str(customer_id),
            "payment_method_id": str(method_id),
            "was_primary": row["is_primary"],
            "promoted_payment_method_id": str(promoted) if promoted else None,
        },
    )


def set_primary(
    conn: Connection, customer: CustomerPrincipal, method_id: UUID, *, idempotency_key: str | None
) -> idempotency.Outcome:
    request = idempotency.IdempotentRequest.for_customer(
        route=SET_PRIMARY_ROUTE,
        path=f"{COLLECTION_ROUTE}/{method_id}/set-primary",
        body=None,
        key=idempotency_key,
        customer_id=customer.customer_id,
    )

    def effect() -> tuple[int, Any]:
        return 200, _set_primary(conn, customer.customer_id, method_id).model_dump(mode="json")

    return idempotency.run(conn, request, effect)


def _set_primary(conn: Connection, customer_id: UUID, method_id: UUID) -> PaymentMethod:
    repository.lock_customer(conn, customer_id)
    row = repository.get(conn, customer_id, method_id)
    if row is None or not row["is_active"]:
        raise NotFound("No such payment method.")
    if row["method_type"] == "debit_order" and row["mandate_status"] in UNUSABLE_MANDATE:
        raise InvalidState(
            f"A debit order whose mandate is {row['mandate_status']} cannot be collected, "
            "so it cannot be primary.",
            current_status=row["mandate_status"],
        )
    if row["is_primary"]:
        return PaymentMethod.model_validate(row)
    updated = repository.make_only_primary(conn, customer_id, method_id)
    if updated is None:
        raise NotFound("No such payment method.")
    logger.info(
        "primary payment method set",
        extra={"customer_id": str(customer_id), "payment_method_id": str(method_id)},
    )
    return PaymentMethod.model_validate(updated)
