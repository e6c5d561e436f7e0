"""GET /api/admin/customers: find customers by name, e-mail, phone, account number or account status."""

from typing import Annotated

from fastapi import Query

from isp_billing.customers import search as customer_search
from isp_billing.customers.admin_models import CustomerListItem, CustomerStatusFilter
from isp_billing.pagination import DEFAULT_PAGE_SIZE, Cursor, Page, PageSize
from isp_billing.text import FilterText
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin customers")


@app.get("/api/admin/customers", response_model=Page[CustomerListItem], tags=["admin"])
async def list_customers(
    ctx: CurrentAdmin,
    name: Annotated[
        FilterText | None,
        Query(description="Words each starting a first, last or company name (`tha mok`), case-insensitive."),
    ] = None,
    email: Annotated[
        FilterText | None, Query(description="The start of the e-mail, case-insensitive.")
    ] = None,
    phone: Annotated[
        FilterText | None, Query(description="The start of the phone number (`+2782`, `082 123`).")
    ] = None,
    account_number: Annotated[
        FilterText | None, Query(description="The start of the account number (`CUS-2026-0001`).")
    ] = None,
    status: Annotated[
        CustomerStatusFilter | None,
        Query(
            description="active_service (has an active service), owes_money (an unpaid invoice), overdue"
            " (an unpaid invoice past its due date), suspended (a suspended service)."
        ),
    ] = None,
    is_test: Annotated[bool | None, Query(description="Only test (true) or real (false) accounts.")] = None,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[CustomerListItem]:
    """Any active admin; every criterion given must match; newest first; keyset pagination (`next_cursor`)."""
    return customer_search.search(
        ctx.conn,
        name=name,
        email=email,
        phone=phone,
        account_number=account_number,
        status=status,
        is_test=is_test,
        cursor=cursor,
        limit=limit,
    )


handler = lambda_handler(app)
