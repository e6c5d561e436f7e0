"""Demo legacy website orders: an admin can run the order backfill from `serve --demo` and see each outcome.

Fixed ids: seeding twice changes nothing (and a backfilled order keeps its links).
"""

from __future__ import annotations

from typing import Any

LEGACY_ORDERS = [
    # id, order number, first, last, email, phone, package, price, status, activation date
    # Thandi again (email in capitals): matched by email, an active service
    (
        "50000000-0000-4000-8000-000000000001",
        "WEB-1001",
        "Thandi",
        "Mokoena",
        " THANDI@example.co.za",
        "082 123 4567",
        "Fibre 100/100",
        "899.00",
        "installation_completed",
        "2026-10-01",
    ),
    # Pieter by phone only, an order he cancelled: linked, no service
    (
        "50000000-0000-4000-8000-000000000002",
        "WEB-1002",
        "Pieter",
        "van Wyk",
        None,
        "+27 (0)83 123 4567",
        "Fibre 25/25",
        "499.00",
        "cancelled",
        None,
    ),
    # two new people: one installed, one still waiting for installation
    (
        "50000000-0000-4000-8000-000000000003",
        "WEB-1003",
        "Lerato",
        "Dlamini",
        "lerato@example.co.za",
        "0845550101",
        "LTE 100GB",
        "399.00",
        "active",
        "2026-09-15",
    ),
    (
        "50000000-0000-4000-8000-000000000004",
        "WEB-1004",
        "Johan",
        "Botha",
        "johan@example.co.za",
        "0725550102",
        "Fibre 50/50",
        "699.00",
        "installation_scheduled",
        None,
    ),
    # email says Ayesha, phone says Pieter: a person must decide (review queue)
    (
        "50000000-0000-4000-8000-000000000005",
        "WEB-1005",
        "Ayesha",
        "Patel",
        "ayesha@example.co.za",
        "083 123 4567",
        "Fibre 50/50",
        "699.00",
        "active",
        None,
    ),
    # garbage: a malformed email, a package that does not exist
    (
        "50000000-0000-4000-8000-000000000006",
        "WEB-1006",
        "Sipho",
        "Naidoo",
        "sipho at example.co.za",
        "0615550103",
        "Fibre 50/50",
        "699.00",
        "pending",
        None,
    ),
    (
        "50000000-0000-4000-8000-000000000007",
        "WEB-1007",
        "Naledi",
        "Khumalo",
        "naledi@example.co.za",
        "0635550104",
        "Fibre 1000/1000",
        "1299.00",
        "active",
        None,
    ),
]


def seed_legacy_orders(conn: Any) -> None:
    for order in LEGACY_ORDERS:
        conn.execute(
            "insert into consumer_orders (id, order_number, first_name, last_name, email, phone,"
            " package_name, package_price, status, activation_date)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " on conflict (id) do nothing",
            order,
        )
