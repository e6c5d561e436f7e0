"""Fourteen months with the moved clock: the schedule fires every day at 02:00 SAST, admins act through the
real endpoints on the days they would, and every invoice line and total is asserted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from isp_billing import clock
from isp_billing_cli.events import LambdaContext, scheduled_event
from isp_billing_cli.template import function_by_id
from tests.billing_helpers import billed_customer, invoices_of, lines_of
from tests.events import call_api
from tests.factories import admin_with_token
from tests.lifecycle_helpers import fake_interstellio_for_functions, service_with_line

LIFECYCLE = {
    "activate": "AdminServiceActivateFunction",
    "suspend": "AdminServiceSuspendFunction",
    "reactivate": "AdminServiceReactivateFunction",
    "cancel": "AdminServiceCancelFunction",
    "change-price": "AdminServiceChangePriceFunction",
}


@pytest.fixture
def fake(conn):
    with fake_interstellio_for_functions() as server:
        yield server


def _act(action: str, service_id: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    status, _, answer = call_api(
        LIFECYCLE[action], "POST", f"/api/admin/services/{service_id}/{action}", token=token, body=body
    )
    assert status in (200, 202), answer
    return answer


def _live_through(first: date, last: date, actions: dict[date, Callable[[], None]]) -> None:
    """Every day from first to last: the 02:00 SAST scheduled run, then that day's admin action at 10:00."""
    handler = function_by_id("GenerateInvoicesFunction").load_handler()
    day = first
    while day <= last:
        with clock.moved_to(datetime.combine(day, time(2, 0), tzinfo=clock.SAST)):
            result = handler(scheduled_event("generate-invoices"), LambdaContext("GenerateInvoicesFunction"))
            assert result["status"] == "completed", result
        if day in actions:
            with clock.moved_to(datetime.combine(day, time(10, 0), tzinfo=clock.SAST)):
                actions[day]()
        day += timedelta(days=1)


def test_a_customer_through_fourteen_months(conn, fake):
    # Given billing day 25, a pending R699 service, and a billing admin
    _, token = admin_with_token(conn, role="billing_admin")
    customer, _ = billed_customer(conn, billing_day=25, services=[])
    service, _ = service_with_line(conn, fake, status="pending", customer_id=customer, price="699.00")
    actions = {
        # activated mid-period (period 25 Dec - 24 Jan: 31 days; 10-24 Jan: 15 days)
        date(2027, 1, 10): lambda: _act("activate", service, token, {"activation_date": "2027-01-10"}),
        # upgraded to R899 from 11 March (period 25 Feb - 24 Mar: 28 days; 11-24 Mar: 14 days)
        date(2027, 3, 11): lambda: _act(
            "change-price",
            service,
            token,
            {"monthly_price": "899.00", "effective_date": "2027-03-11", "reason": "Upgrade to 100 Mbps"},
        ),
        # suspended at the customer's request from 10 May (period 25 Apr - 24 May: 30 days; 15 paused days)
        date(2027, 5, 10): lambda: _act(
            "suspend", service, token, {"suspension_type": "customer_request", "reason": "Travelling"}
        ),
        # reactivated on 5 June (period 25 May - 24 Jun, not invoiced: 31 days; 5-24 Jun: 20 days)
        date(2027, 6, 5): lambda: _act("reactivate", service, token, {}),
        # cancelled, last day 10 Nov, inside the invoiced 25 Oct - 24 Nov (31 days; 11-24 Nov: 14 unused)
        date(2027, 11, 3): lambda: _act(
            "cancel", service, token, {"reason": "Moving away", "effective_date": "2027-11-10"}
        ),
    }
    # When fourteen months pass, Jan 2027 - Feb 2028
    _live_through(date(2027, 1, 1), date(2028, 2, 29), actions)
    # Then every invoice is exactly as the rules say
    expected = [
        ("2027-01-25", [("recurring", "699.00"), ("pro_rata", "338.23")], "1037.23"),
        ("2027-02-25", [("recurring", "699.00")], "699.00"),
        ("2027-03-25", [("recurring", "899.00"), ("adjustment", "100.00")], "999.00"),
        ("2027-04-25", [("recurring", "899.00")], "899.00"),
        # 899 x 15 / 30 = 449.50 credited; no recurring line while paused: a credit note for the excess,
        # whose amount is credit on account
        ("2027-05-25", [("credit", "-449.50")], "-449.50"),
        # 899 x 20 / 31 = 580.00 and the month; the R449.50 credit is applied after tax, below the total
        ("2027-06-25", [("recurring", "899.00"), ("pro_rata", "580.00")], "1479.00"),
        ("2027-07-25", [("recurring", "899.00")], "899.00"),
        ("2027-08-25", [("recurring", "899.00")], "899.00"),
        ("2027-09-25", [("recurring", "899.00")], "899.00"),
        ("2027-10-25", [("recurring", "899.00")], "899.00"),
        # 899 x 14 / 31 = 406.00 credited for the unused days after 10 Nov: a credit note, carried to credit
        ("2027-11-25", [("credit", "-406.00")], "-406.00"),
    ]
    invoices = invoices_of(conn, customer)
    actual = [(str(i["invoice_date"]), lines_of(conn, i["id"]), f"{i['total_amount']:.2f}") for i in invoices]
    assert actual == expected
    # And the two credit notes have their own numbers and each names the invoice it corrects
    assert [i["invoice_number"] for i in invoices] == [
        *(f"INV-2027-{n:05d}" for n in range(1, 5)),
        "CRN-2027-00001",
        *(f"INV-2027-{n:05d}" for n in range(5, 10)),
        "CRN-2027-00002",
    ]
    by_id = {i["id"]: i for i in invoices}
    assert by_id[invoices[4]["credit_note_for"]]["invoice_number"] == "INV-2027-00004"
    assert by_id[invoices[10]["credit_note_for"]]["invoice_number"] == "INV-2027-00009"
    sources = [
        row["source"]
        for row in conn.execute(
            "select source from invoice_line_items where invoice_id = any(%s) and amount < 0",
            ([invoices[4]["id"], invoices[10]["id"]],),
        )
    ]
    assert sorted(s["corrects_invoice_number"] for s in sources) == ["INV-2027-00004", "INV-2027-00009"]
    # And June's invoice had the May credit note's R449.50 applied to it as account credit, leaving R1029.50
    june = invoices[5]
    assert (june["amount_credited"], june["amount_due"]) == (Decimal("449.50"), Decimal("1029.50"))
    assert june["account_credit_applied"] == Decimal("449.50")
    for invoice in invoices:
        assert invoice["subtotal"] + invoice["vat_amount"] == invoice["total_amount"]
        assert invoice["vat_amount"] == (invoice["total_amount"] * 15 / 115).quantize(
            Decimal("0.01"), "ROUND_HALF_UP"
        )
    balance = conn.execute("select credit_balance from customer_billing where customer_id = %s", (customer,))
    assert balance.fetchone()["credit_balance"] == Decimal("406.00")
    # And after the cancellation the periods are deliberately not billed (skipped cycles)
    cycles = conn.execute(
        "select period_start, status from billing_cycles"
        " where customer_id = %s and period_start > '2027-11-25'"
        " order by period_start",
        (customer,),
    ).fetchall()
    assert [(str(c["period_start"]), c["status"]) for c in cycles] == [
        ("2027-12-25", "skipped"),
        ("2028-01-25", "skipped"),
        ("2028-02-25", "skipped"),
    ]


