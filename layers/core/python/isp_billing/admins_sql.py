"""SQL for admin_users."""

from __future__ import annotations

from typing import Any

from isp_billing.db import Connection


def find_active_by_auth_user(conn: Connection, auth_user_id: str) -> dict[str, Any] | None:
    return conn.execute(
        "select id, auth_user_id, role, email, full_name from admin_users"
        " where auth_user_id = %s::uuid and is_active",
        (auth_user_id,),
    ).fetchone()
