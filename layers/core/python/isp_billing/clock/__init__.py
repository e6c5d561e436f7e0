"""Time in the business's zone: Africa/Johannesburg (SAST, UTC+2, no daylight saving).

One clock that every "today" and "now" reads. It can be moved (tests, `serve --demo --today`, the admin
clock route outside production): moving sets an offset from the real time, so time keeps flowing from
the moved instant. The offset is per process; production never moves it (the route does not exist there).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["SAST", "is_moved", "move_to", "move_to_date", "moved_to", "reset", "sast_now", "sast_today"]

SAST = ZoneInfo("Africa/Johannesburg")

_offset = timedelta(0)


def _real_now() -> datetime:
    return datetime.now(SAST)


def sast_now() -> datetime:
    return _real_now() + _offset


def sast_today() -> date:
    """'Today' for a job and for billing dates."""
    return sast_now().date()


def is_moved() -> bool:
    return _offset != timedelta(0)


def move_to(instant: datetime) -> None:
    """From now on the clock reads `instant` (then flows on). A naive instant is SAST."""
    global _offset
    target = instant if instant.tzinfo is not None else instant.replace(tzinfo=SAST)
    _offset = target - _real_now()


def move_to_date(day: date, at: time | None = None) -> None:
    """The clock reads `day` (at `at`, default the current SAST time of day)."""
    move_to(datetime.combine(day, at or _real_now().timetz().replace(tzinfo=None), tzinfo=SAST))


def reset() -> None:
    global _offset
    _offset = timedelta(0)


@contextmanager
def moved_to(instant: datetime) -> Iterator[None]:
    """Tests: the clock at `instant` inside the block, back to real time after."""
    previous = _offset
    move_to(instant)
    try:
        yield
    finally:
        globals()["_offset"] = previous
