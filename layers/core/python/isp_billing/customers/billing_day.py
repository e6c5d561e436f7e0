"""Where a change of billing day plugs in.

A billing-day change is not a plain update: the period between the old and the new billing day is billed as
a bridging period under its own rule, which is not part of this layer yet. Until it is, the billing PATCH
calls `change_billing_day` and the caller hears, in a 422 and before anything is written, that the route
cannot do it. The rule replaces this function's body (returning the bridging period and its cost for the
response); its caller does not change.
"""

from __future__ import annotations

from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.db import Connection
from isp_billing.errors import ValidationFailed

NOT_YET_AVAILABLE = (
    "billing_day: billing-day changes are not yet available through this route; the other settings in this"
    " request were not changed either."
)


def change_billing_day(
    conn: Connection, admin: AdminPrincipal, customer_id: UUID, current_day: int, new_day: int
) -> None:
    """Move the customer's billing day (with its bridging period): refused for now, before any write."""
    raise ValidationFailed(NOT_YET_AVAILABLE, field="billing_day")
