"""Test data builders: insert the rows a test needs with sensible defaults, return their ids."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from isp_billing_cli.demo import mint_token


def _new_id() -> str:
    return str(uuid.uuid4())


def insert_package(
    conn: psycopg.Connection,
    *,
    name: str | None = None,
    price: str = "699.00",
    service_type: str = "fibre",
    **extra: Any,
) -> str:
    values = {
        "id": _new_id(),
        "name": name or f"Fibre {uuid.uuid4().hex[:6]}",
        "service_type": service_type,
        "speed_down_mbps": 50,
        "speed_up_mbps": 50,
        "monthly_price": price,
        "is_active": True,
        **extra,
    }
    return _insert(conn, "service_packages", values)


def ensure_auth_users(conn: psycopg.Connection, auth_user_ids: list[Any]) -> None:
    """Where auth.users exists (a Supabase-shaped database), give these ids their GoTrue rows, as signing up
    would: customers and admin_users reference auth.users there."""
    ids = [str(value) for value in auth_user_ids if value is not None]
    present = "select 1 from pg_class where oid = to_regclass('auth.users')"
    if ids and conn.execute(present).fetchone() is not None:
        conn.execute(
            "insert into auth.users (id, aud, role) select distinct id, 'authenticated', 'authenticated'"
            " from unnest(%s::uuid[]) as t(id) on conflict (id) do nothing",
            (ids,),
        )


def insert_customer(
    conn: psycopg.Connection, *, auth_user_id: str | None = None, email: str | None = None, **extra: Any
) -> str:
    tag = uuid.uuid4().hex[:8]
    values = {
        "id": _new_id(),
        "auth_user_id": auth_user_id or _new_id(),
        "first_name": "Test",
        "last_name": f"Customer {tag}",
        "email": email or f"customer-{tag}@example.co.za",
        "customer_type": "consumer",
        **extra,
    }
    ensure_auth_users(conn, [values["auth_user_id"]])
    return _insert(conn, "customers", values)


def insert_service(
    conn: psycopg.Connection,
    customer_id: str,
    *,
    package_id: str | None = None,
    status: str = "active",
    price: str = "699.00",
    **extra: Any,
) -> str:
    package_id = package_id or insert_package(conn, price=price)
    package = conn.execute(
        "select name, service_type from service_packages where id = %s", (package_id,)
    ).fetchone()
    assert package is not None
    name, kind = (package["name"], package["service_type"]) if isinstance(package, dict) else package
    values = {
        "id": _new_id(),
        "customer_id": customer_id,
        "package_id": package_id,
        "package_name": name,
        "service_type": kind,
        "status": status,
        "monthly_price": price,
        "activation_date": "2026-01-15" if status != "pending" else None,
        **extra,
    }
    return _insert(conn, "customer_services", values)


def insert_admin(
    conn: psycopg.Connection,
    *,
    role: str = "super_admin",
    is_active: bool = True,
    auth_user_id: str | None = None,
) -> tuple[str, str]:
    """Returns (admin id, auth user id)."""
    auth_id = auth_user_id or _new_id()
    tag = uuid.uuid4().hex[:8]
    ensure_auth_users(conn, [auth_id])
    admin_id = _insert(
        conn,
        "admin_users",
        {
            "id": _new_id(),
            "auth_user_id": auth_id,
            "role": role,
            "email": f"admin-{tag}@isp.example",
            "full_name": f"Admin {tag}",
            "is_active": is_active,
        },
    )
    return admin_id, auth_id


def customer_with_token(conn: psycopg.Connection, **extra: Any) -> tuple[str, str]:
    """Returns (customer id, bearer token for that customer)."""
    auth_id = _new_id()
    customer_id = insert_customer(conn, auth_user_id=auth_id, **extra)
    return customer_id, mint_token(auth_id)


def admin_with_token(conn: psycopg.Connection, role: str = "super_admin", **extra: Any) -> tuple[str, str]:
    """Returns (admin id, bearer token for that admin)."""
    admin_id, auth_id = insert_admin(conn, role=role, **extra)
    return admin_id, mint_token(auth_id)


def _insert(conn: psycopg.Connection, table: str, values: dict[str, Any]) -> str:
    from psycopg import sql

    query = sql.SQL("insert into {} ({}) values ({}) returning id").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    row = conn.execute(query, list(values.values())).fetchone()
    assert row is not None
    return str(row["id"] if isinstance(row, dict) else row[0])
