"""POST /api/admin/services/{id}/usage: an admin's manual figures for one SAST day of a service.

The manual row sits beside the synced one (its own source), so the daily sync never overwrites it and the
customer's views show it instead of the synced day. Every correction writes a `usage_correction` audit row
with the day's figures before and after, in the same transaction, and may queue cap alerts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.auth import AdminPrincipal
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import NotFound, ValidationFailed
from isp_billing.lifecycle import audit_sql as service_actions
from isp_billing.lifecycle import services_sql as admin_services
from isp_billing.usage import sql as usage
from isp_billing.usage.ingest import queue_cap_alerts
from isp_billing.usage.models import UsageCorrectionRequest, UsageCorrectionResult


def _figures(row: dict[str, Any] | None) -> dict[str, str] | None:
    if row is None:
        return None
    return {
        "source": row["source"],
        "upload_mb": str(row["upload_mb"]),
        "download_mb": str(row["download_mb"]),
        "total_mb": str(row["total_mb"]),
    }


def outside_active_life(service: dict[str, Any], day: date) -> str | None:
    """Why `day` is not a day of the service's active life (activation date to cancellation effective date,
    both counted, as the billing run counts them), or None when it is: usage exists only while a line does."""
    activation, end = service["activation_date"], service["cancellation_effective_date"]
    if activation is None:
        return "usage_date: outside the service's active life (it has not been activated)."
    if day < activation:
        return f"usage_date: outside the service's active life (activated on {activation.isoformat()})."
    if end is not None and day > end:
        return f"usage_date: outside the service's active life (ended on {end.isoformat()})."
    return None


def correct_day(
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    request: UsageCorrectionRequest,
    request_id: str,
) -> UsageCorrectionResult:
    admin.require("super_admin", "billing_admin")
    if request.usage_date > sast_today():
        raise ValidationFailed("usage_date: must not be in the future.", field="usage_date")
    # The service's row lock serialises two corrections of one service (and orders them in the audit log).
    service = admin_services.lock_service(conn, service_id)
    if service is None:
        raise NotFound("No such service.")
    refused = outside_active_life(service, request.usage_date)
    if refused is not None:
        raise ValidationFailed(refused, field="usage_date")
    previous_manual = usage.manual_row(conn, service_id, request.usage_date)
    row = usage.upsert_manual(
        conn,
        service_id,
        service["customer_id"],
        request.usage_date,
        Decimal(request.upload_mb),
        Decimal(request.download_mb),
    )
    audit_id = service_actions.insert(
        conn,
        service_id=service_id,
        customer_id=service["customer_id"],
        action="usage_correction",
        previous_status=service["status"],
        new_status=service["status"],
        reason=request.reason,
        notes=None,
        actor_type="admin",
        actor_admin_id=admin.admin_id,
        request_id=request_id,
        previous_data=_figures(previous_manual),
        new_data=_figures(row),
        details={"usage_date": request.usage_date.isoformat()},
    )
    alerts = queue_cap_alerts(conn, [service_id])
    return UsageCorrectionResult(
        service_id=service_id,
        usage_date=row["usage_date"],
        upload_mb=row["upload_mb"],
        download_mb=row["download_mb"],
        total_mb=row["total_mb"],
        source=row["source"],
        audit_log_id=audit_id,
        cap_alerts_queued=alerts,
    )
