"""What admins do with the order backfill's leftovers: validation errors to read, review items to decide."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import TypeAdapter

from isp_billing.auth import AdminPrincipal, AdminRole
from isp_billing.backfill import orders_sql as order_backfill
from isp_billing.backfill import review_queue_sql as review_queue
from isp_billing.backfill import validation_errors_sql as validation_errors
from isp_billing.backfill.models import (
    DismissReviewRequest,
    ResolvedReview,
    ResolveReviewRequest,
    ResolveValidationErrorRequest,
    ReviewItem,
    ReviewStatus,
    ValidationErrorItem,
)
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import Conflict, InvalidState, NotFound, ValidationFailed
from isp_billing.observability import logger
from isp_billing.pagination import Page, decode_cursor, page_of

_TIMESTAMP = TypeAdapter(datetime)


def _json_time(value: datetime | None) -> str | None:
    """A timestamp in a problem body, written as the response models write it (UTC as Z)."""
    return None if value is None else str(_TIMESTAMP.dump_python(value, mode="json"))


READ_ROLES: tuple[AdminRole, ...] = ("super_admin", "billing_admin", "support")
DECIDE_ROLES: tuple[AdminRole, ...] = ("super_admin", "billing_admin")


def list_validation_errors(
    conn: Connection,
    admin: AdminPrincipal,
    *,
    source: str | None,
    resolved: bool | None,
    limit: int,
    cursor: str | None,
) -> Page[ValidationErrorItem]:
    admin.require(*READ_ROLES)
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    rows = validation_errors.list_page(
        conn, source=source, resolved=resolved, limit=limit, after=(after[0], after[1]) if after else None
    )
    items, next_cursor = page_of(rows, limit, lambda row: (row["created_at"], row["id"]))
    return Page[ValidationErrorItem](
        items=[ValidationErrorItem.model_validate(row) for row in items], next_cursor=next_cursor
    )


def list_review_queue(
    conn: Connection, admin: AdminPrincipal, *, status: ReviewStatus, limit: int, cursor: str | None
) -> Page[ReviewItem]:
    admin.require(*READ_ROLES)
    after = decode_cursor(cursor, datetime.fromisoformat, UUID) if cursor else None
    rows = review_queue.list_page(
        conn, status=status, limit=limit, after=(after[0], after[1]) if after else None
    )
    items, next_cursor = page_of(rows, limit, lambda row: (row["created_at"], row["id"]))
    return Page[ReviewItem](items=[ReviewItem.model_validate(row) for row in items], next_cursor=next_cursor)


def resolve(
    conn: Connection, admin: AdminPrincipal, item_id: UUID, request: ResolveReviewRequest
) -> ResolvedReview:
    """Apply a person's decision: link the order to the chosen candidate or to a new customer, create its
    service when its status has one, and close the item, all in the caller's transaction."""
    admin.require(*DECIDE_ROLES)
    item = review_queue.lock_for_decision(conn, item_id)
    if item is None:
        raise NotFound("No such review item.")
    if item["status"] != "open":
        raise InvalidState("This review item has already been decided.", current_status=item["status"])
    if item["order_customer_id"] is not None:
        raise Conflict(
            "The order has been linked to a customer since it was queued; dismiss the item instead."
        )

    order_id = UUID(str(item["consumer_order_id"]))
    order_backfill.create_work_tables(conn)
    order_backfill.load_batch(conn, limit=1, order_id=order_id)
    order = order_backfill.batch_order(conn)
    assert order is not None
    if order["outcome"] == "validation_error":
        raise Conflict(
            f"The order no longer passes validation ({order['error_code']}); correct it first.",
            error_code=order["error_code"],
        )

    if request.decision == "link_existing":
        assert request.customer_id is not None
        customer_id = request.customer_id
        candidates = {str(candidate["customer_id"]) for candidate in item["candidates"]}
        if str(customer_id) not in candidates:
            raise ValidationFailed("customer_id must be one of the item's candidates.")
        exists, customer_auth = review_queue.customer_auth_user(conn, customer_id)
        if not exists:
            raise NotFound("No such customer.")
        order_auth = order["auth_user_id"]
        if order_auth is not None and customer_auth is not None and customer_auth != order_auth:
            raise Conflict("That customer belongs to a different auth user than the order.")
        order_backfill.decide_chosen_customer(conn, customer_id)
    else:
        if order["email_key"] is None or order["first_name"] is None or order["last_name"] is None:
            raise Conflict("A new customer needs the order's email address and first and last name.")
        if review_queue.customer_exists_with(conn, order["email_key"], order["auth_user_id"]):
            raise Conflict(
                "A customer with this order's email address or auth user already exists; link to it instead."
            )
        customer_id = order_backfill.decide_new_customer(conn)
        order_backfill.write_customers(conn)

    order_backfill.write_services(conn, sast_today())
    order_backfill.write_order_links(conn)
    review_queue.mark_resolved(conn, item_id, request.decision, customer_id, admin.admin_id)
    logger.info(
        "review item resolved",
        extra={"review_item_id": str(item_id), "decision": request.decision, "order_id": str(order_id)},
    )
    resolved = review_queue.get(conn, item_id)
    links = review_queue.order_links(conn, order_id)
    return ResolvedReview.model_validate(
        {**(resolved or {}), "customer_id": links["customer_id"], "service_id": links["service_id"]}
    )


def resolve_validation_error(
    conn: Connection, admin: AdminPrincipal, error_id: UUID, request: ResolveValidationErrorRequest
) -> ValidationErrorItem:
    """Mark the error resolved by this admin, with their note, in the caller's transaction.

    For an order backfill error this is "I fixed the cause": the next backfill run reads the order again,
    links it if it now passes, or records the error again as a new open row if it does not.
    """
    admin.require(*DECIDE_ROLES)
    row = validation_errors.mark_resolved(conn, error_id, admin.admin_id, request.note)
    if row is None:
        current = validation_errors.get(conn, error_id)
        if current is None:
            raise NotFound("No such validation error.")
        raise InvalidState(
            "This validation error has already been resolved.",
            current_status="resolved",
            resolved_at=_json_time(current["resolved_at"]),
            resolved_by=str(current["resolved_by"]) if current["resolved_by"] else None,
        )
    logger.info(
        "validation error resolved",
        extra={
            "validation_error_id": str(error_id),
            "source": row["source"],
            "error_code": row["error_code"],
        },
    )
    return ValidationErrorItem.model_validate(row)


def dismiss(
    conn: Connection, admin: AdminPrincipal, item_id: UUID, request: DismissReviewRequest
) -> ReviewItem:
    """Close the item without linking anything: the order is not to be migrated, and the backfill skips it
    from now on (counted as skipped `dismissed`)."""
    admin.require(*DECIDE_ROLES)
    if not review_queue.mark_dismissed(conn, item_id, admin.admin_id, request.note):
        current = review_queue.get(conn, item_id)
        if current is None:
            raise NotFound("No such review item.")
        raise InvalidState(
            "This review item has already been decided.",
            current_status=current["status"],
            decided_at=_json_time(current["decided_at"]),
            decided_by=str(current["decided_by"]) if current["decided_by"] else None,
        )
    logger.info("review item dismissed", extra={"review_item_id": str(item_id)})
    item = review_queue.get(conn, item_id)
    assert item is not None
    return ReviewItem.model_validate(item)
