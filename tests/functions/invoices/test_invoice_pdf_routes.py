"""GET /api/customer/invoices/{id}/pdf and /api/admin/invoices/{id}/pdf through their Lambda handlers: the
bytes where the stage has no bucket; with a bucket (moto S3), rendered and stored on first request, then a
302 to a presigned URL; another customer's invoice, drafts and void ones are 404."""

from __future__ import annotations

import io
import uuid
from datetime import date
from urllib.parse import parse_qs, urlparse

import pypdf

from tests.aws_delivery import BUCKET, delivery_aws
from tests.events import call_api, call_api_raw
from tests.factories import admin_with_token, customer_with_token
from tests.invoice_helpers import insert_invoice, line

CUSTOMER = "CustomerInvoicePdfFunction"
ADMIN = "AdminInvoicePdfFunction"


def _path(invoice_id, who="customer"):
    return f"/api/{who}/invoices/{invoice_id}/pdf"


def test_without_a_bucket_the_customer_gets_the_pdf_bytes(conn):
    # Given my issued invoice (no bucket configured, as in `make run`)
    me, token = customer_with_token(conn, first_name="Thandi", last_name="Nkosi")
    invoice = insert_invoice(conn, me)
    # When I fetch its PDF
    status, headers, body = call_api_raw(CUSTOMER, "GET", _path(invoice["id"]), token=token)
    # Then the PDF itself, inline, named by its number, never cached, naming me and the number
    assert status == 200
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"] == f'inline; filename="{invoice["invoice_number"]}.pdf"'
    assert "no-store" in headers["cache-control"]
    text = pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert "Tax Invoice" in text and invoice["invoice_number"] in text and "Thandi Nkosi" in text
    # and nothing was recorded (there is nowhere to store it)
    assert (
        conn.execute("select pdf_url from customer_invoices where id = %s", (invoice["id"],)).fetchone()[
            "pdf_url"
        ]
        is None
    )


def test_another_customers_invoice_a_draft_and_a_void_one_are_404(conn):
    # Given my draft and void invoices and another customer's issued one
    me, token = customer_with_token(conn)
    other, _ = customer_with_token(conn)
    draft = insert_invoice(conn, me, status="draft")
    void = insert_invoice(conn, me, status="void", invoice_date=date(2026, 3, 25))
    theirs = insert_invoice(conn, other)
    # When I ask for each PDF / Then each is "not found", as problem+json
    for invoice in (draft, void, theirs):
        status, headers, body = call_api(CUSTOMER, "GET", _path(invoice["id"]), token=token)
        assert status == 404, invoice["status"]
        assert headers["content-type"] == "application/problem+json" and body["status"] == 404
    # and an id of no invoice at all is the same answer
    status, _, _ = call_api(CUSTOMER, "GET", _path(uuid.uuid4()), token=token)
    assert status == 404


def test_no_token_is_401_and_a_malformed_id_is_422(conn):
    _, token = customer_with_token(conn)
    status, _, _ = call_api(CUSTOMER, "GET", _path(uuid.uuid4()))
    assert status == 401
    status, _, body = call_api(CUSTOMER, "GET", _path("not-a-uuid"), token=token)
    assert status == 422 and body["errors"][0]["loc"] == ["path", "invoice_id"]


def test_an_admin_token_is_not_a_customer_and_a_customer_token_is_not_an_admin(conn):
    # Given an admin, a customer and the customer's invoice
    _, admin_token = admin_with_token(conn, role="support")
    me, token = customer_with_token(conn)
    invoice = insert_invoice(conn, me)
    # When each calls the other's route / Then 403
    assert call_api(CUSTOMER, "GET", _path(invoice["id"]), token=admin_token)[0] == 403
    assert call_api(ADMIN, "GET", _path(invoice["id"], "admin"), token=token)[0] == 403
    # and any active admin role reads the PDF on the admin route
    status, headers, body = call_api_raw(ADMIN, "GET", _path(invoice["id"], "admin"), token=admin_token)
    assert status == 200 and headers["content-type"] == "application/pdf" and body.startswith(b"%PDF")


def test_with_a_bucket_the_first_request_renders_and_stores_then_every_request_redirects(conn, monkeypatch):
    # Given a stage with a bucket and my invoice not rendered yet
    me, token = customer_with_token(conn)
    invoice = insert_invoice(conn, me)
    key = f"invoices/2026/{invoice['invoice_number']}-{invoice['id']}.pdf"
    with delivery_aws(monkeypatch) as aws:
        for attempt in ("first: rendered now", "second: already stored"):
            # When I fetch the PDF
            status, headers, _ = call_api_raw(CUSTOMER, "GET", _path(invoice["id"]), token=token)
            # Then a 302 to a short-lived presigned URL of its object, not cached
            assert status == 302 and headers["cache-control"] == "no-store", attempt
            location = urlparse(headers["location"])
            assert location.path.endswith(key) and BUCKET in headers["location"]
            query = parse_qs(location.query)
            assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
            # and the object is the invoice's PDF, encrypted, recorded on the invoice, stored once
            stored = aws["s3"].get_object(Bucket=BUCKET, Key=key)
            text = pypdf.PdfReader(io.BytesIO(stored["Body"].read())).pages[0].extract_text()
            assert invoice["invoice_number"] in text and stored["ContentType"] == "application/pdf"
            assert stored["ServerSideEncryption"] == "AES256"
            row = conn.execute(
                "select pdf_url, pdf_generated_at from customer_invoices where id = %s", (invoice["id"],)
            ).fetchone()
            assert row["pdf_url"] == f"s3://{BUCKET}/{key}" and row["pdf_generated_at"] is not None
            assert len(aws["s3"].list_object_versions(Bucket=BUCKET)["Versions"]) == 1
        # and another customer still gets 404 for it
        _, other_token = customer_with_token(conn)
        assert call_api(CUSTOMER, "GET", _path(invoice["id"]), token=other_token)[0] == 404


def test_a_credit_note_pdf_says_credit_note_and_names_the_invoice_it_corrects(conn):
    # Given my invoice and a credit note on it
    me, token = customer_with_token(conn)
    original = insert_invoice(conn, me)
    note = insert_invoice(
        conn,
        me,
        kind="credit_note",
        credit_note_for=original["id"],
        lines=[line("-100.00", kind="credit", description="Credit: outage 3-5 March")],
    )
    # When I fetch the credit note's PDF
    status, _, body = call_api_raw(CUSTOMER, "GET", _path(note["id"]), token=token)
    # Then it is a credit note naming the original invoice, with the credited amounts
    text = pypdf.PdfReader(io.BytesIO(body)).pages[0].extract_text()
    assert status == 200
    assert "Credit Note" in text and "Tax Invoice" not in text
    assert f"Corrects invoice {original['invoice_number']}" in text and "-R100.00" in text
