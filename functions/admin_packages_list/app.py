"""GET /api/admin/packages: the catalogue (every admin reads it)."""

from fastapi import Query

from isp_billing.catalogue import packages
from isp_billing.catalogue.models import Package
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin packages")


@app.get("/api/admin/packages", response_model=list[Package], tags=["admin"])
async def list_packages(
    ctx: CurrentAdmin,
    sellable_only: bool = Query(default=False, description="Only packages offered to new customers."),
) -> list[Package]:
    """Sellable first; each with today's terms, the next terms to come and its subscriber count."""
    return packages.list_packages(ctx.conn, ctx.admin, sellable_only=sellable_only)


handler = lambda_handler(app)
