"""The one usage write path (the sync job, the push webhook, a manual correction) and the data-cap alerts that
go with it: whatever wrote the usage queues the alerts in the same transaction.

Cap alerts: for each capped service a write touched, its usage over the *current* billing period (from the
customer's billing day; manual rows replacing synced ones) is compared with 80% and 100% of the package's
cap (GB x 1024 MB, the binary units of the sync's conversion). One notification per threshold per period:
the dedupe key `usage_cap:<service>:<period start>:<80|100>` makes a re-run, a replayed webhook or two
writers at once queue nothing twice. Only the current period alerts: a back-fill of old months is history,
not news to e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from isp_billing.billing.periods import period_containing
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.notifications import queue_sql as notifications
from isp_billing.usage import sql as usage
from isp_billing.usage.sql import UsageRow

CAP_THRESHOLDS = (80, 100)
MB_PER_GB = Decimal(1024)
ALERT_KIND = "usage_cap"


@dataclass
class IngestResult:
    rows_written: int = 0
    problems_recorded: int = 0
    alerts_queued: int = 0


def cap_mb(data_cap_gb: int) -> Decimal:
    return Decimal(data_cap_gb) * MB_PER_GB


def percent_used(used_mb: Decimal, data_cap_gb: int | None) -> Decimal | None:
    if not data_cap_gb:
        return None
    return (used_mb * 100 / cap_mb(data_cap_gb)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def thresholds_crossed(used_mb: Decimal, data_cap_gb: int) -> list[int]:
    """The alert thresholds (percent) this usage has reached."""
    return [t for t in CAP_THRESHOLDS if used_mb * 100 >= cap_mb(data_cap_gb) * t]


def write_usage(
    conn: Connection, rows: Sequence[UsageRow], problems: Sequence[dict[str, Any]] = ()
) -> IngestResult:
    """Upsert synced rows (set-based), record ingest problems, queue the cap alerts they cause."""
    result = IngestResult()
    result.rows_written = usage.upsert_synced(conn, rows)
    result.problems_recorded = usage.record_ingest_problems(conn, problems)
    result.alerts_queued = queue_cap_alerts(conn, sorted({row[0] for row in rows}))
    return result


def queue_cap_alerts(
    conn: Connection, service_ids: Sequence[UUID], *, meter_used_mb: dict[UUID, Decimal] | None = None
) -> int:
    """Queue the 80%/100% alerts of the current billing period for these services (see the module).

    `meter_used_mb`: usage Interstellio's usage meter reported (its month's combined KB), used where it is
    more than what usage_history holds so far (the meter webhook can arrive before the day's sync)."""
    if not service_ids:
        return 0
    today = sast_today()
    capped = usage.capped_services(conn, service_ids)
    periods = {row["service_id"]: period_containing(today, int(row["billing_day"])) for row in capped}
    totals = usage.period_totals(conn, [(sid, first, last) for sid, (first, last) in periods.items()])
    requests = []
    for row in capped:
        service_id = row["service_id"]
        used = max(totals.get(service_id, Decimal(0)), (meter_used_mb or {}).get(service_id, Decimal(0)))
        first, last = periods[service_id]
        for threshold in thresholds_crossed(used, int(row["data_cap_gb"])):
            requests.append(_alert(row, first, last, threshold, used))
    return notifications.queue_many(conn, requests)


def _alert(
    row: dict[str, Any], first: date, last: date, threshold: int, used_mb: Decimal
) -> notifications.NotificationRequest:
    service_id = row["service_id"]
    reached = "reached its data cap" if threshold >= 100 else f"used {threshold}% of its data cap"
    return notifications.NotificationRequest(
        customer_id=row["customer_id"],
        kind=ALERT_KIND,
        subject=f"Your {row['package_name']} service has {reached}"[:200],
        template="usage_cap",
        dedupe_key=f"usage_cap:{service_id}:{first.isoformat()}:{threshold}",
        data={
            "service_id": str(service_id),
            "package_name": row["package_name"],
            "threshold_percent": threshold,
            "period_start": first.isoformat(),
            "period_end": last.isoformat(),
            "data_cap_gb": int(row["data_cap_gb"]),
            "used_mb": str(used_mb.quantize(Decimal("0.001"))),
            "percent_used": str(percent_used(used_mb, int(row["data_cap_gb"]))),
        },
    )
