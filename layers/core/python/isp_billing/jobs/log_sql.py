"""SQL for cron_execution_log: runs, their leases, their outcome."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

RUN_COLUMNS = """id, job_name, trigger, run_date, status, records_processed, records_failed, records_skipped,
                 duration_seconds, details, error_message, lease_expires_at"""


def lock_job(conn: Connection, job_name: str) -> None:
    """Serialise run starts of one job for this transaction only (released at commit: pooler-safe)."""
    conn.execute("select pg_advisory_xact_lock(hashtextextended('isp_billing.job:' || %s, 0))", (job_name,))


def close_expired_runs(conn: Connection, job_name: str) -> int:
    """Close the job's `running` row whose lease has passed: its process died (or stopped renewing).

    A row without a lease was written before leases existed: its runner is gone too.
    """
    cursor = conn.execute(
        """
        update cron_execution_log
           set status = 'failed', execution_end = greatest(now(), execution_start),
               error_message = 'abandoned: its lease expired at ' || coalesce(lease_expires_at::text, 'start')
                               || ' without the run finishing (the process running it stopped)'
         where job_name = %s and status = 'running' and parent_id is null
           and (lease_expires_at is null or lease_expires_at <= now())
        """,
        (job_name,),
    )
    return cursor.rowcount


def start_run(
    conn: Connection,
    job_name: str,
    trigger: str,
    triggered_by: UUID | None,
    run_date: date,
    details: dict[str, Any],
    lease_seconds: int,
) -> UUID | None:
    """The new running row's id, or None when a live run of the job holds the one running slot."""
    row = conn.execute(
        """
        insert into cron_execution_log (job_name, trigger, triggered_by, run_date, execution_start, status,
                                        details, heartbeat_at, lease_expires_at)
        values (%s, %s, %s, %s, now(), 'running', %s, now(), now() + make_interval(secs => %s))
        on conflict (job_name) where status = 'running' and parent_id is null do nothing
        returning id
        """,
        (job_name, trigger, triggered_by, run_date, json.dumps(details), lease_seconds),
    ).fetchone()
    return None if row is None else UUID(str(row["id"]))


def renew_lease(conn: Connection, run_id: UUID, lease_seconds: int) -> bool:
    """Push the lease of a still-running run forward; False when the run is no longer running."""
    cursor = conn.execute(
        """
        update cron_execution_log
           set heartbeat_at = now(),
               lease_expires_at = greatest(lease_expires_at, now() + make_interval(secs => %s))
         where id = %s and status = 'running'
        """,
        (lease_seconds, run_id),
    )
    return cursor.rowcount == 1


def find_run(conn: Connection, run_id: UUID, *, for_update: bool = False) -> dict[str, Any] | None:
    lock = " for update" if for_update else ""
    return conn.execute(
        f"select {RUN_COLUMNS} from cron_execution_log where id = %s{lock}",
        (run_id,),
    ).fetchone()


def merge_details(conn: Connection, run_id: UUID, details: dict[str, Any]) -> dict[str, Any]:
    row = conn.execute(
        f"""
        update cron_execution_log set details = details || %s::jsonb where id = %s
        returning {RUN_COLUMNS}
        """,
        (json.dumps(details, default=str), run_id),
    ).fetchone()
    assert row is not None
    return row


def finish_run(
    conn: Connection,
    run_id: UUID,
    status: str,
    processed: int,
    failed: int,
    skipped: int,
    details: dict[str, Any],
    error_message: str | None,
) -> dict[str, Any]:
    row = conn.execute(
        f"""
        update cron_execution_log
           set status = %s, execution_end = greatest(now(), execution_start), records_processed = %s,
               records_failed = %s, records_skipped = %s, details = details || %s::jsonb, error_message = %s,
               lease_expires_at = null
         where id = %s
        returning {RUN_COLUMNS}
        """,
        (status, processed, failed, skipped, json.dumps(details, default=str), error_message, run_id),
    ).fetchone()
    assert row is not None
    return row
