"""Bodies where one field decides which others are required (a oneOf on it in the spec): the 422 says which
rule is broken, naming the deciding value and the field, and nothing is written."""

from __future__ import annotations

import uuid

import pytest

from tests.events import call_api
from tests.factories import admin_with_token, insert_customer
from tests.invoice_helpers import insert_invoice


@pytest.fixture
def billing_admin(conn):
    return admin_with_token(conn, role="billing_admin")[1]


def _locs(problem) -> list[list[str]]:
    return [error["loc"] for error in problem["errors"]]


@pytest.mark.parametrize(
    "body,loc",
    [
        ({"mode": "lines", "reason": "x"}, ["body", "lines", "lines"]),  # mode lines needs lines
        ({"mode": "amount", "reason": "x"}, ["body", "amount", "amount"]),  # mode amount needs amount
        ({"mode": "full", "amount": "5.00", "reason": "x"}, ["body", "full", "amount"]),  # full takes neither
        ({"mode": "bogus", "reason": "x"}, ["body"]),  # no such mode: the tags are listed
    ],
)
def test_a_credit_note_s_fields_must_fit_its_mode(conn, billing_admin, body, loc):
    # Given an issued invoice
    invoice = insert_invoice(conn, insert_customer(conn))
    # When a credit note whose fields do not fit its mode is asked for
    status, _, problem = call_api(
        "AdminInvoiceCreditNoteFunction",
        "POST",
        f"/api/admin/invoices/{invoice['id']}/credit-note",
        token=billing_admin,
        body=body,
    )
    # Then 422 names the mode and the field, and no credit note is written
    # Then 422 names the decision and customer_id
    assert status == 422, problem
    assert loc in _locs(problem)
    if body["mode"] == "bogus":
        assert "'full', 'lines', 'amount'" in problem["errors"][0]["msg"]
    assert conn.execute("select count(*) as n from customer_invoices").fetchone()["n"] == 1


def test_an_eft_payment_needs_its_bank_reference(conn, billing_admin):
    # Given an issued invoice / When an EFT is recorded without the bank statement's reference
    invoice = insert_invoice(conn, insert_customer(conn))
    body = {"method": "eft", "amount": "100.00", "payment_date": "2026-02-26"}
    status, _, problem = call_api(
        "AdminInvoicePaymentCreateFunction",
        "POST",
        f"/api/admin/invoices/{invoice['id']}/payments",
        token=billing_admin,
        body=body,
    )
    # Then 422 names method eft and bank_reference, and no payment is written
    assert status == 422, problem
    assert ["body", "eft", "bank_reference"] in _locs(problem)
    assert conn.execute("select count(*) as n from payment_transactions").fetchone()["n"] == 0


@pytest.mark.parametrize(
    "body,loc",
    [
        ({"decision": "link_existing"}, ["body", "link_existing", "customer_id"]),
        ({"decision": "create_new", "customer_id": str(uuid.uuid4())}, ["body", "create_new", "customer_id"]),
    ],
)
def test_a_review_decision_takes_a_customer_id_only_when_linking(conn, billing_admin, body, loc):
    # Given a billing admin / When a decision comes with the wrong customer_id for it
    status, _, problem = call_api(
        "AdminReviewQueueResolveFunction",
        "POST",
        f"/api/admin/review-queue/{uuid.uuid4()}/resolve",
        token=billing_admin,
        body=body,
    )
    # Then 422 names the decision and customer_id
    assert status == 422, problem
    assert loc in _locs(problem)
