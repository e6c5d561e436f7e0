"""GET and POST /api/admin/clock: read or move the clock every today/now reads. Not in production: the
template creates this function only outside prod, and it answers 404 there anyway."""

from isp_billing.clock import admin as clock_admin
from isp_billing.clock.models import ClockReading, MoveClockRequest
from isp_billing.web import CurrentAdmin, build_app, lambda_handler

app = build_app("Admin clock")


@app.get(
    "/api/admin/clock", response_model=ClockReading, tags=["admin"], responses={404: {"description": "prod"}}
)
async def read_clock(ctx: CurrentAdmin) -> ClockReading:
    """Any admin: the clock's SAST instant and date, and whether it is moved."""
    return clock_admin.read(ctx.admin)


@app.post(
    "/api/admin/clock",
    response_model=ClockReading,
    tags=["admin"],
    responses={403: {"description": "Not a super_admin"}, 404: {"description": "prod"}},
)
async def move_clock(body: MoveClockRequest, ctx: CurrentAdmin) -> ClockReading:
    """super_admin: `{"now": instant}`, `{"today": date}` or `{"reset": true}` (this process's clock)."""
    return clock_admin.move(ctx.admin, body)


handler = lambda_handler(app)
