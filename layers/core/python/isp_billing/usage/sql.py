"""SQL for usage_history: the set-based write path (sync and push webhook), manual corrections, cap facts,
and the customer's reads (where a manual row exists for a day it replaces the synced one, never summed)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from isp_billing.db import Connection

SYNC_SOURCE = "interstellio"
MANUAL_SOURCE = "manual"

# Which row of a day counts, after `distinct on (..., u.usage_date)`: the manual one when there is one
# ('manual' sorts first by the flag), so a correction replaces the synced figures, never adds to them.
_MANUAL_FIRST = "(u.source = 'manual') desc"

# One row per service and day, for a customer's reads.
_EFFECTIVE_DAYS = f"""
    select distinct on (u.service_id, u.usage_date)
           u.service_id, u.usage_date, u.upload_mb, u.download_mb, u.total_mb, u.source
      from usage_history u
     where u.customer_id = %(customer_id)s
       and u.usage_date between %(first)s and %(last)s
       and (%(service_id)s::uuid is null or u.service_id = %(service_id)s)
     order by u.service_id, u.usage_date, {_MANUAL_FIRST}
"""


def effective_days_of(service_id: str, first: str, last: str) -> str:
    """The same rule for one service over [first, last], for a lateral join: the arguments are SQL
    expressions of the outer query (column names, never values)."""
    return f"""
        select distinct on (u.usage_date) u.usage_date, u.upload_mb, u.download_mb, u.total_mb
          from usage_history u
         where u.service_id = {service_id} and u.usage_date between {first} and {last}
         order by u.usage_date, {_MANUAL_FIRST}
    """


UsageRow = tuple[UUID, date, Decimal, Decimal]  # service id, SAST day, upload MB, download MB


# --- who is synced -----------------------------------------------------------------------------------


def syncable_service_ids(conn: Connection) -> list[str]:
    """Active or suspended services linked to an Interstellio subscriber, in a stable order."""
    rows = conn.execute(
        """
        select id::text as id from customer_services
         where status in ('active', 'suspended') and interstellio_subscriber_id is not null
         order by id
        """
    ).fetchall()
    return [row["id"] for row in rows]


def services_for_sync(conn: Connection, service_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The chunk's services still syncable now (a service cancelled since planning drops out)."""
    return conn.execute(
        """
        select id, customer_id, interstellio_subscriber_id as subscriber_id
          from customer_services
         where id = any(%s::uuid[]) and status in ('active', 'suspended')
           and interstellio_subscriber_id is not null
         order by id
        """,
        (list(service_ids),),
    ).fetchall()


def services_by_subscriber(conn: Connection, subscriber_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        """
        select id, customer_id, interstellio_subscriber_id as subscriber_id, status
          from customer_services where interstellio_subscriber_id = any(%s::text[])
        """,
        (sorted(set(subscriber_ids)),),
    ).fetchall()
    return {row["subscriber_id"]: row for row in rows}


# --- writes --------------------------------------------------------------------------------------------


