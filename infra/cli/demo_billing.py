"""Demo customers for the billing run: billed on the demo's today (`serve --demo --today YYYY-MM-DD` moves
it), so a new user can call POST /api/cron/generate-invoices and then see invoices.

- Lerato: one R699 service active for months (a recurring line).
- Johan: a R899 service activated inside the previous period (a pro-rata line and the month) and a R1,500
  installation charge due today, with R100 of account credit.
- Ayanda: an LTE package capped at 100 GB with out-of-bundle data at R10.00/GB, and 120 GB used in the
  previous period (an `overage` line of R200.00 for the 20 GB above the cap, and the usage on the invoice).
Their billing day follows today on every seed (the rows keep their fixed ids)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from isp_billing.billing.periods import period_containing
from isp_billing.clock import sast_today

FIBRE_50 = ("10000000-0000-4000-8000-000000000002", "Fibre 50/50", "fibre", "699.00")
FIBRE_100 = ("10000000-0000-4000-8000-000000000003", "Fibre 100/100", "fibre", "899.00")
LTE_FLEXI = ("10000000-0000-4000-8000-000000000005", "LTE 100GB Flexi", "lte", "399.00")
LTE_FLEXI_CAP_GB, LTE_FLEXI_PRICE_PER_GB = 100, "10.00"
DEMO_USAGE_DAY_MB = "30720.000"  # 30 GB a day on four days of the previous period: 120 GB

BILLING_CUSTOMERS = [
    # id, auth user id, first, last, email, phone
    (
        "20000000-0000-4000-8000-000000000101",
        "a0000000-0000-4000-8000-000000000101",
        "Lerato",
        "Dlamini",
        "lerato@example.co.za",
        "+27851234567",
    ),
    (
        "20000000-0000-4000-8000-000000000102",
        "a0000000-0000-4000-8000-000000000102",
        "Johan",
        "Botha",
        "johan@example.co.za",
        "+27861234567",
    ),
    (
        "20000000-0000-4000-8000-000000000103",
        "a0000000-0000-4000-8000-000000000103",
        "Ayanda",
        "Mokoena",
        "ayanda@example.co.za",
        "+27871234567",
    ),
]
LERATO_SERVICE = "30000000-0000-4000-8000-000000000101"
JOHAN_SERVICE = "30000000-0000-4000-8000-000000000102"
AYANDA_SERVICE = "30000000-0000-4000-8000-000000000103"
JOHAN_CHARGE = "50000000-0000-4000-8000-000000000102"


def seed_billing_demo(conn: Any) -> None:
    """Idempotent: a second seed changes nothing but the billing day (it follows the clock's today)."""
    today = sast_today()
    previous_start, _ = period_containing(today - timedelta(days=1), today.day)
    conn.execute(
        "insert into service_packages (id, name, service_type, speed_down_mbps, speed_up_mbps, monthly_price,"
        " data_cap_gb, out_of_bundle_price_per_gb, is_active) values (%s, %s, %s, 20, 10, %s, %s, %s, true)"
        " on conflict (id) do nothing",
        (*LTE_FLEXI, LTE_FLEXI_CAP_GB, LTE_FLEXI_PRICE_PER_GB),
    )
    for customer_id, auth_id, first, last, email, phone in BILLING_CUSTOMERS:
        conn.execute(
            "insert into customers (id, auth_user_id, first_name, last_name, email, phone, customer_type)"
            " values (%s, %s, %s, %s, %s, %s, 'consumer') on conflict (id) do nothing",
            (customer_id, auth_id, first, last, email, phone),
        )
        conn.execute(
            "update customer_billing set billing_day = %s, debit_day = %s where customer_id = %s"
            " and not exists (select 1 from customer_invoices i where i.customer_id = %s)",
            (today.day, today.day, customer_id, customer_id),
        )
    services = [
        (LERATO_SERVICE, BILLING_CUSTOMERS[0][0], FIBRE_50, today - timedelta(days=200)),
        (JOHAN_SERVICE, BILLING_CUSTOMERS[1][0], FIBRE_100, previous_start + timedelta(days=10)),
        (AYANDA_SERVICE, BILLING_CUSTOMERS[2][0], LTE_FLEXI, today - timedelta(days=200)),
    ]
    for service_id, customer_id, package, activated in services:
        conn.execute(
            "insert into customer_services (id, customer_id, package_id, package_name, service_type, status,"
            " monthly_price, activation_date) values (%s, %s, %s, %s, %s, 'active', %s, %s)"
            " on conflict (id) do nothing",
            (service_id, customer_id, package[0], package[1], package[2], package[3], activated),
        )
    inserted = conn.execute(
        "insert into customer_charges (id, customer_id, kind, description, amount, due_date)"
        " values (%s, %s, 'installation', 'Fibre installation', 1500.00, %s) on conflict (id) do nothing"
        " returning id",
        (JOHAN_CHARGE, BILLING_CUSTOMERS[1][0], today),
    ).fetchone()
    if inserted:
        # R100 of credit on account (as an earlier overpayment would leave it): a ledger opening balance,
        # which the billing run applies after tax below the invoice's total.
        conn.execute(
            "insert into ledger_entries (customer_id, kind, amount, note)"
            " values (%s, 'opening_balance', 100.00, 'demo: credit on account')",
            (BILLING_CUSTOMERS[1][0],),
        )
        conn.execute(
            "select public.ledger_refresh('{}', array[%s::uuid], %s)", (BILLING_CUSTOMERS[1][0], today)
        )
    # Ayanda's usage over the previous period, as the sync would have written it (re-seeding rewrites it).
    for offset in range(1, 5):
        conn.execute(
            "insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source,"
            " synced_at) values (%s, %s, %s, 3072, %s::numeric - 3072, 'interstellio', now())"
            " on conflict (service_id, usage_date, source) do nothing",
            (
                BILLING_CUSTOMERS[2][0],
                AYANDA_SERVICE,
                previous_start + timedelta(days=offset),
                DEMO_USAGE_DAY_MB,
            ),
        )
