"""`Idempotency-Key` on every POST route of template.yaml: a retry with the same key replays the first
response and changes nothing; the same key with another body is 422.

The walk is over the template, so a new POST route without a case here (or an explicit, reasoned exemption)
fails `test_every_post_route_is_covered`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from isp_billing.clock import sast_today
from isp_billing_cli.template import functions
from tests.conftest import TEST_CRON_SECRET
from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_customer
from tests.lifecycle_helpers import fake_interstellio_for_functions, log_rows, service_with_line

# Not through this mechanism, and why (docs/adr/0036-idempotency-key-on-every-post.md):
EXEMPT = {
    # NetCash calls it with no Idempotency-Key; each postback is confirmed with NetCash and applied once per
    # delivery (webhook_deliveries), which is the provider's idempotency.
    "/api/webhooks/netcash/mandate": "deduplicated per NetCash delivery",
    # Computes the invoices a run would write and writes nothing: there is no effect to repeat.
    "/api/admin/billing/preview": "writes nothing",
    # Sets this process's clock to a value (not prod): setting it twice to the same value is one setting.
    "/api/admin/clock": "a setting, not an effect",
    # Signed by the sender, no Idempotency-Key: each signed delivery is applied once (webhook_deliveries keyed
    # by its signature), and the figures are an upsert per service and day.
    "/api/webhooks/interstellio/usage": "deduplicated per signed delivery",
    # Interstellio sends no Idempotency-Key: recorded once per service and meter month (unique key).
    "/api/webhooks/interstellio/usage-meter": "deduplicated per service and meter month",
}
CRON_PREFIXES = ("/api/cron/", "/api/admin/backfill/")  # job routes: jobs.py (see the cron test below)


@dataclass
class Case:
    function: str
    path: str
    token: str
    body: Any
    other_body: Any
    effects: Callable[[], int]  # how many times the effect happened (rows it wrote)
    effect_per_call: int = 1  # 0 for a POST that computes and writes nothing (a preview)


def _post_routes() -> list[tuple[str, str]]:
    return sorted(
        (function.logical_id, route.path)
        for function in functions()
        for route in function.routes
        if route.method == "POST"
    )


@pytest.fixture
def interstellio(conn) -> Iterator[Any]:
    with fake_interstellio_for_functions() as server:
        yield server


def _lifecycle(conn, interstellio, action: str, start: str, body: dict, other: dict) -> Case:
    _, token = admin_with_token(conn, role="super_admin")
    service_id, _ = service_with_line(conn, interstellio, status=start)
    return Case(
        f"AdminService{action.title().replace('-', '')}Function",
        f"/api/admin/services/{service_id}/{action}",
        token,
        body,
        other,
        lambda: len(log_rows(conn, service_id)),
    )


def _eft_methods(conn, customer_id: str) -> int:
    return conn.execute(
        "select count(*) as n from customer_payment_methods where customer_id = %s", (customer_id,)
    ).fetchone()["n"]


def _create_case(conn) -> Case:
    customer_id, token = customer_with_token(conn)
    return Case(
        "CustomerPaymentMethodCreateFunction",
        "/api/customer/payment-methods",
        token,
        {"method_type": "eft", "display_name": "EFT"},
        {"method_type": "eft", "display_name": "Other"},
        lambda: _eft_methods(conn, customer_id),
    )


def _set_primary_case(conn) -> Case:
    _, token = customer_with_token(conn)
    created = [
        call_api(
            "CustomerPaymentMethodCreateFunction",
            "POST",
            "/api/customer/payment-methods",
            token=token,
            body={"method_type": "eft", "display_name": name},
        )[2]
        for name in ("First", "Second")
    ]
    second = created[1]["id"]

    def primary_changes() -> int:
        row = conn.execute(
            "select count(*) as n from customer_payment_methods where id = %s and is_primary", (second,)
        ).fetchone()
        return row["n"]

    return Case(
        "CustomerPaymentMethodSetPrimaryFunction",
        f"/api/customer/payment-methods/{second}/set-primary",
        token,
        None,
        {"unexpected": True},
        primary_changes,
    )


def _backfill_leftovers(conn) -> None:
    conn.execute(
        "insert into service_packages (name, service_type, speed_down_mbps, speed_up_mbps, monthly_price)"
        " values ('Fibre 50/50', 'fibre', 50, 50, '699.00')"
    )
    insert_customer(conn, email="one@example.co.za", phone="+27825550000")
    insert_customer(conn, email="two@example.co.za", phone="+27825550000")
    for number, email, package in [
        ("ORD-R1", "three@example.co.za", "Fibre 50/50"),
        ("ORD-P1", "pkg@example.co.za", "Fibre 1000/1000"),
    ]:
        conn.execute(
            "insert into consumer_orders (order_number, first_name, last_name, email, phone, package_name,"
            " package_price, status) values (%s, 'Thandi', 'Mokoena', %s, '082 555 0000', %s, '699.00',"
            " 'installed')",
            (number, email, package),
        )
    status, _, _ = call_api(
        "BackfillOrdersFunction", "POST", "/api/admin/backfill/orders", token=TEST_CRON_SECRET, body={}
    )
    assert status == 200


def _review_case(conn, action: str) -> Case:
    _backfill_leftovers(conn)
    _, token = admin_with_token(conn, role="billing_admin")
    item = conn.execute("select id from migration_review_queue").fetchone()["id"]
    decided = lambda: conn.execute(  # noqa: E731
        "select count(*) as n from migration_review_queue where status <> 'open'"
    ).fetchone()["n"]
    if action == "dismiss":
        body, other = {"note": "Not ours"}, {"note": "Something else"}
        function = "AdminReviewQueueDismissFunction"
    else:
        body, other = {"decision": "create_new"}, {"decision": "create_new", "customer_id": None}
        function = "AdminReviewQueueResolveFunction"
    return Case(function, f"/api/admin/review-queue/{item}/{action}", token, body, other, decided)


def _validation_error_case(conn) -> Case:
    _backfill_leftovers(conn)
    _, token = admin_with_token(conn, role="billing_admin")
    error = conn.execute("select id from validation_errors where error_code = 'unknown_package'").fetchone()
    resolved = lambda: conn.execute(  # noqa: E731
        "select count(*) as n from validation_errors where resolved_at is not null"
    ).fetchone()["n"]
    return Case(
        "AdminValidationErrorResolveFunction",
        f"/api/admin/validation-errors/{error['id']}/resolve",
        token,
        {"note": "Package added"},
        {"note": "Another note"},
        resolved,
    )


def _count(conn, sql: str, *args: Any) -> Callable[[], int]:
    return lambda: conn.execute(sql, args).fetchone()["n"]


def _charge_body(description: str = "Router installation") -> dict[str, Any]:
    return {
        "kind": "installation",
        "description": description,
        "amount": "499.00",
        "due_date": str(sast_today()),
    }


def _charges_create_case(conn) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    customer_id = insert_customer(conn)
    return Case(
        "AdminCustomerChargesCreateFunction",
        f"/api/admin/customers/{customer_id}/charges",
        token,
        _charge_body(),
        _charge_body("Something else"),
        _count(conn, "select count(*) as n from customer_charges where customer_id = %s", customer_id),
    )


def _customer_create_case(conn) -> Case:
    _, token = admin_with_token(conn, role="support")
    body = {"first_name": "Lerato", "last_name": "Dlamini", "email": "lerato.idem@example.co.za"}
    return Case(
        "AdminCustomersCreateFunction",
        "/api/admin/customers",
        token,
        body,
        {**body, "email": "someone.else@example.co.za"},
        _count(conn, "select count(*) as n from customers"),
    )


def _charge_cancel_case(conn) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    customer_id = insert_customer(conn)
    status, _, charge = call_api(
        "AdminCustomerChargesCreateFunction",
        "POST",
        f"/api/admin/customers/{customer_id}/charges",
        token=token,
        body=_charge_body(),
    )
    assert status == 201, charge
    return Case(
        "AdminCustomerChargeCancelFunction",
        f"/api/admin/customers/{customer_id}/charges/{charge['id']}/cancel",
        token,
        None,
        {"unexpected": True},
        _count(conn, "select count(*) as n from customer_charges where status = 'cancelled'"),
    )


def _change_price_case(conn, fake) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, _ = service_with_line(conn, fake, status="active")
    body = {"monthly_price": "899.00", "effective_date": str(sast_today()), "reason": "Upgrade"}
    return Case(
        "AdminServiceChangePriceFunction",
        f"/api/admin/services/{service_id}/change-price",
        token,
        body,
        {**body, "monthly_price": "999.00"},
        lambda: len(log_rows(conn, service_id)),
    )


def _preview_case(conn) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    today = str(sast_today())
    return Case(
        "AdminBillingPreviewFunction",
        "/api/admin/billing/preview",
        token,
        {"run_date": today},
        {"run_date": "2026-01-01"},
        lambda: 0,
        effect_per_call=0,
    )


def _clock_case(conn) -> Case:
    _, token = admin_with_token(conn, role="super_admin")
    return Case(
        "AdminClockFunction",
        "/api/admin/clock",
        token,
        {"reset": True},
        {"today": "2030-01-01"},
        lambda: 0,
        0,
    )


def _invoice_case(conn, action: str) -> Case:
    """Credit note, void and write-off of one invoice; the effect is the invoice's action log rows."""
    from tests.invoice_helpers import insert_invoice

    _, token = admin_with_token(conn, role="billing_admin")
    invoice = insert_invoice(conn, insert_customer(conn), status="draft" if action == "void" else "issued")
    bodies = {
        "credit-note": (
            {"mode": "amount", "amount": "10.00", "reason": "Goodwill"},
            {"mode": "full", "reason": "x"},
        ),
        "void": ({"reason": "Duplicate draft"}, {"reason": "Another reason"}),
        "write-off": ({"reason": "Untraceable"}, {"reason": "Another reason"}),
    }
    function = {
        "credit-note": "AdminInvoiceCreditNoteFunction",
        "void": "AdminInvoiceVoidFunction",
        "write-off": "AdminInvoiceWriteOffFunction",
    }[action]
    return Case(
        function,
        f"/api/admin/invoices/{invoice['id']}/{action}",
        token,
        *bodies[action],
        _count(conn, "select count(*) as n from invoice_action_log where invoice_id = %s", invoice["id"]),
    )


