"""The order backfill's options, and what admins see of validation errors and the migration review queue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, StrictBool

from isp_billing.api_models import ApiModel, IsoDate, RequestModel
from isp_billing.jobs import JobOptions
from isp_billing.text import NoteText

ReviewStatus = Literal["open", "resolved", "dismissed"]


class BackfillOptions(JobOptions):
    """The job's options (the JSON body of POST /api/admin/backfill/orders, or the CLI's flags)."""

    dry_run: StrictBool = Field(default=False, description="Report what a run would do; write nothing.")
    since: IsoDate | None = Field(default=None, description="Only orders placed on or after this SAST date.")


class ValidationErrorItem(ApiModel):
    id: UUID = Field(description="The validation error's id (use it to resolve the error).")
    source: str = Field(
        description="The process that found the problem, e.g. order_backfill, usage_ingest, billing_run,"
        " debit_orders."
    )
    record_type: str | None = Field(description="The kind of record it is about, e.g. consumer_order.")
    record_id: UUID | None = Field(description="The id of that record (for the backfill: the order's id).")
    record_ref: str | None = Field(description="The order number (or the order id when it has none).")
    error_code: str = Field(
        description="A stable machine code, e.g. orphaned_order, inconsistent_auth_user_id, unknown_package,"
        " invalid_price."
    )
    message: str = Field(description="What is wrong, in plain words (no personal data).")
    suggested_fix: str | None = Field(description="What a person can do to fix it, when known.")
    payload: dict[str, Any] | None = Field(description="The fields the error is about (no contact details).")
    resolved_at: datetime | None = Field(
        description="When an admin marked it resolved (ISO 8601 instant); null while open."
    )
    resolved_by: UUID | None = Field(description="The admin (admin_users.id) who marked it resolved.")
    resolution_note: str | None = Field(default=None, description="What the admin fixed, in their words.")
    created_at: datetime = Field(description="When the problem was first recorded (ISO 8601 instant).")


class ReviewCandidate(ApiModel):
    customer_id: UUID = Field(description="An existing customer the order might belong to.")
    account_number: str | None = Field(
        default=None, description="That customer's account number, `CUS-YYYY-NNNNN`."
    )
    matched_on: Literal["email", "phone"] = Field(
        description="What the order shares with this customer: email (case-insensitive, trimmed) or phone"
        " (E.164)."
    )


class ReviewItem(ApiModel):
    id: UUID = Field(description="The review item's id (use it to resolve or dismiss the item).")
    consumer_order_id: UUID = Field(description="The website order (consumer_orders.id) awaiting a decision.")
    order_number: str | None = Field(description="That order's number, as the customer knows it.")
    reason: str = Field(description="email_phone_conflict or shared_phone.")
    candidates: list[ReviewCandidate] = Field(description="The existing customers the order matches.")
    status: ReviewStatus = Field(
        description="open: awaiting a decision; resolved: linked or a new customer created; dismissed: not"
        " to be migrated."
    )
    decision: str | None = Field(
        description="link_existing or create_new once resolved; null while open or when dismissed."
    )
    resolved_customer_id: UUID | None = Field(
        description="The customer the order was linked to (chosen or newly created); null unless resolved."
    )
    decided_by: UUID | None = Field(
        description="The admin (admin_users.id) who resolved or dismissed the item; null while open."
    )
    decided_at: datetime | None = Field(
        description="When it was resolved or dismissed (ISO 8601 instant); null while open."
    )
    decision_note: str | None = Field(default=None, description="Why the admin dismissed the item.")
    created_at: datetime = Field(
        description="When the backfill queued the order for review (ISO 8601 instant)."
    )


class LinkExistingDecision(RequestModel):
    """Link the order to one of the candidates: customer_id required."""

    decision: Literal["link_existing"] = Field(
        description="link_existing: link the order to one of the candidates (give customer_id)."
    )
    customer_id: UUID = Field(description="The chosen candidate (required with link_existing).")


class CreateNewDecision(RequestModel):
    """Create a new customer for the order: no customer_id."""

    decision: Literal["create_new"] = Field(description="create_new: create a new customer for it.")

    @property
    def customer_id(self) -> UUID | None:
        return None


# `decision` decides whether customer_id is required (and allowed): a oneOf with a discriminator in the spec.
ResolveReviewRequest = Annotated[LinkExistingDecision | CreateNewDecision, Field(discriminator="decision")]


class ResolvedReview(ReviewItem):
    customer_id: UUID = Field(description="The customer the order is now linked to.")
    service_id: UUID | None = Field(description="The service created for the order, when its status has one.")


NOTE_MAX_LENGTH = 500


class AdminNoteRequest(RequestModel):
    """A person's note on closing a backfill leftover (kept with the record; no card or bank numbers)."""

    note: NoteText = Field(
        description="Required, non-blank, at most 500 characters; line breaks and tabs allowed."
    )


class ResolveValidationErrorRequest(AdminNoteRequest):
    """POST /api/admin/validation-errors/{error_id}/resolve: the cause is fixed; the backfill retries."""


class DismissReviewRequest(AdminNoteRequest):
    """POST /api/admin/review-queue/{item_id}/dismiss: the order is not to be migrated."""
