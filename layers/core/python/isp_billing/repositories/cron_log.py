"""SQL for cron_execution_log."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def close_abandoned_runs(conn: Connection, job_name: str) -> int:
    """Runs left `running` by a process that died: whoever holds the job lock now knows they are over."""
    cursor = conn.execute(
        """
        update cron_execution_log
           set status = 'failed', execution_end = now(),
               error_message = 'abandoned: the process running it stopped before finishing'
         where job_name = %s and status = 'running' and parent_id is null
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
) -> UUID:
    row = conn.execute(
        """
        insert into cron_execution_log (job_name, trigger, triggered_by, run_date, execution_start, status,
                                        details)
        values (%s, %s, %s, %s, now(), 'running', %s)
        returning id
        """,
        (job_name, trigger, triggered_by, run_date, json.dumps(details)),
    ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


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
        """
        update cron_execution_log
           set status = %s, execution_end = now(), records_processed = %s, records_failed = %s,
               records_skipped = %s, details = details || %s::jsonb, error_message = %s
         where id = %s
        returning id, job_name, trigger, run_date, status, records_processed, records_failed,
                  records_skipped, duration_seconds, details, error_message
        """,
        (status, processed, failed, skipped, json.dumps(details, default=str), error_message, run_id),
    ).fetchone()
    assert row is not None
    return row
