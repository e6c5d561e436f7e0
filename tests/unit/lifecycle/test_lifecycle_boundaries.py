"""Lifecycle rules at their edges (issue 10, section 6): a suspension without a type, refusals' wording and
the facts they carry. Each test pins a rule a mutant of lifecycle/rules.py would break."""

import pytest

from isp_billing.errors import Forbidden
from isp_billing.lifecycle.rules import SUSPENSION_TYPES, may, require_permission

ROLES = ("support", "billing_admin", "super_admin")


@pytest.mark.parametrize("role", ROLES)
def test_suspending_without_a_suspension_type_is_refused_for_every_role(role):
    # Given a suspend request with no suspension type (only reactivate may meet a suspension with no record)
    # When asked / Then no role may, and require_permission says 403
    assert may(role, "suspend", None) is False
    with pytest.raises(Forbidden):
        require_permission(role, "suspend", None)


@pytest.mark.parametrize("role", ROLES)
def test_reactivating_a_suspension_without_a_record_is_open_to_every_admin_role(role):
    assert may(role, "reactivate", None) is True
    require_permission(role, "reactivate", None)  # does not raise


def test_an_unknown_role_may_not_reactivate_even_a_suspension_without_a_record():
    assert may("customer", "reactivate", None) is False  # type: ignore[arg-type]
    assert may("customer", "activate") is False  # type: ignore[arg-type]
    assert may("customer", "cancel") is False  # type: ignore[arg-type]


def test_a_typed_refusal_names_the_role_the_action_and_the_type():
    # Given support trying to suspend for fraud
    # When refused
    with pytest.raises(Forbidden) as refused:
        require_permission("support", "suspend", "fraud")
    # Then the detail names role, action and type, and the problem carries the action
    assert refused.value.detail == "The support role may not suspend (fraud) a service."
    assert refused.value.extra == {"action": "suspend"}


def test_an_untyped_refusal_names_the_role_and_the_action_only():
    with pytest.raises(Forbidden) as refused:
        require_permission("support", "cancel")
    assert refused.value.detail == "The support role may not cancel a service."
    assert refused.value.extra == {"action": "cancel"}


def test_fraud_is_for_super_admin_alone_in_both_directions():
    # Given each role and a fraud suspension / When asked to impose or lift it / Then only super_admin may
    for action in ("suspend", "reactivate"):
        assert [role for role in ROLES if may(role, action, "fraud")] == ["super_admin"]


def test_every_suspension_type_has_a_rule_and_super_admin_may_impose_each():
    assert set(SUSPENSION_TYPES) == {
        "non_payment",
        "customer_request",
        "fraud",
        "technical",
        "policy_violation",
        "other",
    }
    assert all(may("super_admin", "suspend", kind) for kind in SUSPENSION_TYPES)


def test_an_action_name_built_at_run_time_is_matched_by_value():
    # Given "reactivate" as a string built at run time (as one parsed from a request is, not interned)
    action = "".join(["re", "activate"])
    # When asked about a suspension without a record / Then it is the reactivate rule that answers
    assert may("support", action, None) is True  # type: ignore[arg-type]


@pytest.mark.parametrize("action", ["delete", "archive", "activate_all"])
def test_an_unknown_action_on_a_suspension_without_a_record_is_never_allowed(action):
    assert may("super_admin", action, None) is False  # type: ignore[arg-type]