def _usage_correction_case(conn, fake) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    service_id, _ = service_with_line(conn, fake, status="active")
    body = {"usage_date": str(sast_today()), "upload_mb": "1.000", "download_mb": "2.500", "reason": "Outage"}
    return Case(
        "AdminServiceUsageCorrectFunction",
        f"/api/admin/services/{service_id}/usage",
        token,
        body,
        {**body, "download_mb": "9.000"},
        lambda: len(log_rows(conn, service_id)),
    )


def _manual_payment_case(conn) -> Case:
    from tests.collections_helpers import issued_invoice

    _, token = admin_with_token(conn, role="billing_admin")
    customer_id = insert_customer(conn)
    invoice = issued_invoice(conn, customer_id, invoice_date=sast_today())
    body = {"method": "eft", "amount": "100.00", "payment_date": str(sast_today()), "bank_reference": "Ref 1"}
    return Case(
        "AdminInvoicePaymentCreateFunction",
        f"/api/admin/invoices/{invoice}/payments",
        token,
        body,
        {**body, "amount": "200.00"},
        _count(conn, "select count(*) as n from payment_transactions where invoice_id = %s", invoice),
    )


def _payment_reversal_case(conn) -> Case:
    from tests.collections_helpers import issued_invoice, pay_by_eft

    _, token = admin_with_token(conn, role="billing_admin")
    invoice = issued_invoice(conn, insert_customer(conn), invoice_date=sast_today())
    payment = pay_by_eft(conn, invoice, "100.00", token=token)[2]["id"]
    return Case(
        "AdminPaymentReverseFunction",
        f"/api/admin/payments/{payment}/reverse",
        token,
        {"reason": "Entered on the wrong invoice"},
        {"reason": "Other"},
        _count(
            conn, "select count(*) as n from payment_transactions where original_transaction_id = %s", payment
        ),
    )


