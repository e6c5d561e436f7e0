"""SQL for customer_services (and the package details shown with them)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.db import Connection

_CUSTOMER_VIEW = """
    select s.id, s.package_id, s.package_name, s.service_type, s.status, s.monthly_price,
           p.speed_down_mbps, p.speed_up_mbps, p.data_cap_gb,
           s.activation_date, s.suspension_date, s.cancellation_effective_date
      from customer_services s
      left join service_packages p on p.id = s.package_id
"""


def list_for_customer(conn: Connection, customer_id: UUID) -> list[dict[str, Any]]:
    # The explicit customer filter and RLS are two walls: either alone keeps other customers' rows out.
    return conn.execute(
        _CUSTOMER_VIEW + " where s.customer_id = %s order by s.created_at, s.id", (customer_id,)
    ).fetchall()


def get_for_customer(conn: Connection, customer_id: UUID, service_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        _CUSTOMER_VIEW + " where s.customer_id = %s and s.id = %s", (customer_id, service_id)
    ).fetchone()
