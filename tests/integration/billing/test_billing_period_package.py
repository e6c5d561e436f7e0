"""Overage is priced by the package in force during the period it is for: a package change is effective-
dated like a price change, and the previous period's usage keeps that period's cap and out-of-bundle price."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from isp_billing import clock
from tests.billing_helpers import invoices_of, run_billing
from tests.events import call_api
from tests.factories import admin_with_token, insert_customer, insert_package, insert_service

MARCH = date(2026, 3, 1)


def _customer_on_capped_package(conn) -> tuple[str, str]:
    customer = insert_customer(conn)
    conn.execute("update customer_billing set billing_day = 1 where customer_id = %s", (customer,))
    package = insert_package(
        conn,
        name="LTE 100 GB",
        service_type="lte",
        price="399.00",
        data_cap_gb=100,
        out_of_bundle_price_per_gb="10.00",
    )
    service = insert_service(conn, customer, package_id=package, price="399.00", activation_date="2025-12-01")
    return customer, service


def _february_usage(conn, customer: str, service: str, total_mb: str) -> None:
    conn.execute(
        """
        insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)
        values (%s, %s, '2026-02-10', 0, %s, 'interstellio')
        """,
        (customer, service, total_mb),
    )


def _change_package_from_march(conn, service: str, package: str) -> None:
    _, token = admin_with_token(conn, role="billing_admin")
    with clock.moved_to(datetime.combine(date(2026, 2, 20), time(10, 0), tzinfo=clock.SAST)):
        status, _, body = call_api(
            "AdminServiceChangePriceFunction",
            "POST",
            f"/api/admin/services/{service}/change-price",
            token=token,
            body={"package_id": package, "effective_date": "2026-03-01", "reason": "Package change"},
        )
    assert status == 200, body


def _overage(conn, invoice_id) -> list[tuple[str, str]]:
    rows = conn.execute(
        "select amount, source from invoice_line_items where invoice_id = %s and kind = 'overage'",
        (invoice_id,),
    ).fetchall()
    return [(f"{r['amount']:.2f}", r["source"]["over_gb"]) for r in rows]


def test_a_change_to_an_uncapped_package_from_1_march_keeps_februarys_overage(conn):
    # Given 150 GB used in February on a 100 GB cap at R10/GB, and a change to an uncapped package from 1 Mar
    customer, service = _customer_on_capped_package(conn)
    _february_usage(conn, customer, service, "153600")
    uncapped = insert_package(conn, name="LTE Uncapped", service_type="lte", price="599.00")
    _change_package_from_march(conn, service, uncapped)
    # When the 1 March run bills February's usage
    with clock.moved_to(datetime.combine(MARCH, time(2, 0), tzinfo=clock.SAST)):
        run_billing()
    # Then the 50 GB over February's cap is billed at February's R10/GB
    (march,) = invoices_of(conn, customer)
    assert _overage(conn, march["id"]) == [("500.00", "50.000")]
    assert march["usage_totals"][service]["data_cap_gb"] == 100


def test_a_downgrade_from_1_march_does_not_judge_february_by_the_smaller_cap(conn):
    # Given 80 GB used in February (under its 100 GB cap), and a downgrade to 50 GB at R15/GB from 1 March
    customer, service = _customer_on_capped_package(conn)
    _february_usage(conn, customer, service, "81920")
    smaller = insert_package(
        conn,
        name="LTE 50 GB",
        service_type="lte",
        price="299.00",
        data_cap_gb=50,
        out_of_bundle_price_per_gb="15.00",
    )
    _change_package_from_march(conn, service, smaller)
    with clock.moved_to(datetime.combine(MARCH, time(2, 0), tzinfo=clock.SAST)):
        run_billing()
    # Then no overage, and the invoice's usage totals record February's 100 GB cap
    (march,) = invoices_of(conn, customer)
    assert _overage(conn, march["id"]) == []
    assert march["usage_totals"][service]["data_cap_gb"] == 100
    assert Decimal(str(march["total_amount"])) == Decimal("299.00")
