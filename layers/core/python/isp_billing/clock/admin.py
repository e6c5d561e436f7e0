"""Reading and moving the clock through the admin route (never in production)."""

from __future__ import annotations

from isp_billing import clock
from isp_billing.auth import AdminPrincipal
from isp_billing.clock.models import ClockReading, MoveClockRequest
from isp_billing.errors import Forbidden, NotFound, ValidationFailed
from isp_billing.settings import get_settings


def _refuse_in_production() -> None:
    if get_settings().stage == "prod":
        raise NotFound("There is no clock route in production.")


def _reading() -> ClockReading:
    return ClockReading(now=clock.sast_now(), today=clock.sast_today(), moved=clock.is_moved())


def read(admin: AdminPrincipal) -> ClockReading:
    _refuse_in_production()
    return _reading()


def move(admin: AdminPrincipal, request: MoveClockRequest) -> ClockReading:
    _refuse_in_production()
    if admin.role != "super_admin":
        raise Forbidden("Only a super_admin may move the clock.")
    chosen = [request.now is not None, request.today is not None, request.reset]
    if sum(chosen) != 1:
        raise ValidationFailed("Give exactly one of now, today or reset.", field="body")
    if request.reset:
        clock.reset()
    elif request.now is not None:
        clock.move_to(request.now)
    elif request.today is not None:
        clock.move_to_date(request.today)
    return _reading()
