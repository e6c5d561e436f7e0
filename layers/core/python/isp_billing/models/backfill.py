"""The order backfill's options, and what admins see of validation errors and the migration review queue."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, StrictBool, model_validator

from isp_billing.models.common import ApiModel, RequestModel

ReviewStatus = Literal["open", "resolved", "dismissed"]


class BackfillOptions(RequestModel):
    """The job's options (the JSON body of POST /api/admin/backfill/orders, or the CLI's flags)."""

    dry_run: StrictBool = Field(default=False, description="Report what a run would do; write nothing.")
    since: date | None = Field(default=None, description="Only orders placed on or after this SAST date.")


class ValidationErrorItem(ApiModel):
    id: UUID
    source: str
    record_type: str | None
    record_id: UUID | None
    record_ref: str | None = Field(description="The order number (or the order id when it has none).")
    error_code: str
    message: str
    suggested_fix: str | None
    payload: dict[str, Any] | None = Field(description="The fields the error is about (no contact details).")
    resolved_at: datetime | None
    resolved_by: UUID | None = Field(description="The admin (admin_users.id) who marked it resolved.")
    resolution_note: str | None = Field(default=None, description="What the admin fixed, in their words.")
    created_at: datetime


class ReviewCandidate(ApiModel):
    customer_id: UUID
    account_number: str | None = None
    matched_on: Literal["email", "phone"]


class ReviewItem(ApiModel):
    id: UUID
    consumer_order_id: UUID
    order_number: str | None
    reason: str = Field(description="email_phone_conflict or shared_phone.")
    candidates: list[ReviewCandidate]
    status: ReviewStatus
    decision: str | None
    resolved_customer_id: UUID | None
    decided_by: UUID | None
    decided_at: datetime | None
    decision_note: str | None = Field(default=None, description="Why the admin dismissed the item.")
    created_at: datetime


class ResolveReviewRequest(RequestModel):
    decision: Literal["link_existing", "create_new"]
    customer_id: UUID | None = Field(
        default=None, description="The chosen candidate; required for link_existing, absent for create_new."
    )

    @model_validator(mode="after")
    def _customer_only_when_linking(self) -> ResolveReviewRequest:
        if self.decision == "link_existing" and self.customer_id is None:
            raise ValueError("customer_id is required to link to an existing customer")
        if self.decision == "create_new" and self.customer_id is not None:
            raise ValueError("customer_id must be absent when creating a new customer")
        return self


class ResolvedReview(ReviewItem):
    customer_id: UUID = Field(description="The customer the order is now linked to.")
    service_id: UUID | None = Field(description="The service created for the order, when its status has one.")


NOTE_MAX_LENGTH = 500


class AdminNoteRequest(RequestModel):
    """A person's note on closing a backfill leftover (kept with the record; no card or bank numbers)."""

    note: str = Field(
        min_length=1, max_length=NOTE_MAX_LENGTH, description="Required, non-blank, at most 500 characters."
    )


class ResolveValidationErrorRequest(AdminNoteRequest):
    """POST /api/admin/validation-errors/{error_id}/resolve: the cause is fixed; the backfill retries."""


class DismissReviewRequest(AdminNoteRequest):
    """POST /api/admin/review-queue/{item_id}/dismiss: the order is not to be migrated."""
