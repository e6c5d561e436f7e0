"""Reading cron_execution_log (and the fan-out's cron_job_chunks) for admins: runs newest first with a
parent's chunks, and each job's last run and last success."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from isp_billing.db import Connection

_RUN = """
    r.id, r.job_name, r.trigger, r.triggered_by, a.full_name as triggered_by_name, r.run_date,
    r.execution_start, r.execution_end, r.duration_seconds, r.status, r.records_processed,
    r.records_failed, r.records_skipped, r.error_message, r.details, r.parent_id
"""


def list_runs(
    conn: Connection,
    *,
    job_name: str | None,
    status: str | None,
    since: date | None,
    until: date | None,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> list[dict[str, Any]]:
    """Top-level runs newest first (`limit + 1`), each with its chunks' counts by status."""
    return conn.execute(
        f"""
        select {_RUN},
               coalesce(chunks.summary, '{{}}'::jsonb) as chunks
          from cron_execution_log r
          left join admin_users a on a.id = r.triggered_by
          left join lateral (
            select jsonb_object_agg(status, n) as summary
              from (select status, count(*) as n from cron_job_chunks c
                     where c.parent_run_id = r.id group by status) s
          ) chunks on true
         where r.parent_id is null
           and (%(job)s::text is null or r.job_name = %(job)s)
           and (%(status)s::text is null or r.status = %(status)s)
           and (%(since)s::date is null
                or r.execution_start >= (%(since)s::date::timestamp at time zone 'Africa/Johannesburg'))
           and (%(until)s::date is null
                or r.execution_start < ((%(until)s::date + 1)::timestamp at time zone 'Africa/Johannesburg'))
           and (%(after_at)s::timestamptz is null
                or (r.execution_start, r.id) < (%(after_at)s, %(after_id)s::uuid))
         order by r.execution_start desc, r.id desc
         limit %(limit)s
        """,
        {
            "job": job_name,
            "status": status,
            "since": since,
            "until": until,
            "after_at": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit + 1,
        },
    ).fetchall()


def chunks_of(conn: Connection, parent_ids: list[UUID]) -> list[dict[str, Any]]:
    """The fan-out chunks (cron_job_chunks) of these parent runs, in order."""
    return conn.execute(
        """
        select parent_run_id, chunk_no, status, jsonb_array_length(items) as items, records_processed,
               records_failed, records_skipped, attempts, error_message, finished_at
          from cron_job_chunks where parent_run_id = any(%s) order by parent_run_id, chunk_no
        """,
        (parent_ids,),
    ).fetchall()


def last_runs(conn: Connection) -> list[dict[str, Any]]:
    """Per job: the last top-level run (any status) and the last successful one (completed or partial)."""
    return conn.execute(
        """
        select j.job_name,
               last_run.status as last_status, last_run.execution_start as last_run_at,
               last_ok.execution_start as last_success_at
          from (select distinct job_name from cron_execution_log where parent_id is null) j
          left join lateral (
            select status, execution_start from cron_execution_log
             where job_name = j.job_name and parent_id is null
             order by execution_start desc limit 1) last_run on true
          left join lateral (
            select execution_start from cron_execution_log
             where job_name = j.job_name and parent_id is null and status in ('completed', 'partial')
             order by execution_start desc limit 1) last_ok on true
        """
    ).fetchall()
