"""Use cases of the customer dashboard's account pages."""

from __future__ import annotations

from uuid import UUID

from isp_billing.auth import CustomerPrincipal
from isp_billing.customers import billing_sql as customer_billing
from isp_billing.customers import services_sql as customer_services
from isp_billing.customers.models import BillingSettings, CustomerService
from isp_billing.db import Connection
from isp_billing.errors import NotFound


def list_services(conn: Connection, customer: CustomerPrincipal) -> list[CustomerService]:
    rows = customer_services.list_for_customer(conn, customer.customer_id)
    return [CustomerService.model_validate(row) for row in rows]


def get_service(conn: Connection, customer: CustomerPrincipal, service_id: UUID) -> CustomerService:
    # Another customer's service is "not found", never "forbidden": its existence is not disclosed.
    row = customer_services.get_for_customer(conn, customer.customer_id, service_id)
    if row is None:
        raise NotFound("No such service.")
    return CustomerService.model_validate(row)


def get_billing_settings(conn: Connection, customer: CustomerPrincipal) -> BillingSettings:
    row = customer_billing.get_for_customer(conn, customer.customer_id)
    if row is None:
        raise NotFound("No billing settings exist for this customer.")
    return BillingSettings.model_validate(row)
