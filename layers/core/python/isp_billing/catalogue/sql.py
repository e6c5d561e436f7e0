"""SQL of the catalogue: packages, their price history, the terms in force on a day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg import sql

from isp_billing.db import Connection

# A package with today's terms (from the history, not the cached columns) and what is to come.
_PACKAGE = """
    p.id, p.name, p.service_type, p.speed_down_mbps, p.speed_up_mbps,
    t.monthly_price, t.data_cap_gb, t.out_of_bundle_price_per_gb,
    p.interstellio_service_id, p.interstellio_profile_id, p.minimum_term_months, p.is_sellable,
    p.installation_fee, p.equipment_fee, p.retired_at, p.created_at, p.updated_at,
    (select count(*) from customer_services s where s.package_id = p.id and s.status <> 'cancelled')::int
      as subscribers,
    (select jsonb_build_object('effective_from', u.effective_from, 'monthly_price', u.monthly_price,
                               'data_cap_gb', u.data_cap_gb,
                               'out_of_bundle_price_per_gb', u.out_of_bundle_price_per_gb)
       from package_prices u where u.package_id = p.id and u.effective_from > %(today)s
      order by u.effective_from limit 1) as upcoming
"""

UPDATABLE = frozenset(
    {
        "name",
        "speed_down_mbps",
        "speed_up_mbps",
        "interstellio_service_id",
        "interstellio_profile_id",
        "minimum_term_months",
        "installation_fee",
        "equipment_fee",
        "is_sellable",
    }
)


def list_packages(conn: Connection, today: date, *, sellable_only: bool) -> list[dict[str, Any]]:
    return conn.execute(
        f"""
        select {_PACKAGE}
          from service_packages p
          cross join lateral package_terms_on(p.id, %(today)s) t
         where not %(sellable_only)s or p.is_sellable
         order by p.is_sellable desc, p.service_type, t.monthly_price, p.name, p.id
        """,
        {"today": today, "sellable_only": sellable_only},
    ).fetchall()


def sellable_catalogue(conn: Connection, today: date) -> list[dict[str, Any]]:
    """What a customer may order (run in the customer's RLS session: only active packages are visible)."""
    return conn.execute(
        """
        select p.id, p.name, p.service_type, p.speed_down_mbps, p.speed_up_mbps, p.monthly_price,
               p.data_cap_gb, p.out_of_bundle_price_per_gb, p.minimum_term_months, p.installation_fee,
               p.equipment_fee
          from service_packages p
         where p.is_sellable and p.is_active
         order by p.service_type, p.monthly_price, p.name, p.id
        """
    ).fetchall()


def get_package(conn: Connection, package_id: UUID, today: date) -> dict[str, Any] | None:
    return conn.execute(
        f"""
        select {_PACKAGE}
          from service_packages p
          cross join lateral package_terms_on(p.id, %(today)s) t
         where p.id = %(id)s
        """,
        {"today": today, "id": package_id},
    ).fetchone()


def lock_package(conn: Connection, package_id: UUID) -> dict[str, Any] | None:
    return conn.execute("select * from service_packages where id = %s for update", (package_id,)).fetchone()


def price_history(conn: Connection, package_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select id, effective_from, monthly_price, data_cap_gb, out_of_bundle_price_per_gb, reason, created_at
          from package_prices where package_id = %s
         order by effective_from desc
        """,
        (package_id,),
    ).fetchall()


def terms_on(conn: Connection, package_id: UUID, day: date) -> dict[str, Any] | None:
    return conn.execute(
        "select effective_from, monthly_price, data_cap_gb, out_of_bundle_price_per_gb"
        " from package_terms_on(%s, %s)",
        (package_id, day),
    ).fetchone()


def insert_package(conn: Connection, values: dict[str, Any]) -> UUID:
    columns = list(values)
    row = conn.execute(
        sql.SQL("insert into service_packages ({}) values ({}) returning id").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
        ),
        values,
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def update_package(conn: Connection, package_id: UUID, changes: dict[str, Any]) -> None:
    unknown = set(changes) - UPDATABLE - {"retired_at"}
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if not changes:
        return
    conn.execute(
        sql.SQL("update service_packages set {} where id = {}").format(
            sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(c), sql.Placeholder(c)) for c in changes
            ),
            sql.Placeholder("_id"),
        ),
        {**changes, "_id": package_id},
    )


def insert_terms(
    conn: Connection,
    package_id: UUID,
    effective_from: date,
    monthly_price: Decimal,
    data_cap_gb: int | None,
    out_of_bundle_price_per_gb: Decimal | None,
    reason: str | None,
    created_by: UUID | None,
) -> bool:
    """A new history row; False when the package already has terms from that day (nothing written)."""
    row = conn.execute(
        """
        insert into package_prices (package_id, effective_from, monthly_price, data_cap_gb,
                                    out_of_bundle_price_per_gb, reason, created_by)
        values (%s, %s, %s, %s, %s, %s, %s)
        on conflict on constraint package_prices_package_day_key do nothing
        returning id
        """,
        (
            package_id,
            effective_from,
            monthly_price,
            data_cap_gb,
            out_of_bundle_price_per_gb,
            reason,
            created_by,
        ),
    ).fetchone()
    return row is not None


def apply_terms(conn: Connection, day: date) -> int:
    """service_packages' price, cap and out-of-bundle columns become the terms in force on `day`."""
    row = conn.execute("select apply_package_terms(%s) as n", (day,)).fetchone()
    return int(row["n"]) if row else 0


def sellable_name_taken(conn: Connection, name: str, except_id: UUID | None = None) -> bool:
    return (
        conn.execute(
            "select 1 from service_packages where is_sellable and lower(btrim(name)) = lower(btrim(%s))"
            " and (%s::uuid is null or id <> %s::uuid)",
            (name, except_id, except_id),
        ).fetchone()
        is not None
    )


def subscribers(conn: Connection, package_id: UUID) -> list[dict[str, Any]]:
    """The package's services that are not cancelled, oldest first."""
    return conn.execute(
        """
        select id, customer_id, status, monthly_price, price_override_reason
          from customer_services
         where package_id = %s and status <> 'cancelled'
         order by created_at, id
        """,
        (package_id,),
    ).fetchall()
