"""Demo data for `serve --demo` / `seed --demo`, and locally signed tokens for it.

Fixed ids make seeding idempotent (`on conflict do nothing`) and tokens stable across restarts.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
import psycopg

from isp_billing.settings import LOCAL_DEV_JWT_SECRET

PACKAGES = [
    # id, name, type, down, up, price (VAT incl.), cap
    ("10000000-0000-4000-8000-000000000001", "Fibre 25/25", "fibre", 25, 25, "499.00", None),
    ("10000000-0000-4000-8000-000000000002", "Fibre 50/50", "fibre", 50, 50, "699.00", None),
    ("10000000-0000-4000-8000-000000000003", "Fibre 100/100", "fibre", 100, 100, "899.00", None),
    ("10000000-0000-4000-8000-000000000004", "LTE 100GB", "lte", 20, 10, "399.00", 100),
]

CUSTOMERS = [
    # id, auth user id, first, last, email, phone, billing day
    (
        "20000000-0000-4000-8000-000000000001",
        "a0000000-0000-4000-8000-000000000001",
        "Thandi",
        "Mokoena",
        "thandi@example.co.za",
        "+27821234567",
        1,
    ),
    (
        "20000000-0000-4000-8000-000000000002",
        "a0000000-0000-4000-8000-000000000002",
        "Pieter",
        "van Wyk",
        "pieter@example.co.za",
        "+27831234567",
        25,
    ),
    (
        "20000000-0000-4000-8000-000000000003",
        "a0000000-0000-4000-8000-000000000003",
        "Ayesha",
        "Patel",
        "ayesha@example.co.za",
        "+27841234567",
        5,
    ),
]

SERVICES = [
    # id, customer, package, status, activation date, subscriber id
    (
        "30000000-0000-4000-8000-000000000001",
        CUSTOMERS[0][0],
        PACKAGES[1],
        "active",
        "2026-03-01",
        "sub-thandi-1",
    ),
    (
        "30000000-0000-4000-8000-000000000002",
        CUSTOMERS[0][0],
        PACKAGES[3],
        "active",
        "2026-06-10",
        "sub-thandi-2",
    ),
    (
        "30000000-0000-4000-8000-000000000003",
        CUSTOMERS[1][0],
        PACKAGES[2],
        "active",
        "2025-11-25",
        "sub-pieter-1",
    ),
    ("30000000-0000-4000-8000-000000000004", CUSTOMERS[2][0], PACKAGES[0], "pending", None, None),
]

ADMINS = [
    # id, auth user id, email, name, role
    (
        "40000000-0000-4000-8000-000000000001",
        "b0000000-0000-4000-8000-000000000001",
        "super@isp.example",
        "Sipho Super",
        "super_admin",
    ),
    (
        "40000000-0000-4000-8000-000000000002",
        "b0000000-0000-4000-8000-000000000002",
        "billing@isp.example",
        "Bongi Billing",
        "billing_admin",
    ),
    (
        "40000000-0000-4000-8000-000000000003",
        "b0000000-0000-4000-8000-000000000003",
        "support@isp.example",
        "Sam Support",
        "support",
    ),
]

DEMO_CUSTOMER_AUTH_ID = CUSTOMERS[0][1]
DEMO_ADMIN_AUTH_ID = ADMINS[0][1]


def seed_demo_auth_users(conn: psycopg.Connection[Any]) -> int:
    """Where GoTrue's auth.users exists (Supabase), the demo's customers and admins get their auth users
    first: customers and admin_users reference it there. No password: the demo's tokens are minted locally.
    Returns how many were created (0 on plain PostgreSQL)."""
    if conn.execute("select 1 from pg_class where oid = to_regclass('auth.users')").fetchone() is None:
        return 0
    from isp_billing_cli.demo_billing import BILLING_CUSTOMERS

    people = [(auth_id, email) for _, auth_id, _, _, email, _, _ in CUSTOMERS]
    people += [(auth_id, email) for _, auth_id, _, _, email, _ in BILLING_CUSTOMERS]
    people += [(auth_id, email) for _, auth_id, email, _, _ in ADMINS]
    created = 0
    for auth_id, email in people:
        cursor = conn.execute(
            "insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data,"
            " raw_user_meta_data, created_at, updated_at)"
            " values ('00000000-0000-0000-0000-000000000000', %s, 'authenticated', 'authenticated', %s,"
            ' \'{"provider": "email", "providers": ["email"]}\', \'{}\', now(), now())'
            " on conflict do nothing",
            (auth_id, email),
        )
        created += cursor.rowcount
    return created


def seed_demo(url: str) -> None:
    """Load the demo data once; a second call changes nothing."""
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn, conn.transaction():
        seed_demo_auth_users(conn)
        for pkg_id, name, kind, down, up, price, cap in PACKAGES:
            conn.execute(
                "insert into service_packages (id, name, service_type, speed_down_mbps, speed_up_mbps,"
                " monthly_price, data_cap_gb, is_active) values (%s, %s, %s, %s, %s, %s, %s, true)"
                " on conflict (id) do nothing",
                (pkg_id, name, kind, down, up, price, cap),
            )
        for customer_id, auth_id, first, last, email, phone, billing_day in CUSTOMERS:
            inserted = conn.execute(
                "insert into customers (id, auth_user_id, first_name, last_name, email, phone, customer_type)"
                " values (%s, %s, %s, %s, %s, %s, 'consumer') on conflict (id) do nothing returning id",
                (customer_id, auth_id, first, last, email, phone),
            ).fetchone()
            if inserted:
                conn.execute(
                    "update customer_billing set billing_day = %s, debit_day = %s where customer_id = %s",
                    (billing_day, billing_day, customer_id),
                )
        for service_id, customer_id, pkg, status, activated, subscriber in SERVICES:
            conn.execute(
                "insert into customer_services (id, customer_id, package_id, package_name, service_type,"
                " status,"
                " monthly_price, activation_date, interstellio_subscriber_id)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (id) do nothing",
                (service_id, customer_id, pkg[0], pkg[1], pkg[2], status, pkg[5], activated, subscriber),
            )
        for admin_id, auth_id, email, name, role in ADMINS:
            conn.execute(
                "insert into admin_users (id, auth_user_id, email, full_name, role, is_active)"
                " values (%s, %s, %s, %s, %s, true) on conflict (id) do nothing",
                (admin_id, auth_id, email, name, role),
            )
        from isp_billing_cli.demo_billing import seed_billing_demo
        from isp_billing_cli.demo_orders import seed_legacy_orders

        seed_legacy_orders(conn)
        seed_billing_demo(conn)
        from isp_billing_cli.demo_collections import seed_collections_demo

        seed_collections_demo(conn)


def mint_token(
    auth_user_id: str,
    *,
    secret: str = LOCAL_DEV_JWT_SECRET,
    ttl_seconds: int = 30 * 24 * 3600,
    email: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A Supabase-shaped access token (HS256) for local use and tests."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": auth_user_id,
        "aud": "authenticated",
        "role": "authenticated",
        "iat": now,
        "exp": now + ttl_seconds,
        "email": email,
    }
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm="HS256")
