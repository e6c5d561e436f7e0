"""GET and PATCH /api/customer/profile: the signed-in customer's contact details, changed by themselves and
audited with the customer as the actor."""

from __future__ import annotations

from isp_billing.auth import CustomerPrincipal
from isp_billing.customers import audit_sql, contact_rules, profile_sql
from isp_billing.customers.profile_models import Profile, ProfileUpdate
from isp_billing.db import Connection
from isp_billing.errors import NotFound


def get(conn: Connection, customer: CustomerPrincipal) -> Profile:
    row = profile_sql.get(conn, customer.customer_id)
    if row is None:
        raise NotFound("No profile exists for this customer.")
    return Profile.model_validate(row)


def update(conn: Connection, customer: CustomerPrincipal, body: ProfileUpdate, request_id: str) -> Profile:
    current = profile_sql.lock(conn, customer.customer_id)
    if current is None:
        raise NotFound("No profile exists for this customer.")
    requested = contact_rules.without_empty_parts(body.model_dump(include=body.model_fields_set))
    changes = {key: value for key, value in requested.items() if current[key] != value}
    if changes:
        profile_sql.update(conn, customer.customer_id, changes)
        audit_sql.insert(
            conn,
            customer_id=customer.customer_id,
            action="profile_change",
            actor_type="customer",
            actor_admin_id=None,
            request_id=request_id,
            previous_data={key: current[key] for key in changes},
            new_data=changes,
        )
    return get(conn, customer)
