"""The service lifecycle as data: the state machine and who may take each action (domain.md).

```
pending --activate--> active --suspend--> suspended --reactivate--> active
pending|active|suspended --cancel--> cancelled        (terminal)
pending|active|suspended|cancelled --end_now--> cancelled, last day today, line disabled now
```

Suspending is allowed per suspension type; lifting a suspension (reactivate) needs a role that could have
imposed it, so `support` cannot lift a fraud or non-payment suspension.
"""

from __future__ import annotations

from typing import Literal, get_args

from isp_billing.api_models import ServiceStatus
from isp_billing.auth import AdminRole
from isp_billing.errors import Forbidden, InvalidState

ServiceAction = Literal["activate", "suspend", "reactivate", "cancel", "end_now"]
SuspensionType = Literal["non_payment", "customer_request", "fraud", "technical", "policy_violation", "other"]

SERVICE_STATUSES: tuple[ServiceStatus, ...] = get_args(ServiceStatus)
SUSPENSION_TYPES: tuple[SuspensionType, ...] = get_args(SuspensionType)

# action -> (statuses it may start from, the status it leads to)
TRANSITIONS: dict[ServiceAction, tuple[frozenset[ServiceStatus], ServiceStatus]] = {
    "activate": (frozenset({"pending"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "reactivate": (frozenset({"suspended"}), "active"),
    "cancel": (frozenset({"pending", "active", "suspended"}), "cancelled"),
    # End service today and disable the line now; also shortens an earlier cancellation.
    "end_now": (frozenset({"pending", "active", "suspended", "cancelled"}), "cancelled"),
}

ALL_ROLES: frozenset[AdminRole] = frozenset({"support", "billing_admin", "super_admin"})
BILLING_ROLES: frozenset[AdminRole] = frozenset({"billing_admin", "super_admin"})

# Actions whose permission does not depend on a suspension type.
ACTION_ROLES: dict[ServiceAction, frozenset[AdminRole]] = {
    "activate": ALL_ROLES,
    "cancel": BILLING_ROLES,
    "end_now": BILLING_ROLES,
}

# Who may impose (and so lift) a suspension of each type. `other` is a catch-all whose consequences
# (billing continues) are a billing decision: billing_admin and up.
SUSPENSION_TYPE_ROLES: dict[SuspensionType, frozenset[AdminRole]] = {
    "technical": ALL_ROLES,
    "customer_request": ALL_ROLES,
    "non_payment": BILLING_ROLES,
    "policy_violation": BILLING_ROLES,
    "other": BILLING_ROLES,
    "fraud": frozenset({"super_admin"}),
}


def next_status(action: ServiceAction, current: ServiceStatus) -> ServiceStatus:
    """The status `action` leads to from `current`; InvalidState (409, with the current status) if illegal."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        raise InvalidState(
            f"A {current} service cannot be {_past(action)}.", current_status=current, action=action
        )
    return target


def may(role: AdminRole, action: ServiceAction, suspension_type: SuspensionType | None = None) -> bool:
    """Whether `role` may take `action`; for suspend/reactivate, on a suspension of `suspension_type`.

    Reactivating a suspended service that has no suspension record (`None`, e.g. imported data) is open to
    every admin role.
    """
    if action in ACTION_ROLES:
        return role in ACTION_ROLES[action]
    if suspension_type is None:
        return action == "reactivate" and role in ALL_ROLES
    return role in SUSPENSION_TYPE_ROLES[suspension_type]


def require_permission(
    role: AdminRole, action: ServiceAction, suspension_type: SuspensionType | None = None
) -> None:
    if not may(role, action, suspension_type):
        what = f"{action} ({suspension_type})" if suspension_type else action
        raise Forbidden(f"The {role} role may not {what} a service.", action=action)


def _past(action: ServiceAction) -> str:
    return {
        "activate": "activated",
        "suspend": "suspended",
        "reactivate": "reactivated",
        "cancel": "cancelled",
        "end_now": "ended now",
    }[action]
