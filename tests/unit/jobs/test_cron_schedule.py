"""EventBridge schedule expressions: the next and the last due instant in the schedule's zone."""

from datetime import datetime

from isp_billing.clock import SAST
from isp_billing.jobs.cron_schedule import Schedule


def test_daily_at_two_sast():
    schedule = Schedule("cron(0 2 * * ? *)", "Africa/Johannesburg")
    now = datetime(2026, 3, 31, 23, 30, tzinfo=SAST)
    assert schedule.next_after(now) == datetime(2026, 4, 1, 2, 0, tzinfo=SAST)
    assert schedule.last_at_or_before(now) == datetime(2026, 3, 31, 2, 0, tzinfo=SAST)


def test_every_fifteen_minutes_and_hourly_at_quarter_past():
    now = datetime(2026, 3, 31, 10, 7, tzinfo=SAST)
    assert Schedule("cron(0/15 * * * ? *)", "Africa/Johannesburg").next_after(now).minute == 15
    assert Schedule("cron(15 * * * ? *)", "Africa/Johannesburg").last_at_or_before(now) == datetime(
        2026, 3, 31, 9, 15, tzinfo=SAST
    )


def test_business_days():
    schedule = Schedule("cron(0 6 ? * MON-FRI *)", "Africa/Johannesburg")
    friday_evening = datetime(2026, 4, 3, 18, 0, tzinfo=SAST)
    assert schedule.next_after(friday_evening) == datetime(2026, 4, 6, 6, 0, tzinfo=SAST)  # Monday
