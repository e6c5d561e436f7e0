"""The billing run's facts for a chunk of customers and one billing date: a fixed handful of statements
whatever the chunk's size, turned into `CustomerFacts` for the rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from isp_billing.billing import run_sql as sql
from isp_billing.billing.facts_models import (
    AssessedUsageFacts,
    BilledLineFacts,
    ChargeFacts,
    CustomerFacts,
    PriceChangeFacts,
    ServiceFacts,
    ServiceUsageFacts,
    SuspensionFacts,
    UsagePeriodFacts,
)
from isp_billing.billing.periods import period_containing
from isp_billing.db import Connection

ZERO = Decimal("0.00")


def load(
    conn: Connection, billing_date: date, customer_ids: list[UUID], *, lock: bool
) -> tuple[list[CustomerFacts], set[UUID]]:
    """Facts of the chunk's customers still to bill for the period starting `billing_date`, and the ids
    already billed for it (skipped). With `lock`, the customers' billing rows stay locked until commit."""
    chunk = sql.uuid_array(customer_ids)
    customer_rows = sql.customers(conn, chunk, lock)
    billed = sql.already_billed(conn, chunk, billing_date)
    todo = [row for row in customer_rows if row["customer_id"] not in billed]
    if not todo:
        return [], billed
    ids = chunk if len(todo) == len(customer_ids) else sql.uuid_array(row["customer_id"] for row in todo)
    billing_days = {row["customer_id"]: row["billing_day"] for row in todo}
    recorded_periods = {row["customer_id"]: row for row in sql.recorded_periods(conn, ids, billing_date)}
    previous_of = {
        customer: _previous_period(billing_date, billing_days[customer], recorded_periods.get(customer))
        for customer in billing_days
        if _valid_day(billing_days[customer])
    }
    service_rows = sql.services(conn, ids, billing_date)
    recorded = {row["service_id"]: row["recorded_on"] for row in sql.activations(conn, ids, billing_date)}
    # One lookup for the charge keys a service can get on this invoice: the previous period's (its line
    # is the "previous line" the credits and price differences need), this period's (already invoiced:
    # never again) and, for a backdated activation, each earlier period's it reaches. The rules' other keys
    # (credits, price changes, charges) are looked up by `existing_keys`.
    previous_keys: dict[UUID, str] = {}
    current_keys: dict[str, UUID] = {}
    reach = billing_date  # how far back the suspensions and price changes are needed
    backdated: set[UUID] = set()
    for row in service_rows:
        billing_day = billing_days[row["customer_id"]]
        if _valid_day(billing_day):
            previous = previous_of[row["customer_id"]][0]
            previous_keys[row["id"]] = f"charge:{row['id']}:{previous}"
            current_keys[f"charge:{row['id']}:{billing_date}"] = row["customer_id"]
            activation, recorded_on = row["activation_date"], recorded.get(row["id"])
            if activation is not None and recorded_on is not None and activation < previous <= recorded_on:
                reach = min(reach, activation)
                backdated.add(row["customer_id"])
                start = period_containing(activation, billing_day)[0]
                while start < previous:
                    current_keys[f"charge:{row['id']}:{start}"] = row["customer_id"]
                    start = period_containing(start, billing_day)[1] + timedelta(days=1)
    since = min(billing_date, reach + sql.LOOKBACK)
    periods_of: dict[UUID, list[tuple[date, date, int]]] = defaultdict(list)
    if backdated:  # a backdated activation is billed over the periods recorded since its date
        for row in sql.periods_since(conn, sorted(backdated), reach):
            periods_of[row["customer_id"]].append((row["period_start"], row["period_end"], row["days"]))
    suspensions: dict[UUID, list[SuspensionFacts]] = defaultdict(list)
    for row in sql.suspensions(conn, ids, since):
        suspensions[row["service_id"]].append(
            SuspensionFacts(row["id"], row["start_day"], row["end_day"], row["pauses_billing"])
        )
    changes: dict[UUID, list[PriceChangeFacts]] = defaultdict(list)
    for row in sql.price_changes(conn, ids, since):
        changes[row["service_id"]].append(
            PriceChangeFacts(row["id"], row["effective_date"], row["old_price"], row["new_price"])
        )
    charges: dict[UUID, list[ChargeFacts]] = defaultdict(list)
    for row in sql.pending_charges(conn, ids, billing_date):
        charges[row["customer_id"]].append(
            ChargeFacts(row["id"], row["kind"], row["description"], row["amount"], row["due_date"])
        )
    found = {row["line_key"]: row for row in sql.lines_by_key(conn, [*previous_keys.values(), *current_keys])}
    charged: dict[UUID, set[str]] = defaultdict(set)
    for key in found.keys() & current_keys.keys():
        charged[current_keys[key]].add(key)
    usage = _usage(conn, service_rows, previous_of)
    services: dict[UUID, list[ServiceFacts]] = defaultdict(list)
    for row in service_rows:
        line = found.get(previous_keys.get(row["id"], ""))
        services[row["customer_id"]].append(
            ServiceFacts(
                id=row["id"],
                name=row["package_name"],
                status=row["status"],
                monthly_price=row["monthly_price"],
                activation_date=row["activation_date"],
                cancellation_effective_date=row["cancellation_effective_date"],
                suspensions=tuple(suspensions.get(row["id"], ())),
                price_changes=tuple(changes.get(row["id"], ())),
                previous_line=_billed_line(line) if line else None,
                usage=usage.get(row["id"]),
                activation_recorded_on=recorded.get(row["id"]),
            )
        )
    facts = [
        CustomerFacts(
            customer_id=row["customer_id"],
            billing_day=row["billing_day"],
            payment_terms_days=row["payment_terms_days"] if row["payment_terms_days"] is not None else 7,
            credit_balance=row["credit_balance"] if row["credit_balance"] is not None else ZERO,
            services=tuple(services.get(row["customer_id"], ())),
            charges=tuple(charges.get(row["customer_id"], ())),
            given_keys=frozenset(charged.get(row["customer_id"], ())),
            previous_period=_recorded(recorded_periods.get(row["customer_id"])),
            period_end=_bridging_end(recorded_periods.get(row["customer_id"])),
            previous_period_days=_recorded_days(recorded_periods.get(row["customer_id"])),
            recorded_periods=tuple(periods_of.get(row["customer_id"], ())),
        )
        for row in todo
    ]
    return facts, billed


