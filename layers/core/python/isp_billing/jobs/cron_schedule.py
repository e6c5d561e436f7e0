"""EventBridge Scheduler expressions, `cron(min hour day-of-month month day-of-week year)` and
`rate(n unit)`: the last and the next due instant in the schedule's time zone. The syntax our template uses:
`*`, `?`, numbers, lists, ranges, steps (`0/15`), day and month names (MON-FRI); not `L`, `W` or `#`."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
_MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}


def _values(field: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int] | None:
    """The values a field allows; None for any (`*`, `?`)."""
    if field in ("*", "?"):
        return None
    allowed: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/")
            step = int(step_text)
        if part in ("*", ""):
            first, last = low, high
        elif "-" in part:
            a, b = part.split("-")
            first, last = _number(a, names), _number(b, names)
        else:
            first = _number(part, names)
            last = high if step > 1 else first
        allowed.update(range(first, last + 1, step))
    return allowed


def _number(text: str, names: dict[str, int] | None) -> int:
    return names[text.upper()] if names and text.upper() in names else int(text)


class Schedule:
    def __init__(self, expression: str, timezone: str | None) -> None:
        self.zone = ZoneInfo(timezone or "UTC")
        rate = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
        self.rate: timedelta | None = None
        if rate:
            unit = rate.group(2).rstrip("s")
            self.rate = timedelta(**{f"{unit}s": int(rate.group(1))})
            return
        match = re.fullmatch(r"cron\((.+)\)", expression)
        if match is None:
            raise ValueError(f"not a schedule expression: {expression}")
        minute, hour, dom, month, dow, year = match.group(1).split()
        self.minutes = sorted(_values(minute, 0, 59) or range(60))
        self.hours = sorted(_values(hour, 0, 23) or range(24))
        self.dom = _values(dom, 1, 31)
        self.months = _values(month, 1, 12, _MONTHS)
        self.dow = _values(dow, 1, 7, _DAYS)
        self.years = _values(year, 1970, 2199)

    def _day_matches(self, day: datetime) -> bool:
        aws_dow = day.isoweekday() % 7 + 1  # SUN=1 .. SAT=7
        return (
            (self.months is None or day.month in self.months)
            and (self.years is None or day.year in self.years)
            and (self.dom is None or day.day in self.dom)
            and (self.dow is None or aws_dow in self.dow)
        )

    def _times_on(self, day: datetime) -> list[datetime]:
        return [
            datetime.combine(day.date(), time(h, m), tzinfo=self.zone)
            for h in self.hours
            for m in self.minutes
        ]

    def next_after(self, instant: datetime) -> datetime | None:
        if self.rate is not None:
            return instant + self.rate
        local = instant.astimezone(self.zone)
        for offset in range(0, 400):
            day = local + timedelta(days=offset)
            if self._day_matches(day):
                later = [t for t in self._times_on(day) if t > local]
                if later:
                    return later[0]
        return None

    def last_at_or_before(self, instant: datetime) -> datetime | None:
        if self.rate is not None:
            return instant - self.rate
        local = instant.astimezone(self.zone)
        for offset in range(0, 400):
            day = local - timedelta(days=offset)
            if self._day_matches(day):
                earlier = [t for t in self._times_on(day) if t <= local]
                if earlier:
                    return earlier[-1]
        return None
