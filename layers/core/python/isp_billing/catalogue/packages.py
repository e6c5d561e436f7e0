"""The catalogue's use cases: list, read, create and change packages; the customer's sellable list.

A package's price, data cap and out-of-bundle price are effective-dated history (`package_prices`): a change
is a new row from a day (today or later), never an overwrite, so the billing run and the overage rule can
read the terms in force on any day (`public.package_terms_on`). A package with subscribers is retired
(`is_sellable` false), never deleted: its subscribers keep it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.auth import AdminPrincipal, AdminRole
from isp_billing.catalogue import sql as catalogue_sql
from isp_billing.catalogue.models import (
    CatalogueEntry,
    Package,
    PackageCreate,
    PackageDetail,
    PackagePrice,
    PackageUpdate,
)
from isp_billing.clock import sast_now, sast_today
from isp_billing.db import Connection
from isp_billing.errors import Conflict, NotFound, ValidationFailed

CATALOGUE_ROLES: tuple[AdminRole, ...] = ("super_admin", "billing_admin")
_TERMS = ("monthly_price", "data_cap_gb", "out_of_bundle_price_per_gb")


def list_packages(conn: Connection, admin: AdminPrincipal, *, sellable_only: bool = False) -> list[Package]:
    """Any admin reads the catalogue."""
    rows = catalogue_sql.list_packages(conn, sast_today(), sellable_only=sellable_only)
    return [Package.model_validate(row) for row in rows]


def get_package(conn: Connection, admin: AdminPrincipal, package_id: UUID) -> PackageDetail:
    row = catalogue_sql.get_package(conn, package_id, sast_today())
    if row is None:
        raise NotFound("No such package.")
    prices = [PackagePrice.model_validate(p) for p in catalogue_sql.price_history(conn, package_id)]
    return PackageDetail.model_validate({**row, "prices": prices})


def customer_catalogue(conn: Connection) -> list[CatalogueEntry]:
    return [
        CatalogueEntry.model_validate(row) for row in catalogue_sql.sellable_catalogue(conn, sast_today())
    ]


def create_package(conn: Connection, admin: AdminPrincipal, request: PackageCreate) -> PackageDetail:
    admin.require(*CATALOGUE_ROLES)
    _check_money(request.model_dump())
    if request.is_sellable and catalogue_sql.sellable_name_taken(conn, request.name):
        raise Conflict("A sellable package of that name exists.", field="name")
    values = request.model_dump()
    values["retired_at"] = None if request.is_sellable else sast_now()
    # The first history row is written by the database (service_packages_first_price) from these columns,
    # in force from the day of created_at: the business's today.
    values["created_at"] = sast_now()
    package_id = catalogue_sql.insert_package(conn, values)
    return get_package(conn, admin, package_id)


def update_package(
    conn: Connection, admin: AdminPrincipal, package_id: UUID, request: PackageUpdate
) -> PackageDetail:
    admin.require(*CATALOGUE_ROLES)
    sent = request.model_fields_set
    if not sent:
        raise ValidationFailed("Nothing to change.", field="body")
    _check_money(request.model_dump(include=sent))
    today = sast_today()
    before = catalogue_sql.lock_package(conn, package_id)
    if before is None:
        raise NotFound("No such package.")
    changes: dict[str, Any] = {}
    for name in catalogue_sql.UPDATABLE & sent:
        value = getattr(request, name)
        if value is None and name in ("name", "is_sellable", "minimum_term_months"):
            raise ValidationFailed(f"{name}: must not be null", field=name)
        changes[name] = value
    if "is_sellable" in changes and changes["is_sellable"] != before["is_sellable"]:
        changes["retired_at"] = None if changes["is_sellable"] else sast_now()
    selling = changes.get("is_sellable", before["is_sellable"])
    name = changes.get("name", before["name"])
    if selling and catalogue_sql.sellable_name_taken(conn, name, package_id):
        raise Conflict("A sellable package of that name exists.", field="name")
    terms_sent = sent & set(_TERMS)
    if not terms_sent and ({"effective_from", "reason"} & sent):
        raise ValidationFailed(
            "effective_from and reason go with monthly_price, data_cap_gb or out_of_bundle_price_per_gb",
            field="effective_from",
        )
    catalogue_sql.update_package(conn, package_id, changes)
    if terms_sent:
        effective = request.effective_from or today
        if effective < today:
            raise ValidationFailed("effective_from: must be today or later", field="effective_from")
        current = catalogue_sql.terms_on(conn, package_id, effective)
        assert current is not None
        new = {key: (getattr(request, key) if key in terms_sent else current[key]) for key in _TERMS}
        if new["monthly_price"] is None:
            raise ValidationFailed("monthly_price: must not be null", field="monthly_price")
        if not catalogue_sql.insert_terms(
            conn,
            package_id,
            effective,
            new["monthly_price"],
            new["data_cap_gb"],
            new["out_of_bundle_price_per_gb"],
            request.reason,
            admin.audited_admin_id,
        ):
            raise Conflict(
                f"The package already has terms from {effective}; history is never overwritten.",
                field="effective_from",
            )
        catalogue_sql.apply_terms(conn, today)
    return get_package(conn, admin, package_id)


def _check_money(values: dict[str, Any]) -> None:
    for name in ("monthly_price", "out_of_bundle_price_per_gb", "installation_fee", "equipment_fee"):
        value = values.get(name)
        if value is not None and value < 0:
            raise ValidationFailed(f"{name}: must not be negative", field=name)
