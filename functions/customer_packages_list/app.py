"""GET /api/customer/packages: the sellable catalogue."""

from isp_billing.catalogue import packages
from isp_billing.catalogue.models import CatalogueEntry
from isp_billing.web import CurrentCustomer, build_app, lambda_handler

app = build_app("Customer packages")


@app.get("/api/customer/packages", response_model=list[CatalogueEntry], tags=["customer"])
async def list_packages(ctx: CurrentCustomer) -> list[CatalogueEntry]:
    """What the signed-in customer may order or change to, cheapest first per service type."""
    return packages.customer_catalogue(ctx.conn)


handler = lambda_handler(app)
