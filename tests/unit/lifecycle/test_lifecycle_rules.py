"""The service state machine and the admin role matrix (domain.md "Service lifecycle"), one test per cell."""

import pytest

from isp_billing.errors import Forbidden, InvalidState
from isp_billing.lifecycle.rules import (
    SERVICE_STATUSES,
    SUSPENSION_TYPES,
    may,
    next_status,
    require_permission,
)

LEGAL = {
    ("activate", "pending"): "active",
    ("suspend", "active"): "suspended",
    ("reactivate", "suspended"): "active",
    ("cancel", "pending"): "cancelled",
    ("cancel", "active"): "cancelled",
    ("cancel", "suspended"): "cancelled",
}
ACTIONS = ("activate", "suspend", "reactivate", "cancel")


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("current", SERVICE_STATUSES)
def test_every_transition_of_the_state_machine(action, current):
    # Given a service in `current` and an action
    expected = LEGAL.get((action, current))
    if expected is not None:
        # When it is legal / Then the new status is the diagram's
        assert next_status(action, current) == expected
    else:
        # When it is not / Then InvalidState (409) carrying the current status
        with pytest.raises(InvalidState) as refused:
            next_status(action, current)
        assert refused.value.status == 409
        assert refused.value.extra["current_status"] == current
        assert refused.value.extra["action"] == action


def test_cancelled_is_terminal():
    for action in ACTIONS:
        with pytest.raises(InvalidState):
            next_status(action, "cancelled")


# role -> what it may do; suspend and reactivate per suspension type
EXPECTED_MATRIX = {
    "support": {
        "activate": True,
        "cancel": False,
        "suspend": {"technical", "customer_request"},
        "reactivate": {"technical", "customer_request", None},
    },
    "billing_admin": {
        "activate": True,
        "cancel": True,
        "suspend": {"technical", "customer_request", "non_payment", "policy_violation", "other"},
        "reactivate": {"technical", "customer_request", "non_payment", "policy_violation", "other", None},
    },
    "super_admin": {
        "activate": True,
        "cancel": True,
        "suspend": set(SUSPENSION_TYPES),
        "reactivate": {*SUSPENSION_TYPES, None},
    },
}


@pytest.mark.parametrize("role", list(EXPECTED_MATRIX))
@pytest.mark.parametrize("action", ["activate", "cancel"])
def test_role_matrix_for_actions_without_a_type(role, action):
    # Given a role and an action that has no suspension type
    allowed = EXPECTED_MATRIX[role][action]
    # When asked / Then the matrix answers, and require_permission agrees (403 when refused)
    assert may(role, action) is allowed
    if allowed:
        require_permission(role, action)
    else:
        with pytest.raises(Forbidden):
            require_permission(role, action)


TYPED_CELLS = [
    (role, action, suspension_type)
    for role in EXPECTED_MATRIX
    for action in ("suspend", "reactivate")
    # a suspension always has a type; reactivating may meet a suspended service with no suspension record
    for suspension_type in (SUSPENSION_TYPES if action == "suspend" else (*SUSPENSION_TYPES, None))
]


@pytest.mark.parametrize(("role", "action", "suspension_type"), TYPED_CELLS)
def test_role_matrix_for_suspension_types(role, action, suspension_type):
    # Given a role, suspend or reactivate, and the suspension's type (None: a suspension with no record)
    allowed = suspension_type in EXPECTED_MATRIX[role][action]
    # When asked / Then the matrix answers
    assert may(role, action, suspension_type) is allowed
    if not allowed:
        with pytest.raises(Forbidden) as refused:
            require_permission(role, action, suspension_type)
        assert refused.value.status == 403


def test_an_unknown_role_may_do_nothing():
    for action in ACTIONS:
        assert may("customer", action, "technical") is False  # type: ignore[arg-type]
