"""The role check comes before the input is read: an admin whose role may not use a route gets 403 whatever
it sent, never a 422 describing how to shape a request it may not make (and nothing is written).

Every operation of the spec whose `x-admin-roles` leaves out support (web.BillingAdmin and any role-scoped
admin context a new route uses) is driven here, so a new route is held to the rule without a new test.
"""

from __future__ import annotations

import re
import uuid

import pytest

from isp_billing_cli.openapi import build_openapi
from isp_billing_cli.template import functions
from tests.events import call_api
from tests.factories import admin_with_token

SPEC = build_openapi()
_FUNCTION_OF = {
    (route.method, route.path): function.logical_id for function in functions() for route in function.routes
}
SUPPORT_REFUSED = [
    (method.upper(), path, operation)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if "x-admin-roles" in operation and "support" not in operation["x-admin-roles"]
]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: str(uuid.uuid4()), path)


def _ids(value: object) -> str:
    return str(value) if isinstance(value, str) else ""


def test_the_billing_only_routes_are_there_to_check():
    # Given the spec / Then the credit note route is among the routes support may not use
    assert ("POST", "/api/admin/invoices/{invoice_id}/credit-note") in {(m, p) for m, p, _ in SUPPORT_REFUSED}


@pytest.mark.parametrize("method,path,operation", SUPPORT_REFUSED, ids=_ids)
def test_a_support_admin_gets_403_even_for_an_invalid_request(conn, method, path, operation):
    # Given a support admin, and a request that is invalid in every way it can be (unknown body field, a
    # credit note mode that does not exist, an unparseable query value)
    _, support = admin_with_token(conn, role="support")
    body = {"mode": "bogus", "unknown_field": 1} if "requestBody" in operation else None
    query = "&".join(f"{p['name']}=not-valid" for p in operation.get("parameters", []) if p["in"] == "query")
    counts_before = conn.execute("select count(*) as n from customer_invoices").fetchone()["n"]

    # When it calls the route
    status, _, problem = call_api(
        _FUNCTION_OF[(method, path)], method, _concrete(path), token=support, body=body, query=query
    )

    # Then it is refused for its role (403, naming the role), not told what is wrong with the input
    assert status == 403, problem
    assert "support" in problem["detail"]
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == counts_before
