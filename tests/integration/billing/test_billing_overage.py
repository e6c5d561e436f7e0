"""Usage in billing (issue 13) on a real PostgreSQL: the run's overage line, its exactly-once, the settlement
of a correction made after issue, the preview, the invoice API and PDF, and who may read the totals."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import psycopg
import pypdf

from isp_billing import db
from tests.billing_helpers import invoices_of, run_billing, table_counts
from tests.events import call_api, call_api_raw
from tests.factories import admin_with_token, customer_with_token, insert_package, insert_service
from tests.postgrest import DataApi, customer_claims, select_statement

MARCH, APRIL, MAY = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)


def _capped_customer(conn: psycopg.Connection, price_per_gb: str | None = "10.00") -> tuple[str, str, str]:
    """A customer billed on the 1st with a R399 LTE service on a 100 GB cap; (customer, token, service)."""
    customer, token = customer_with_token(conn)
    conn.execute("update customer_billing set billing_day = 1 where customer_id = %s", (customer,))
    package = insert_package(
        conn,
        name="LTE 100 GB",
        service_type="lte",
        price="399.00",
        data_cap_gb=100,
        out_of_bundle_price_per_gb=price_per_gb,
    )
    service = insert_service(conn, customer, package_id=package, price="399.00", activation_date="2025-12-01")
    return customer, token, service


def _usage(conn, customer: str, service: str, day: str, total_mb: str, source: str = "interstellio") -> None:
    half = Decimal(total_mb) / 2
    conn.execute(
        """
        insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)
        values (%s, %s, %s, %s, %s, %s)
        on conflict (service_id, usage_date, source) do update
           set upload_mb = excluded.upload_mb, download_mb = excluded.download_mb
        """,
        (customer, service, day, half, Decimal(total_mb) - half, source),
    )


def _overage_lines(conn, invoice_id) -> list[dict]:
    return conn.execute(
        "select amount, line_key, period_start, source from invoice_line_items"
        " where invoice_id = %s and kind = 'overage' order by line_key",
        (invoice_id,),
    ).fetchall()


def test_the_run_bills_the_previous_periods_overage_once_and_settles_a_later_correction_once(conn):
    # Given February usage of 112.5 GB on a 100 GB cap at R10/GB: two synced days, one replaced by manual
    customer, _, service = _capped_customer(conn)
    _usage(conn, customer, service, "2026-02-10", "80000")
    _usage(conn, customer, service, "2026-02-20", "50000")
    _usage(conn, customer, service, "2026-02-20", "35200", source="manual")  # replaces the 50,000 synced
    _usage(conn, customer, service, "2026-01-31", "99999")  # January: not February's business
    # When the run bills 1 March, twice
    run_billing(MARCH)
    counts = table_counts(conn)
    assert run_billing(MARCH)["records_processed"] == 0
    # Then one invoice with the R399 month and one R125.00 overage line for February, written once
    assert table_counts(conn) == counts
    [march] = invoices_of(conn, customer)
    [line] = _overage_lines(conn, march["id"])
    assert line["amount"] == Decimal("125.00") and line["period_start"] == date(2026, 2, 1)
    assert line["line_key"] == f"overage:{service}:2026-02-01"
    assert (line["source"]["used_mb"], line["source"]["over_gb"], line["source"]["price_per_gb"]) == (
        "115200.000",
        "12.500",
        "10.00",
    )
    assert march["total_amount"] == Decimal("524.00")
    assert march["usage_totals"][service]["total_mb"] == "115200.000"
    assert march["usage_totals"][service]["period_end"] == "2026-02-28"

    # Given February is corrected after March's invoice was issued: +7.5 GB on a manual day
    _usage(conn, customer, service, "2026-02-25", "7680", source="manual")
    # When April and then May are billed (May twice)
    run_billing(APRIL)
    run_billing(MAY)
    run_billing(MAY)
    # Then March's invoice is as issued, April carries the R75.00 difference for February once, May none
    march_after, april, may = invoices_of(conn, customer)
    assert march_after["total_amount"] == march["total_amount"]
    assert march_after["usage_totals"] == march["usage_totals"]
    [correction] = _overage_lines(conn, april["id"])
    assert correction["amount"] == Decimal("75.00")
    assert correction["line_key"] == f"overage:{service}:2026-02-01:2026-04-01"
    assert (correction["source"]["should_be"], correction["source"]["already_billed"]) == ("200.00", "125.00")
    assert _overage_lines(conn, may["id"]) == []
    total = conn.execute(
        "select sum(amount) as s from invoice_line_items where service_id = %s and kind = 'overage'"
        " and period_start = '2026-02-01'",
        (service,),
    ).fetchone()["s"]
    assert total == Decimal("200.00")


def test_a_correction_lowering_usage_is_credited_on_the_next_invoice(conn):
    # Given February billed 12.5 GB over, then corrected down to 2.5 GB over
    customer, _, service = _capped_customer(conn)
    _usage(conn, customer, service, "2026-02-10", "115200")
    run_billing(MARCH)
    _usage(conn, customer, service, "2026-02-10", "104960", source="manual")
    # When April is billed
    run_billing(APRIL)
    # Then April carries a R100.00 credit for February
    april = invoices_of(conn, customer)[1]
    assert [row["amount"] for row in _overage_lines(conn, april["id"])] == [Decimal("-100.00")]


def test_no_price_per_gb_no_overage_but_the_usage_is_shown(conn):
    customer, _, service = _capped_customer(conn, price_per_gb=None)
    _usage(conn, customer, service, "2026-02-10", "200000")
    run_billing(MARCH)
    [march] = invoices_of(conn, customer)
    assert _overage_lines(conn, march["id"]) == []
    assert march["usage_totals"][service]["total_mb"] == "200000.000"
    assert march["usage_totals"][service]["price_per_gb"] is None


def test_the_preview_shows_the_same_overage_line_as_the_run(conn):
    # Given February over the cap and a billing admin
    customer, _, service = _capped_customer(conn)
    _usage(conn, customer, service, "2026-02-10", "115200")
    _, admin = admin_with_token(conn, role="billing_admin")
    # When the preview for 1 March is asked for, then the run bills it
    status, _, body = call_api(
        "AdminBillingPreviewFunction",
        "POST",
        "/api/admin/billing/preview",
        token=admin,
        body={"run_date": "2026-03-01", "customer_id": customer},
        headers={"idempotency-key": "preview-overage-1"},
    )
    assert status == 200, body
    run_billing(MARCH)
    # Then the preview's overage line is the run's, figure for figure
    [previewed] = [line for line in body["invoices"][0]["lines"] if line["kind"] == "overage"]
    [written] = _overage_lines(conn, invoices_of(conn, customer)[0]["id"])
    assert previewed["amount"] == f"{written['amount']:.2f}" == "125.00"
    assert previewed["source"] == written["source"]


def test_the_invoice_api_and_pdf_show_the_usage_and_another_customer_sees_none_of_it(conn):
    # Given my March invoice with February's usage over the cap, and another customer
    customer, token, service = _capped_customer(conn)
    _usage(conn, customer, service, "2026-02-10", "115200")
    run_billing(MARCH)
    [march] = invoices_of(conn, customer)
    _, other_token = customer_with_token(conn)
    _, admin = admin_with_token(conn, role="billing_admin")
    # When I read it through the customer API
    status, _, body = call_api(
        "CustomerInvoiceGetFunction", "GET", f"/api/customer/invoices/{march['id']}", token=token
    )
    # Then the usage per service, MB as strings with three places, the cap and the percentage
    assert status == 200, body
    assert body["usage"] == [
        {
            "service_id": service,
            "service_name": "LTE 100 GB",
            "period_start": "2026-02-01",
            "period_end": "2026-02-28",
            "upload_mb": "57600.000",
            "download_mb": "57600.000",
            "total_mb": "115200.000",
            "data_cap_gb": 100,
            "percent_used": "112.50",
            "out_of_bundle_price_per_gb": "10.00",
        }
    ]
    [overage] = [line for line in body["lines"] if line["kind"] == "overage"]
    assert (
        overage["reason"]
        == "Out-of-bundle usage 1\u201328 Feb 2026: 12.500 GB over the 100 GB cap at R10.00/GB"
    )
    # And the admin detail shows the same usage
    status, _, admin_body = call_api(
        "AdminInvoiceGetFunction", "GET", f"/api/admin/invoices/{march['id']}", token=admin
    )
    assert status == 200 and admin_body["usage"] == body["usage"]
    # And the PDF prints the usage table
    status, _, pdf = call_api_raw(
        "CustomerInvoicePdfFunction", "GET", f"/api/customer/invoices/{march['id']}/pdf", token=token
    )
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert status == 200 and "Usage in the previous period" in text and "115,200.000" in text
    # When another customer asks for it / Then not found, and nothing of my usage
    status, _, other = call_api(
        "CustomerInvoiceGetFunction", "GET", f"/api/customer/invoices/{march['id']}", token=other_token
    )
    assert status == 404 and service not in str(other)


def test_rls_a_customer_reads_only_their_own_invoices_usage_totals(conn, admin_database_url):
    # Given two customers' March invoices carrying usage totals
    mine, _, my_service = _capped_customer(conn)
    theirs, _, their_service = _capped_customer(conn)
    for customer, service in ((mine, my_service), (theirs, their_service)):
        _usage(conn, customer, service, "2026-02-10", "1000")
    run_billing(MARCH)
    me = str(
        conn.execute("select auth_user_id from customers where id = %s", (mine,)).fetchone()["auth_user_id"]
    )
    # When my JWT reads usage_totals through the Data API, and the API's customer session reads them,
    # both with no WHERE clause at all
    data_api = DataApi(admin_database_url)
    try:
        through_data_api = data_api.request(
            select_statement("customer_invoices", ["customer_id", "usage_totals"]), claims=customer_claims(me)
        )
    finally:
        data_api.close()
    with db.customer_session(customer_claims(me)) as (session, _):
        through_api = session.execute("select customer_id, usage_totals from customer_invoices").fetchall()
    # Then only my invoice, with only my service's usage
    for rows in (through_data_api.rows, through_api):
        assert [str(row["customer_id"]) for row in rows] == [mine]
        assert list(rows[0]["usage_totals"]) == [my_service]


def test_an_issued_invoices_usage_totals_cannot_change(conn):
    customer, _, service = _capped_customer(conn)
    _usage(conn, customer, service, "2026-02-10", "1000")
    run_billing(MARCH)
    [march] = invoices_of(conn, customer)
    try:
        with conn.transaction():
            conn.execute("update customer_invoices set usage_totals = '{}' where id = %s", (march["id"],))
        raise AssertionError("the update went through")
    except psycopg.errors.ObjectNotInPrerequisiteState:
        pass