def _catalogue_world(conn) -> dict[str, str]:
    from tests.factories import insert_package, insert_service

    customer, customer_token = customer_with_token(conn)
    old = insert_package(conn, name="Fibre 25", price="499.00")
    new = insert_package(conn, name="Fibre 100", price="899.00")
    service = insert_service(conn, customer, package_id=old, price="499.00")
    return {
        "customer": customer,
        "customer_token": customer_token,
        "old": old,
        "new": new,
        "service": service,
    }


def _package_create_case(conn) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    body = {"name": "Fibre 200", "service_type": "fibre", "monthly_price": "1099.00"}
    return Case(
        "AdminPackageCreateFunction",
        "/api/admin/packages",
        token,
        body,
        {**body, "name": "Fibre 300"},
        _count(conn, "select count(*) as n from service_packages where name like %s", "Fibre %00"),
    )


def _price_increase_case(conn) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    world = _catalogue_world(conn)
    day = str(sast_today() + timedelta(days=40))
    body = {"monthly_price": "549.00", "effective_date": day, "reason": "Costs"}
    return Case(
        "AdminPackagePriceIncreaseFunction",
        f"/api/admin/packages/{world['old']}/price-increase",
        token,
        body,
        {**body, "monthly_price": "599.00"},
        _count(conn, "select count(*) as n from package_prices where package_id = %s", world["old"]),
    )