def upsert_synced(conn: Connection, rows: Sequence[UsageRow]) -> int:
    """The sync's write: one COPY into a temporary table and one INSERT … ON CONFLICT DO UPDATE.

    Only `interstellio` rows are written (the unique key includes the source), so a manual row for a day is
    never touched. Returns how many rows were written; re-sending the same figures leaves them as they were
    (only `synced_at` moves). The caller sends each (service, day) once per call.
    """
    if not rows:
        return 0
    # Dropped at commit, not kept for the session: through a transaction pooler the next client on this
    # server connection must find no table of ours (the same rule as the backfill's work tables).
    conn.execute(
        """
        create temporary table if not exists usage_incoming (
          service_id uuid not null, usage_date date not null,
          upload_mb numeric(14,3) not null, download_mb numeric(14,3) not null
        ) on commit drop
        """
    )
    with conn.cursor().copy(
        "copy usage_incoming (service_id, usage_date, upload_mb, download_mb) from stdin"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    result = conn.execute(
        """
        insert into usage_history as u (customer_id, service_id, usage_date, upload_mb, download_mb, source,
                                        synced_at)
        select s.customer_id, i.service_id, i.usage_date, i.upload_mb, i.download_mb, 'interstellio', now()
          from usage_incoming i
          join customer_services s on s.id = i.service_id
        on conflict (service_id, usage_date, source) do update
           set upload_mb = excluded.upload_mb, download_mb = excluded.download_mb,
               synced_at = excluded.synced_at
        """
    )
    changed = result.rowcount
    conn.execute("truncate usage_incoming")  # a second write in the same transaction starts empty
    return changed


def manual_row(conn: Connection, service_id: UUID, usage_date: date) -> dict[str, Any] | None:
    return conn.execute(
        "select * from usage_history where service_id = %s and usage_date = %s and source = 'manual'",
        (service_id, usage_date),
    ).fetchone()


def upsert_manual(
    conn: Connection,
    service_id: UUID,
    customer_id: UUID,
    usage_date: date,
    upload_mb: Decimal,
    download_mb: Decimal,
) -> dict[str, Any]:
    row = conn.execute(
        """
        insert into usage_history (customer_id, service_id, usage_date, upload_mb, download_mb, source)
        values (%s, %s, %s, %s, %s, 'manual')
        on conflict (service_id, usage_date, source) do update
           set upload_mb = excluded.upload_mb, download_mb = excluded.download_mb
        returning *
        """,
        (customer_id, service_id, usage_date, upload_mb, download_mb),
    ).fetchone()
    assert row is not None
    return row


def record_ingest_problems(conn: Connection, problems: Sequence[dict[str, Any]]) -> int:
    """One open `usage_ingest` validation error per record and code (a re-run adds none)."""
    if not problems:
        return 0
    result = conn.execute(
        """
        insert into validation_errors (source, record_type, record_id, record_ref, error_code, message,
                                       suggested_fix, payload)
        select 'usage_ingest', v.record_type, v.record_id, v.record_ref, v.error_code, v.message,
               v.suggested_fix, v.payload
          from unnest(%s::text[], %s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[], %s::jsonb[])
               as v(record_type, record_id, record_ref, error_code, message, suggested_fix, payload)
        on conflict (source, record_ref, error_code) where resolved_at is null do nothing
        """,
        [
            [p.get("record_type", "subscriber") for p in problems],
            [p.get("record_id") for p in problems],
            [p["record_ref"] for p in problems],
            [p["error_code"] for p in problems],
            [p["message"] for p in problems],
            [p.get("suggested_fix") for p in problems],
            [Jsonb(p.get("payload") or {}) for p in problems],
        ],
    )
    return result.rowcount


def record_meter_event(
    conn: Connection,
    service: dict[str, Any],
    meter_month: str,
    monthly_combined_kb: Decimal,
    trigger_kb: Decimal | None,
) -> bool:
    """True when this service's meter month is new; a redelivery (same service and month) writes nothing."""
    row = conn.execute(
        """
        insert into usage_meter_events (service_id, customer_id, subscriber_id, meter_month,
                                        monthly_combined_kb, trigger_kb)
        values (%s, %s, %s, %s, %s, %s)
        on conflict (service_id, meter_month) do nothing
        returning id
        """,
        (
            service["id"],
            service["customer_id"],
            service["subscriber_id"],
            meter_month,
            monthly_combined_kb,
            trigger_kb,
        ),
    ).fetchone()
    return row is not None


# --- cap facts ----------------------------------------------------------------------------------------


def capped_services(conn: Connection, service_ids: Sequence[UUID]) -> list[dict[str, Any]]:
    """Of these services, the ones whose package has a data cap, with their customer's billing day."""
    return conn.execute(
        """
        select s.id as service_id, s.customer_id, s.package_name, p.data_cap_gb,
               coalesce(b.billing_day, 1) as billing_day
          from customer_services s
          join service_packages p on p.id = s.package_id
          left join customer_billing b on b.customer_id = s.customer_id
         where s.id = any(%s::uuid[]) and p.data_cap_gb is not null
        """,
        (list(service_ids),),
    ).fetchall()


def period_totals(conn: Connection, periods: Sequence[tuple[UUID, date, date]]) -> dict[UUID, Decimal]:
    """Total MB per service over its [start, end] period, manual rows replacing synced ones."""
    if not periods:
        return {}
    rows = conn.execute(
        f"""
        select p.service_id, coalesce(sum(d.total_mb), 0) as used_mb
          from unnest(%s::uuid[], %s::date[], %s::date[]) as p(service_id, first, last)
          left join lateral ({effective_days_of("p.service_id", "p.first", "p.last")}) d on true
         group by p.service_id
        """,
        [list(column) for column in zip(*periods, strict=True)],
    ).fetchall()
    return {row["service_id"]: row["used_mb"] for row in rows}


# --- the customer's reads ----------------------------------------------------------------------------


def customer_services_with_caps(conn: Connection, customer_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        """
        select s.id as service_id, s.package_name, s.status, p.data_cap_gb
          from customer_services s
          left join service_packages p on p.id = s.package_id
         where s.customer_id = %s and s.status <> 'pending'
         order by s.created_at, s.id
        """,
        (customer_id,),
    ).fetchall()


def effective_days(
    conn: Connection,
    customer_id: UUID,
    first: date,
    last: date,
    *,
    service_id: UUID | None = None,
    after: tuple[date, UUID] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Per service per day, oldest first (then by service); `after`/`limit` page it (limit + 1 rows)."""
    return conn.execute(
        f"""
        select * from ({_EFFECTIVE_DAYS}) d
         where (%(after_day)s::date is null
                or (d.usage_date, d.service_id) > (%(after_day)s, %(after_id)s::uuid))
         order by d.usage_date, d.service_id
         limit %(limit)s
        """,
        {
            "customer_id": customer_id,
            "first": first,
            "last": last,
            "service_id": service_id,
            "after_day": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": None if limit is None else limit + 1,
        },
    ).fetchall()


def effective_months(
    conn: Connection, customer_id: UUID, first: date, last: date, *, service_id: UUID | None = None
) -> list[dict[str, Any]]:
    """Calendar-month totals per service (of the effective days), oldest first."""
    return conn.execute(
        f"""
        select d.service_id, date_trunc('month', d.usage_date)::date as month,
               sum(d.upload_mb) as upload_mb, sum(d.download_mb) as download_mb, sum(d.total_mb) as total_mb,
               count(*) as days
          from ({_EFFECTIVE_DAYS}) d
         group by 1, 2
         order by 2, 1
        """,
        {"customer_id": customer_id, "first": first, "last": last, "service_id": service_id},
    ).fetchall()


def last_synced_at(conn: Connection, customer_id: UUID) -> Any:
    row = conn.execute(
        "select max(synced_at) as at from usage_history where customer_id = %s and source = 'interstellio'",
        (customer_id,),
    ).fetchone()
    return row["at"] if row else None