def test_billing_days_29_30_31_through_a_non_leap_and_a_leap_february(conn):
    # Given R699 services on billing days 29, 30 and 31, one on day 31 activated on 10 Feb 2027, and one whose
    # billing day is its activation day (15 March 2027, activated after that day's run)
    customers = {
        day: billed_customer(conn, billing_day=day, services=[{"activation_date": "2026-12-01"}])[0]
        for day in (29, 30, 31)
    }
    late, _ = billed_customer(conn, billing_day=31, services=[{"status": "pending", "activation_date": None}])
    same_day, [same_day_service] = billed_customer(
        conn, billing_day=15, services=[{"status": "pending", "activation_date": None}]
    )
    late_service = conn.execute(
        "select id from customer_services where customer_id = %s", (late,)
    ).fetchone()["id"]

    def activate(service_id: Any, day: str) -> Callable[[], None]:
        return lambda: (
            conn.execute(
                "update customer_services set status = 'active', activation_date = %s where id = %s",
                (day, service_id),
            )
            and None
        )

    # When Jan 2027 - Feb 2028 pass, with a run at 23:30 SAST on the last day of March as well
    _live_through(
        date(2027, 1, 1),
        date(2027, 3, 31),
        {
            date(2027, 2, 10): activate(late_service, "2027-02-10"),
            date(2027, 3, 15): activate(same_day_service, "2027-03-15"),
        },
    )
    handler = function_by_id("GenerateInvoicesFunction").load_handler()
    with clock.moved_to(datetime(2027, 3, 31, 23, 30, tzinfo=clock.SAST)):
        late_run = handler(scheduled_event("generate-invoices"), LambdaContext("GenerateInvoicesFunction"))
    assert late_run["details"]["billed_through"] == "2027-03-31" and late_run["records_processed"] == 0
    _live_through(date(2027, 4, 1), date(2028, 2, 29), {})

    # Then the billing dates fall on the month's last day where the month is short, Feb 29 in 2028
    def dates(customer: str) -> list[str]:
        return [str(i["invoice_date"]) for i in invoices_of(conn, customer)]

    assert dates(customers[29])[:3] == ["2027-01-29", "2027-02-28", "2027-03-29"]
    assert "2028-02-29" in dates(customers[29])
    assert dates(customers[30])[:3] == ["2027-01-30", "2027-02-28", "2027-03-30"]
    assert "2028-02-29" in dates(customers[30])
    assert dates(customers[31])[:5] == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31"]
    assert "2028-02-29" in dates(customers[31]) and "2028-01-31" in dates(customers[31])
    for customer in customers.values():
        invoices = invoices_of(conn, customer)
        assert len(invoices) == 14 and {i["total_amount"] for i in invoices} == {Decimal("699.00")}
        # the periods chain with no gap and no overlap
        for earlier, later in pairwise(invoices):
            assert earlier["period_end"] + timedelta(days=1) == later["period_start"]
    # And day 31 activated 10 Feb 2027: period 31 Jan - 27 Feb (28 days), 10-27 Feb = 18 days:
    # 699 x 18 / 28 = 449.36
    first_late = invoices_of(conn, late)[0]
    assert str(first_late["invoice_date"]) == "2027-02-28"
    assert lines_of(conn, first_late["id"]) == [("recurring", "699.00"), ("pro_rata", "449.36")]
    # And billing day = activation day: the whole first period is charged on the next invoice (31/31)
    first_same = invoices_of(conn, same_day)[0]
    assert str(first_same["invoice_date"]) == "2027-04-15"
    assert lines_of(conn, first_same["id"]) == [("pro_rata", "699.00"), ("recurring", "699.00")]
