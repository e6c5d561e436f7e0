"""GET /api/admin/customers/{customer_id}: the account at a glance, for the person on the phone.

Each part is read by the package that owns it (services and suspensions by lifecycle, money by invoices and
collections, payment methods by payment_methods); only the timeline, a union of every audit trail, is this
package's own SQL.
"""

from __future__ import annotations

from uuid import UUID

from isp_billing.clock import sast_today
from isp_billing.collections import payments as collection_payments
from isp_billing.customers import customers_sql as customers
from isp_billing.customers import overview_sql
from isp_billing.customers.admin_models import (
    CustomerOverview,
    OverviewInvoice,
    OverviewPayment,
    OverviewPaymentMethod,
    OverviewService,
    OverviewSuspension,
    TimelineEntry,
)
from isp_billing.db import Connection
from isp_billing.errors import NotFound
from isp_billing.invoices import sql as invoices
from isp_billing.lifecycle import services_sql as services
from isp_billing.lifecycle import suspensions_sql as suspensions
from isp_billing.payment_methods import sql as payment_methods

RECENT = 5
TIMELINE = 20
MAX_SERVICES = 100


def overview(conn: Connection, customer_id: UUID) -> CustomerOverview:
    row = customers.get_customer(conn, customer_id)
    if row is None:
        raise NotFound("No such customer.")
    customer, billing = customers.split_billing(row)
    figures = invoices.account_figures(conn, customer_id, sast_today())
    service_rows = services.list_services(
        conn, status=None, customer_id=customer_id, package_id=None, after=None, limit=MAX_SERVICES
    )[:MAX_SERVICES]
    open_suspensions = [
        suspension
        for service in service_rows
        if service["status"] == "suspended"
        and (suspension := suspensions.open_for_service(conn, service["id"])) is not None
    ]
    invoice_rows = invoices.list_for_admin(
        conn,
        customer_id=customer_id,
        status=None,
        kind=None,
        date_from=None,
        date_to=None,
        overdue_on=None,
        after=None,
        limit=RECENT,
    )[:RECENT]
    payments = collection_payments.customer_payments(conn, customer_id, limit=RECENT, cursor=None).items
    return CustomerOverview.model_validate(
        {
            **customer,
            "billing": billing,
            "balance_owed": figures["balance_owed"],
            "overdue_amount": figures["overdue_amount"],
            "services": [OverviewService.model_validate(s) for s in service_rows],
            "open_suspensions": [OverviewSuspension.model_validate(s) for s in open_suspensions],
            "payment_methods": [
                OverviewPaymentMethod.model_validate(m)
                for m in payment_methods.list_active(conn, customer_id)
            ],
            "recent_invoices": [OverviewInvoice.model_validate(i) for i in invoice_rows],
            "recent_payments": [OverviewPayment.model_validate(p.model_dump()) for p in payments],
            "timeline": [
                TimelineEntry.model_validate(t) for t in overview_sql.timeline(conn, customer_id, TIMELINE)
            ],
        }
    )
