"""SAST day boundaries of Interstellio's daily buckets and the cap thresholds (pure functions)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from isp_billing.providers.interstellio import parse_daily_usage
from isp_billing.usage.ingest import percent_used, thresholds_crossed


def test_a_bucket_at_23_30_sast_belongs_to_that_sast_day_and_00_30_to_the_next():
    # Given buckets written in UTC: 21:30Z is 23:30 SAST on 1 March, 22:30Z is 00:30 SAST on 2 March
    reply = {
        "payload": [
            {"time": "2026-03-01T21:30:00Z", "download_kb": 1024, "upload_kb": 0},
            {"time": "2026-03-01T22:30:00+00:00", "download_kb": 2048, "upload_kb": 1024},
        ]
    }
    # When the reply is parsed for 1-2 March
    days = parse_daily_usage(reply, date(2026, 3, 1), date(2026, 3, 2))
    # Then each lands on its SAST day, in MB
    assert [(d.usage_date, d.download_mb, d.upload_mb) for d in days] == [
        (date(2026, 3, 1), Decimal("1.000"), Decimal("0.000")),
        (date(2026, 3, 2), Decimal("2.000"), Decimal("1.000")),
    ]


def test_thresholds_and_percent_use_1024_mb_per_gb():
    # Given a 10 GB cap: 80% is 8192 MB
    # Then just below crosses nothing, at 80% one threshold, at the cap both
    assert thresholds_crossed(Decimal("8191.999"), 10) == []
    assert thresholds_crossed(Decimal("8192"), 10) == [80]
    assert thresholds_crossed(Decimal("10240"), 10) == [80, 100]
    assert percent_used(Decimal("5120"), 10) == Decimal("50.00")
    assert percent_used(Decimal("5120"), None) is None