def _order_case(conn) -> Case:
    _, token = admin_with_token(conn, role="support")
    world = _catalogue_world(conn)
    address = {"street": "1 Main Road", "city": "Durban", "postal_code": "4001"}
    body = {"package_id": world["new"], "installation_address": address, "requested_date": str(sast_today())}
    return Case(
        "AdminCustomerServiceCreateFunction",
        f"/api/admin/customers/{world['customer']}/services",
        token,
        body,
        {**body, "package_id": world["old"]},
        _count(conn, "select count(*) as n from customer_services where customer_id = %s", world["customer"]),
    )


def _change_package_case(conn) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    world = _catalogue_world(conn)
    body = {"package_id": world["new"], "effective_date": str(sast_today()), "reason": "Upgrade"}
    return Case(
        "AdminServiceChangePackageFunction",
        f"/api/admin/services/{world['service']}/change-package",
        token,
        body,
        {**body, "reason": "Other"},
        lambda: len(log_rows(conn, world["service"])),
    )


def _change_request_case(conn) -> Case:
    world = _catalogue_world(conn)
    return Case(
        "CustomerServiceChangeRequestCreateFunction",
        f"/api/customer/services/{world['service']}/change-requests",
        world["customer_token"],
        {"package_id": world["new"]},
        {"package_id": world["new"], "note": "Faster"},
        _count(
            conn, "select count(*) as n from service_change_requests where service_id = %s", world["service"]
        ),
    )


def _decision_case(conn, verb: str) -> Case:
    _, token = admin_with_token(conn, role="billing_admin")
    world = _catalogue_world(conn)
    request = conn.execute(
        "insert into service_change_requests (service_id, customer_id, package_id) values (%s, %s, %s)"
        " returning id",
        (world["service"], world["customer"], world["new"]),
    ).fetchone()["id"]
    body = {"effective_date": str(sast_today())} if verb == "approve" else {"reason": "Not in your area"}
    other = (
        {"effective_date": str(sast_today() + timedelta(days=1))} if verb == "approve" else {"reason": "No"}
    )
    return Case(
        f"AdminChangeRequest{verb.title()}Function",
        f"/api/admin/change-requests/{request}/{verb}",
        token,
        body,
        other,
        _count(
            conn,
            "select count(*) as n from service_change_requests where id = %s and status <> 'pending'",
            request,
        ),
    )


CASES: dict[str, Callable[..., Case]] = {
    "AdminPackageCreateFunction": lambda conn, fake: _package_create_case(conn),
    "AdminPackagePriceIncreaseFunction": lambda conn, fake: _price_increase_case(conn),
    "AdminCustomerServiceCreateFunction": lambda conn, fake: _order_case(conn),
    "AdminServiceChangePackageFunction": lambda conn, fake: _change_package_case(conn),
    "CustomerServiceChangeRequestCreateFunction": lambda conn, fake: _change_request_case(conn),
    "AdminChangeRequestApproveFunction": lambda conn, fake: _decision_case(conn, "approve"),
    "AdminChangeRequestDeclineFunction": lambda conn, fake: _decision_case(conn, "decline"),
    "AdminPaymentReverseFunction": lambda conn, fake: _payment_reversal_case(conn),
    "AdminServiceUsageCorrectFunction": _usage_correction_case,
    "AdminInvoicePaymentCreateFunction": lambda conn, fake: _manual_payment_case(conn),
    "AdminCustomerChargesCreateFunction": lambda conn, fake: _charges_create_case(conn),
    "AdminCustomersCreateFunction": lambda conn, fake: _customer_create_case(conn),
    "AdminCustomerChargeCancelFunction": lambda conn, fake: _charge_cancel_case(conn),
    "AdminServiceChangePriceFunction": _change_price_case,
    "AdminBillingPreviewFunction": lambda conn, fake: _preview_case(conn),
    "AdminClockFunction": lambda conn, fake: _clock_case(conn),
    "AdminServiceEndNowFunction": lambda conn, fake: _lifecycle(
        conn, fake, "end-now", "active", {"reason": "Fraud confirmed"}, {"reason": "Other"}
    ),
    "AdminServiceActivateFunction": lambda conn, fake: _lifecycle(
        conn, fake, "activate", "pending", {"reason": "Installed"}, {"reason": "Other"}
    ),
    "AdminServiceSuspendFunction": lambda conn, fake: _lifecycle(
        conn,
        fake,
        "suspend",
        "active",
        {"reason": "Router", "suspension_type": "technical"},
        {"reason": "Other", "suspension_type": "technical"},
    ),
    "AdminServiceReactivateFunction": lambda conn, fake: _lifecycle(
        conn, fake, "reactivate", "suspended", {"reason": "Fixed"}, {"reason": "Other"}
    ),
    "AdminServiceCancelFunction": lambda conn, fake: _lifecycle(
        conn, fake, "cancel", "active", {"reason": "Emigrates"}, {"reason": "Other"}
    ),
    "CustomerPaymentMethodCreateFunction": lambda conn, fake: _create_case(conn),
    "CustomerPaymentMethodSetPrimaryFunction": lambda conn, fake: _set_primary_case(conn),
    "AdminReviewQueueDismissFunction": lambda conn, fake: _review_case(conn, "dismiss"),
    "AdminReviewQueueResolveFunction": lambda conn, fake: _review_case(conn, "resolve"),
    "AdminValidationErrorResolveFunction": lambda conn, fake: _validation_error_case(conn),
    "AdminInvoiceCreditNoteFunction": lambda conn, fake: _invoice_case(conn, "credit-note"),
    "AdminInvoiceVoidFunction": lambda conn, fake: _invoice_case(conn, "void"),
    "AdminInvoiceWriteOffFunction": lambda conn, fake: _invoice_case(conn, "write-off"),
}