def _previous_period(
    billing_date: date, billing_day: int, recorded: dict[str, Any] | None
) -> tuple[date, date]:
    """Q: the last recorded period when it ends the day before (the sequence goes on from it), else the
    billing day's period before the billing date (nothing recorded yet)."""
    if recorded is not None and recorded["q_end"] == billing_date - timedelta(days=1):
        return recorded["q_start"], recorded["q_end"]
    return period_containing(billing_date - timedelta(days=1), billing_day)


def _recorded(row: dict[str, Any] | None) -> tuple[date, date] | None:
    return None if row is None or row["q_start"] is None else (row["q_start"], row["q_end"])


def _recorded_days(row: dict[str, Any] | None) -> int | None:
    return None if row is None else row["q_days"]


def _bridging_end(recorded: dict[str, Any] | None) -> date | None:
    return None if recorded is None else recorded["p_end"]


def _usage(
    conn: Connection, service_rows: list[dict[str, Any]], previous_of: dict[UUID, tuple[date, date]]
) -> dict[UUID, ServiceUsageFacts]:
    """The previous period's usage of every service live in it that is capped or has usage (one statement
    for the chunk)."""
    periods = []
    for row in service_rows:
        if row["customer_id"] not in previous_of:
            continue
        q_start, q_end = previous_of[row["customer_id"]]
        activation, effective = row["activation_date"], row["cancellation_effective_date"]
        if activation is None or activation > q_end or (effective is not None and effective < q_start):
            continue
        periods.append(
            {"service_id": row["id"], "customer_id": row["customer_id"], "q_start": q_start, "q_end": q_end}
        )
    bounds = {period["service_id"]: period for period in periods}
    facts = {}
    for row in sql.service_usage(conn, periods):
        period = bounds[row["service_id"]]
        assessed = row["assessed"]
        facts[row["service_id"]] = ServiceUsageFacts(
            data_cap_gb=row["data_cap_gb"],
            price_per_gb=row["price_per_gb"],
            previous=UsagePeriodFacts(
                period["q_start"],
                period["q_end"],
                row["q_upload_mb"],
                row["q_download_mb"],
                row["q_total_mb"],
            ),
            before=None
            if assessed is None
            else AssessedUsageFacts(
                usage=UsagePeriodFacts(
                    row["u_start"], row["u_end"], row["u_upload_mb"], row["u_download_mb"], row["u_total_mb"]
                ),
                data_cap_gb=assessed.get("data_cap_gb"),
                price_per_gb=None
                if assessed.get("price_per_gb") is None
                else Decimal(assessed["price_per_gb"]),
                billed=row["billed"],
            ),
        )
    return facts


def existing_keys(conn: Connection, keys: list[str]) -> set[str]:
    """Which of these line keys are on an invoice already (no statement when there are none)."""
    return {row["line_key"] for row in sql.lines_by_key(conn, keys)} if keys else set()


def _valid_day(billing_day: Any) -> bool:
    return isinstance(billing_day, int) and 1 <= billing_day <= 31


def _billed_line(row: dict[str, Any]) -> BilledLineFacts:
    return BilledLineFacts(
        kind=row["kind"],
        start=row["period_start"],
        end=row["period_end"],
        monthly_price=Decimal(row["monthly_price"] or "0"),
        days_in_period=row["days_in_period"],
    )
