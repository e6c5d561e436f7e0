"""GET /api/customer/billing/summary: where the customer's account stands and what the next invoice will be.

The expected amount comes from the billing run's own computation (`billing_run.compute`, as the admin
preview uses it), so it agrees with what the run will bill. That computation reads internal tables (once-off
charges, the price-change audit rows) a customer session may not, so it runs as the service role on a
connection of its own, for the caller's customer id only, writing and locking nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from isp_billing import side_connection
from isp_billing.auth import CustomerPrincipal
from isp_billing.billing import run as billing_run
from isp_billing.billing.periods import period_containing
from isp_billing.clock import sast_today
from isp_billing.customers import billing_sql as customer_billing
from isp_billing.db import Connection
from isp_billing.errors import NotFound
from isp_billing.invoices import sql as invoices
from isp_billing.invoices.models import BillingSummary, LastPayment


def summary(conn: Connection, customer: CustomerPrincipal) -> BillingSummary:
    billing = customer_billing.get_for_customer(conn, customer.customer_id)
    if billing is None:
        raise NotFound("No billing settings exist for this customer.")
    today = sast_today()
    figures = invoices.account_figures(conn, customer.customer_id, today)
    next_date = _next_billing_date(billing["billing_day"], today, figures["invoiced_today"])
    last = figures["last_payment"]
    return BillingSummary(
        balance_owed=figures["balance_owed"],
        overdue_amount=figures["overdue_amount"],
        credit_balance=billing["credit_balance"],
        next_billing_date=next_date,
        next_invoice_amount=_expected(customer.customer_id, next_date) if next_date else None,
        last_payment=LastPayment.model_validate(last) if last else None,
        paid_this_year=figures["paid_this_year"],
    )


def _next_billing_date(billing_day: int | None, today: date, invoiced_today: bool) -> date | None:
    if billing_day is None or not 1 <= billing_day <= 31:
        return None
    start, end = period_containing(today, billing_day)
    # Today's 02:00 run may not have billed yet: then today is still the next billing date.
    return start if start == today and not invoiced_today else end + timedelta(days=1)


def _expected(customer_id: UUID, billing_date: date) -> Decimal | None:
    """What the run's invoice on that date would leave due as things stand (its total less the account
    credit allocated to it; nothing for a credit note); None when it would refuse to bill."""
    with side_connection.opened() as side, side_connection.service_transaction(side) as service:
        result = billing_run.compute(service, billing_date, [customer_id], lock=False)
    if result.problems:
        return None
    if not result.invoices or result.invoices[0].kind == "credit_note":
        return Decimal("0.00")
    # What will be due: the total less the account credit the run allocates to it after tax.
    return result.invoices[0].total_amount - result.invoices[0].credit_applied