def test_every_post_route_is_covered():
    # Given every POST route of template.yaml
    for function, path in _post_routes():
        # Then each has a replay case here, or a reasoned exemption, or is a job route (tested below)
        assert function in CASES or path in EXEMPT or path.startswith(CRON_PREFIXES), (function, path)


@pytest.mark.parametrize("function", sorted(CASES))
def test_a_retry_with_the_same_key_replays_the_first_response_and_changes_nothing(
    conn, interstellio, function
):
    # Given a POST that succeeds
    case = CASES[function](conn, interstellio)
    before = case.effects()
    key = {"Idempotency-Key": f"retry-{function}"}
    # When it is sent twice with the same key
    first = call_api(case.function, "POST", case.path, token=case.token, body=case.body, headers=key)
    second = call_api(case.function, "POST", case.path, token=case.token, body=case.body, headers=key)
    # Then the second is the first's response, marked replayed, and the effect happened once
    assert 200 <= first[0] < 300, first
    assert second[0] == first[0] and second[2] == first[2]
    assert second[1].get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first[1]
    assert case.effects() == before + case.effect_per_call
    # And the same key with another body is 422, still with no second effect
    status, headers, problem = call_api(
        case.function, "POST", case.path, token=case.token, body=case.other_body, headers=key
    )
    assert status == 422 and headers["content-type"] == "application/problem+json", problem
    assert case.effects() == before + case.effect_per_call


def test_a_key_is_per_caller_and_a_failed_first_attempt_leaves_no_key(conn, interstellio):
    # Given a suspend whose first attempt fails validation of the state machine (a pending service: 409)
    _, token = admin_with_token(conn, role="super_admin")
    service_id, _ = service_with_line(conn, interstellio, status="pending")
    path = f"/api/admin/services/{service_id}/suspend"
    body = {"reason": "Router", "suspension_type": "technical"}
    key = {"Idempotency-Key": "same-key"}
    assert (
        call_api("AdminServiceSuspendFunction", "POST", path, token=token, body=body, headers=key)[0] == 409
    )
    # When the service becomes active and the same key is sent again
    conn.execute(
        "update customer_services set status = 'active', activation_date = current_date where id = %s",
        (service_id,),
    )
    status, headers, _ = call_api(
        "AdminServiceSuspendFunction", "POST", path, token=token, body=body, headers=key
    )
    # Then it runs afresh (the failed attempt's key rolled back with it)
    assert status in (200, 202) and "idempotent-replayed" not in headers
    # And another admin's same key is theirs: it runs (and is refused by the state machine, not replayed)
    _, other_token = admin_with_token(conn, role="super_admin")
    status, headers, _ = call_api(
        "AdminServiceSuspendFunction", "POST", path, token=other_token, body=body, headers=key
    )
    assert status == 409 and "idempotent-replayed" not in headers


@pytest.mark.parametrize("key", ["", "with space", "é", "x" * 256])
def test_a_malformed_key_is_422_and_nothing_runs(conn, interstellio, key):
    case = CASES["AdminServiceActivateFunction"](conn, interstellio)
    status, _, problem = call_api(
        case.function, "POST", case.path, token=case.token, body=case.body, headers={"Idempotency-Key": key}
    )
    assert status == 422, problem
    assert case.effects() == 0
