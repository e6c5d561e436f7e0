"""Admin service lifecycle through the Lambda handlers: transitions, roles, Interstellio and its failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from isp_billing.clock import sast_today
from isp_billing_cli.fakes import interstellio as fake_interstellio
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token
from tests.lifecycle_helpers import (
    fake_interstellio_for_functions,
    log_rows,
    service_row,
    service_with_line,
    suspension_rows,
)

FUNCTIONS = {
    "activate": "AdminServiceActivateFunction",
    "suspend": "AdminServiceSuspendFunction",
    "reactivate": "AdminServiceReactivateFunction",
    "cancel": "AdminServiceCancelFunction",
}
BODIES = {
    "activate": {"reason": "Installed and tested"},
    "suspend": {"reason": "Router replaced", "suspension_type": "technical"},
    "reactivate": {"reason": "Router works"},
    "cancel": {"reason": "Customer emigrates"},
}
LEGAL = {
    ("activate", "pending"): "active",
    ("suspend", "active"): "suspended",
    ("reactivate", "suspended"): "active",
    ("cancel", "pending"): "cancelled",
    ("cancel", "active"): "cancelled",
    ("cancel", "suspended"): "cancelled",
}


@pytest.fixture
def fake(conn) -> Iterator[fake_interstellio.FakeInterstellio]:
    with fake_interstellio_for_functions() as server:
        yield server


def act(action: str, service_id: str, token: str, body: object = None, headers: dict | None = None):
    return call_api(
        FUNCTIONS[action],
        "POST",
        f"/api/admin/services/{service_id}/{action}",
        token=token,
        body=BODIES[action] if body is None else body,
        headers=headers,
    )


# --- the state machine ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", list(FUNCTIONS))
@pytest.mark.parametrize("current", ["pending", "active", "suspended", "cancelled"])
def test_every_transition_over_http(conn, fake, action, current):
    # Given a service in `current` with an Interstellio line, and a super admin
    admin_id, token = admin_with_token(conn, role="super_admin")
    service_id, subscriber = service_with_line(conn, fake, status=current)
    # When the admin takes `action`
    status, headers, body = act(action, service_id, token, headers={"x-request-id": "req-transition"})
    expected = LEGAL.get((action, current))
    if expected is None:
        # Then an illegal one is 409 problem+json with the current status, and nothing is written
        assert status == 409, body
        assert headers["content-type"] == "application/problem+json"
        assert body["current_status"] == current and body["action"] == action
        assert service_row(conn, service_id)["status"] == current
        assert log_rows(conn, service_id) == [] and suspension_rows(conn, service_id) == []
        return
    # Then a legal one moves the status and writes one audit row in the same transaction
    assert status == 200, body
    assert body["service"]["status"] == expected == service_row(conn, service_id)["status"]
    [log] = log_rows(conn, service_id)
    assert (log["action"], log["previous_status"], log["new_status"]) == (action, current, expected)
    assert log["actor_type"] == "admin" and str(log["actor_admin_id"]) == admin_id
    assert log["reason"] == BODIES[action]["reason"] and log["request_id"]
    assert log["previous_data"]["status"] == current and log["new_data"]["status"] == expected
    assert "installation_address" not in log["new_data"]
    assert body["action"]["id"] == str(log["id"]) and body["action"]["actor_email"].endswith("@isp.example")
    # And the line follows suspend/reactivate only
    enabled = fake.subscribers[subscriber]["enabled"]
    if action == "suspend":
        assert enabled is False
    elif action == "reactivate":
        assert enabled is True
    else:
        assert enabled is (current == "active")


def test_suspend_opens_a_suspension_with_billing_pause_derived_by_the_server(conn, fake):
    # Given an active service and a support admin
    admin_id, token = admin_with_token(conn, role="support")
    service_id, subscriber = service_with_line(conn, fake)
    planned_end = (sast_today() + timedelta(days=14)).isoformat()
    # When they suspend it at the customer's request
    status, _, body = act(
        "suspend",
        service_id,
        token,
        {
            "reason": "Travelling",
            "notes": "Back in two weeks",
            "suspension_type": "customer_request",
            "planned_end": planned_end,
        },
    )
    # Then it is suspended today, the line is disabled, and one open suspension pauses billing
    assert status == 200, body
    row = service_row(conn, service_id)
    assert row["status"] == "suspended" and row["suspension_date"] == sast_today()
    assert row["provider_sync_status"] == "in_sync" and row["provider_synced_at"] is not None
    assert fake.subscribers[subscriber]["enabled"] is False
    [suspension] = suspension_rows(conn, service_id)
    assert suspension["suspension_type"] == "customer_request" and suspension["pauses_billing"] is True
    assert (
        str(suspension["suspended_by"]) == admin_id and suspension["planned_end"].isoformat() == planned_end
    )
    assert suspension["reactivated_at"] is None
    assert body["service"]["open_suspension"]["id"] == str(suspension["id"])
    [log] = log_rows(conn, service_id)
    assert log["details"]["suspension_id"] == str(suspension["id"])
    assert log["details"]["provider"] == {"outcome": "applied", "enabled": False}
    assert log["notes"] == "Back in two weeks"


def test_a_technical_suspension_does_not_pause_billing(conn, fake):
    _, token = admin_with_token(conn, role="support")
    service_id, _ = service_with_line(conn, fake)
    status, _, body = act("suspend", service_id, token)
    assert status == 200 and body["service"]["open_suspension"]["pauses_billing"] is False


def test_reactivate_closes_the_open_suspension_and_enables_the_line(conn, fake):
    # Given a service suspended by one admin
    _, suspender = admin_with_token(conn, role="billing_admin")
    reactivator_id, reactivator = admin_with_token(conn, role="billing_admin")
    service_id, subscriber = service_with_line(conn, fake)
    assert (
        act("suspend", service_id, suspender, {"reason": "Unpaid", "suspension_type": "non_payment"})[0]
        == 200
    )
    # When another reactivates it without giving a reason
    status, _, body = act("reactivate", service_id, reactivator, {})
    # Then it is active, the suspension closed by them, the line enabled, and the log has a default reason
    assert status == 200, body
    row = service_row(conn, service_id)
    assert row["status"] == "active" and row["suspension_date"] is None
    [suspension] = suspension_rows(conn, service_id)
    assert suspension["reactivated_at"] is not None and str(suspension["reactivated_by"]) == reactivator_id
    assert fake.subscribers[subscriber]["enabled"] is True
    assert body["service"]["open_suspension"] is None
    assert [log["action"] for log in log_rows(conn, service_id)] == ["suspend", "reactivate"]
    assert log_rows(conn, service_id)[1]["reason"] == "Reactivated"


def test_reactivate_and_activate_accept_an_empty_body(conn, fake):
    _, token = admin_with_token(conn, role="support")
    service_id, _ = service_with_line(conn, fake, status="pending", subscriber=False)
    status, _, body = call_api(
        FUNCTIONS["activate"], "POST", f"/api/admin/services/{service_id}/activate", token=token
    )
    assert status == 200 and body["service"]["activation_date"] == sast_today().isoformat()
    assert body["action"]["details"]["provider"] == {"outcome": "not_called"}


def test_a_service_without_a_subscriber_is_suspended_without_calling_interstellio(conn, fake):
    _, token = admin_with_token(conn)
    service_id, _ = service_with_line(conn, fake, subscriber=False)
    status, _, body = act("suspend", service_id, token)
    assert status == 200 and body["action"]["details"]["provider"] == {"outcome": "no_subscriber"}
    assert not [call for call in fake.requests if call.method == "PATCH"]


# --- input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("suspend", {"suspension_type": "technical"}, "reason"),
        ("suspend", {"reason": "   ", "suspension_type": "technical"}, "reason"),
        ("suspend", {"reason": "x"}, "suspension_type"),
        ("suspend", {"reason": "x", "suspension_type": "holiday"}, "suspension_type"),
        ("suspend", {"reason": "x", "suspension_type": "fraud", "pauses_billing": True}, "pauses_billing"),
        ("cancel", {}, "reason"),
        ("cancel", {"reason": "x", "effective_date": "soon"}, "effective_date"),
        ("activate", {"reason": "x", "status": "active"}, "status"),
    ],
)
def test_invalid_bodies_are_422_and_write_nothing(conn, fake, action, body, field):
    # Given a service in the right state for the action
    _, token = admin_with_token(conn)
    start = {"activate": "pending", "suspend": "active", "cancel": "active"}[action]
    service_id, _ = service_with_line(conn, fake, status=start)
    # When the body is invalid (a missing reason, an unknown type, a caller-chosen pauses_billing ...)
    status, headers, problem = act(action, service_id, token, body)
    # Then 422 problem+json naming the field, and nothing is written
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert field in {part for error in problem["errors"] for part in error["loc"]}
    assert service_row(conn, service_id)["status"] == start
    assert log_rows(conn, service_id) == [] and suspension_rows(conn, service_id) == []


def test_a_planned_end_in_the_past_is_422(conn, fake):
    _, token = admin_with_token(conn)
    service_id, subscriber = service_with_line(conn, fake)
    yesterday = (sast_today() - timedelta(days=1)).isoformat()
    body = {"reason": "x", "suspension_type": "technical", "planned_end": yesterday}
    status, _, problem = act("suspend", service_id, token, body)
    assert status == 422 and problem["field"] == "planned_end"
    assert fake.subscribers[subscriber]["enabled"] is True and log_rows(conn, service_id) == []


def test_an_unknown_service_is_404(conn, fake):
    _, token = admin_with_token(conn)
    status, _, body = act("suspend", "00000000-0000-4000-8000-00000000dead", token)
    assert status == 404 and body["status"] == 404


# --- roles ------------------------------------------------------------------------------------------------

ROLE_CASES = [
    # role, action, start status, body, allowed
    ("support", "activate", "pending", BODIES["activate"], True),
    ("support", "suspend", "active", {"reason": "x", "suspension_type": "technical"}, True),
    ("support", "suspend", "active", {"reason": "x", "suspension_type": "customer_request"}, True),
    ("support", "suspend", "active", {"reason": "x", "suspension_type": "non_payment"}, False),
    ("support", "suspend", "active", {"reason": "x", "suspension_type": "policy_violation"}, False),
    ("support", "suspend", "active", {"reason": "x", "suspension_type": "fraud"}, False),
    ("support", "suspend", "active", {"reason": "x", "suspension_type": "other"}, False),
    ("support", "reactivate", "suspended", BODIES["reactivate"], True),
    ("support", "cancel", "active", BODIES["cancel"], False),
    ("billing_admin", "suspend", "active", {"reason": "x", "suspension_type": "non_payment"}, True),
    ("billing_admin", "suspend", "active", {"reason": "x", "suspension_type": "policy_violation"}, True),
    ("billing_admin", "suspend", "active", {"reason": "x", "suspension_type": "other"}, True),
    ("billing_admin", "suspend", "active", {"reason": "x", "suspension_type": "fraud"}, False),
    ("billing_admin", "cancel", "active", BODIES["cancel"], True),
    ("super_admin", "suspend", "active", {"reason": "x", "suspension_type": "fraud"}, True),
    ("super_admin", "cancel", "suspended", BODIES["cancel"], True),
]


@pytest.mark.parametrize(("role", "action", "start", "body", "allowed"), ROLE_CASES)
def test_role_matrix_over_http(conn, fake, role, action, start, body, allowed):
    # Given an admin of `role` and a service in a state the action allows
    _, token = admin_with_token(conn, role=role)
    service_id, subscriber = service_with_line(conn, fake, status=start)
    # When they act
    status, headers, problem = act(action, service_id, token, body)
    # Then the matrix decides: 200, or 403 with nothing written and the line untouched
    if allowed:
        assert status == 200, problem
    else:
        assert status == 403 and headers["content-type"] == "application/problem+json"
        assert service_row(conn, service_id)["status"] == start and log_rows(conn, service_id) == []
        assert fake.subscribers[subscriber]["enabled"] is (start == "active")


def test_support_may_not_lift_a_fraud_suspension(conn, fake):
    # Given a service a super admin suspended for fraud
    _, super_token = admin_with_token(conn, role="super_admin")
    _, support = admin_with_token(conn, role="support")
    service_id, subscriber = service_with_line(conn, fake)
    assert act("suspend", service_id, super_token, {"reason": "x", "suspension_type": "fraud"})[0] == 200
    # When support tries to reactivate it / Then 403, still suspended, line still disabled
    status, _, _ = act("reactivate", service_id, support)
    assert status == 403
    assert service_row(conn, service_id)["status"] == "suspended"
    assert fake.subscribers[subscriber]["enabled"] is False


def test_a_customer_token_and_a_non_admin_are_403(conn, fake):
    # Given a customer, an inactive admin, and a valid user who is neither
    _, customer_token = customer_with_token(conn)
    _, inactive_token = admin_with_token(conn, role="super_admin", is_active=False)
    from isp_billing_cli.demo import mint_token

    stranger_token = mint_token("a1000000-0000-4000-8000-000000000009")
    service_id, _ = service_with_line(conn, fake)
    for token in (customer_token, inactive_token, stranger_token):
        # When each tries to suspend or to read / Then 403, nothing written
        assert act("suspend", service_id, token)[0] == 403
        status, _, _ = call_api(
            "AdminServiceGetFunction", "GET", f"/api/admin/services/{service_id}", token=token
        )
        assert status == 403
    assert log_rows(conn, service_id) == []


def test_no_token_is_401(conn, fake):
    service_id, _ = service_with_line(conn, fake)
    status, headers, _ = call_api(
        FUNCTIONS["suspend"], "POST", f"/api/admin/services/{service_id}/suspend", body=BODIES["suspend"]
    )
    assert status == 401 and headers["www-authenticate"] == "Bearer"


# --- Interstellio failures --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "times", "code", "http_status"),
    [
        ("http_429", 3, "rate_limited", 429),
        ("not_found", 0, "subscriber_not_found", 404),
    ],
)
def test_a_refusal_by_interstellio_is_502_changes_nothing_and_records_the_attempt(
    conn, fake, fault, times, code, http_status
):
    # Given an active service whose line Interstellio will refuse to change
    admin_id, token = admin_with_token(conn, role="billing_admin")
    service_id, subscriber = service_with_line(conn, fake)
    if fault == "not_found":
        conn.execute(
            "update customer_services set interstellio_subscriber_id = 'sub-gone' where id = %s",
            (service_id,),
        )
    else:
        fake.fail_next(fault, times=times)
    # When the admin suspends it
    status, headers, problem = act(
        "suspend", service_id, token, {"reason": "Unpaid", "suspension_type": "non_payment"}
    )
    # Then 502 problem+json saying what Interstellio answered, and the service is exactly as it was
    assert status == 502, problem
    assert headers["content-type"] == "application/problem+json"
    assert problem["code"] == code and problem["http_status"] == http_status
    assert problem["current_status"] == "active"
    row = service_row(conn, service_id)
    assert row["status"] == "active" and row["suspension_date"] is None
    assert row["provider_sync_status"] == "in_sync"
    assert suspension_rows(conn, service_id) == []
    assert fake.subscribers[subscriber]["enabled"] is True
    # And the data says exactly what happened: one audit row of the refused attempt, status unchanged
    [log] = log_rows(conn, service_id)
    assert (log["action"], log["previous_status"], log["new_status"]) == ("suspend", "active", "active")
    assert str(log["actor_admin_id"]) == admin_id and log["reason"] == "Unpaid"
    assert log["details"]["outcome"] == "provider_failed"
    assert (
        log["details"]["provider"]["code"] == code
        and log["details"]["provider"]["http_status"] == http_status
    )
    assert problem["action_id"] == str(log["id"])


@pytest.mark.parametrize(
    ("fault", "times", "code"),
    [("timeout", 3, "timeout"), ("http_500", 3, "unavailable"), ("malformed", 1, "malformed")],
)
def test_an_uncertain_answer_commits_a_visible_pending_state_that_the_job_retries(
    conn, fake, fault, times, code
):
    # Given an active service, and Interstellio timing out / failing 5xx / answering garbage
    _, token = admin_with_token(conn, role="support")
    service_id, subscriber = service_with_line(conn, fake)
    fake.fail_next(fault, times=times)
    # When the admin suspends it
    status, _, body = act("suspend", service_id, token)
    # Then 202: suspended, with the disable visibly pending, and the audit row says the outcome is uncertain
    assert status == 202, body
    assert body["provider_pending"] is True
    assert body["service"]["status"] == "suspended"
    assert body["service"]["provider_sync_status"] == "pending_disable"
    assert body["service"]["provider_sync_error"] == code
    [log] = log_rows(conn, service_id)
    assert log["details"]["outcome"] == "provider_pending"
    assert log["details"]["provider"]["outcome"] == "uncertain" and log["details"]["provider"]["code"] == code
    assert len(suspension_rows(conn, service_id)) == 1
    # When the retry job runs with Interstellio healthy again
    status, _, run = call_api(
        "RetryProviderSyncFunction", "POST", "/api/cron/retry-provider-sync", token=token_of_job_admin(conn)
    )
    # Then the line is disabled, the pending state is cleared, and the retry is logged as the system's
    assert status == 200 and run["status"] == "completed" and run["records_processed"] == 1
    assert fake.subscribers[subscriber]["enabled"] is False
    row = service_row(conn, service_id)
    assert row["provider_sync_status"] == "in_sync" and row["provider_sync_error"] is None
    retry = log_rows(conn, service_id)[-1]
    assert retry["action"] == "provider_retry" and retry["actor_type"] == "system"
    assert retry["details"]["outcome"] == "synced" and retry["details"]["enabled"] is False


def test_an_uncertain_reactivation_is_active_with_the_enable_pending(conn, fake):
    # Given a suspended service and Interstellio timing out
    _, token = admin_with_token(conn)
    service_id, subscriber = service_with_line(conn, fake)
    assert act("suspend", service_id, token)[0] == 200
    fake.fail_next("timeout", times=3)
    # When it is reactivated
    status, _, body = act("reactivate", service_id, token)
    # Then 202: active with the enable pending; the suspension is closed
    assert status == 202 and body["service"]["provider_sync_status"] == "pending_enable"
    assert fake.subscribers[subscriber]["enabled"] is False
    assert suspension_rows(conn, service_id)[0]["reactivated_at"] is not None


def token_of_job_admin(conn) -> str:
    return admin_with_token(conn, role="super_admin")[1]


# --- cancellation -----------------------------------------------------------------------------------------


def _insert_recurring_invoice(conn, customer_id, period_start, period_end):
    return conn.execute(
        """
        insert into customer_invoices (customer_id, kind, invoice_date, due_date, period_start, period_end,
                                       subtotal, vat_rate, vat_amount, total_amount, status)
        values (%s, 'recurring', %s, %s, %s, %s, 607.83, 15, 91.17, 699.00, 'issued') returning id
        """,
        (customer_id, period_start, period_start + timedelta(days=7), period_start, period_end),
    ).fetchone()["id"]


def test_cancel_defaults_to_the_end_of_the_paid_period_and_records_what_billing_needs(conn, fake):
    # Given an active R699 service of a customer billed on the 25th, whose current period is invoiced
    from isp_billing.billing.periods import days_in_period, period_containing

    _, token = admin_with_token(conn, role="billing_admin")
    customer_id, _ = customer_with_token(conn)
    conn.execute("update customer_billing set billing_day = 25 where customer_id = %s", (customer_id,))
    service_id, subscriber = service_with_line(
        conn, fake, customer_id=customer_id, price="699.00", activation_date="2025-06-10"
    )
    today = sast_today()
    start, end = period_containing(today, 25)
    invoice_id = _insert_recurring_invoice(conn, customer_id, start, end)
    # When it is cancelled without an effective date
    status, _, body = act("cancel", service_id, token, {"reason": "Moving to another ISP"})
    # Then it is cancelled today, effective at the period's end, and the line stays up until then
    assert status == 200, body
    row = service_row(conn, service_id)
    assert row["status"] == "cancelled" and row["cancellation_date"] == today
    assert row["cancellation_effective_date"] == end and row["cancellation_reason"] == "Moving to another ISP"
    assert fake.subscribers[subscriber]["enabled"] is True
    assert row["provider_sync_status"] == "pending_disable"
    assert row["provider_sync_not_before"] == end + timedelta(days=1)
    # And the audit row carries the figures of the final pro-rata adjustment
    cancellation = log_rows(conn, service_id)[0]["details"]["cancellation"]
    assert cancellation["effective_date"] == end.isoformat() and cancellation["billing_day"] == 25
    assert cancellation["monthly_price"] == "699.00"
    assert cancellation["current_period"] == {"start": start.isoformat(), "end": end.isoformat()}
    final = cancellation["final_period"]
    assert final["start"] == start.isoformat() and final["days_in_period"] == days_in_period(start, end)
    assert final["unused_days"] == 0 and final["days_used"] == days_in_period(start, end)
    assert final["invoiced"] is True and final["invoice_id"] == str(invoice_id)


def test_cancel_with_an_effective_date_inside_an_invoiced_period_records_the_unused_days(conn, fake):
    # Given an invoiced current period and an effective date of today
    from isp_billing.billing.periods import days_in_period, period_containing
    from isp_billing.money import pro_rata

    _, token = admin_with_token(conn, role="super_admin")
    customer_id, _ = customer_with_token(conn)
    service_id, _ = service_with_line(conn, fake, customer_id=customer_id, activation_date="2025-01-01")
    today = sast_today()
    start, end = period_containing(today, 1)
    _insert_recurring_invoice(conn, customer_id, start, end)
    # When cancelled effective today
    status, _, body = act("cancel", service_id, token, {"reason": "x", "effective_date": today.isoformat()})
    # Then the unused days after today and their value are recorded for the credit line
    assert status == 200, body
    final = log_rows(conn, service_id)[0]["details"]["cancellation"]["final_period"]
    days = days_in_period(start, end)
    assert final["unused_days"] == (end - today).days
    assert final["days_used"] == (today - start).days + 1
    from decimal import Decimal

    assert final["unused_days_amount"] == str(pro_rata(Decimal("699.00"), (end - today).days, days))


def test_cancel_effective_in_the_past_or_before_activation_is_422(conn, fake):
    _, token = admin_with_token(conn)
    today = sast_today()
    service_id, _ = service_with_line(conn, fake)
    yesterday = (today - timedelta(days=1)).isoformat()
    status, _, problem = act("cancel", service_id, token, {"reason": "x", "effective_date": yesterday})
    assert status == 422 and problem["field"] == "effective_date"
    later, _ = service_with_line(conn, fake, activation_date=(today + timedelta(days=10)).isoformat())
    soon = (today + timedelta(days=5)).isoformat()
    status, _, problem = act("cancel", later, token, {"reason": "x", "effective_date": soon})
    assert status == 422 and "activation" in problem["detail"]
    assert log_rows(conn, service_id) == [] and log_rows(conn, later) == []


def test_cancelling_a_pending_service_ends_it_today(conn, fake):
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, _ = service_with_line(conn, fake, status="pending", subscriber=False)
    status, _, body = act("cancel", service_id, token)
    assert status == 200 and body["service"]["cancellation_effective_date"] == sast_today().isoformat()
    assert body["service"]["provider_sync_status"] == "in_sync"
