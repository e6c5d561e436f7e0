"""`serve --demo`: after the demo's billing run, the e-mail is in the local outbox folder and the demo
customer downloads a PDF that opens, over real HTTP."""

from __future__ import annotations

import email
import email.policy
import io
import re

import pypdf

from tests.e2e.demo_server import demo_server

TODAY = "2026-03-01"  # the demo customer (Thandi, CUSTOMER_TOKEN) is billed on the 1st


def test_the_demo_customer_gets_the_invoice_email_and_downloads_the_pdf():
    # Given the demo served on the 1st, and its billing run started through the cron route
    with demo_server("ispb-delivery-demo-", ("--today", TODAY)) as server:
        cron, token = server.values["CRON_SECRET"], server.values["CUSTOMER_TOKEN"]
        run = server.post("/api/cron/generate-invoices", cron, {})
        assert run.status_code == 200 and run.json()["records_processed"] >= 1, run.text
        outbox = server.data_dir / "outbox"
        assert not outbox.exists() or not list(outbox.glob("*.eml"))  # queued, not sent, by the run
        # When the sender job is started through its cron route
        sent = server.post("/api/cron/send-notifications", cron, {})
        # Then every invoice's e-mail is an .eml file in the demo's outbox folder
        assert sent.status_code == 200, sent.text
        assert sent.json()["records_processed"] == run.json()["records_processed"]
        messages = [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in outbox.glob("*.eml")
        ]
        mine = [m for m in messages if m["To"] == "thandi@example.co.za"]
        assert len(mine) == 1 and mine[0]["Subject"].startswith("Your tax invoice INV-2026-")
        text = mine[0].get_body(preferencelist=("plain",)).get_content()
        link = re.search(r"(\S+)(/api/customer/invoices/[0-9a-f-]{36}/pdf)", text)
        assert link is not None and link.group(1) == server.base  # the link points at this server
        # When the customer follows the e-mail's link
        response = server.get(link.group(2), token)
        # Then the tax invoice PDF opens, with the number the e-mail named
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        page = pypdf.PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
        number = mine[0]["Subject"].removeprefix("Your tax invoice ")
        assert "Tax Invoice" in page and number in page and "Thandi Mokoena" in page
        # and the same PDF is attached to the e-mail
        attached = next(mine[0].iter_attachments()).get_content()
        assert attached == response.content
