"""SQL for cron_job_chunks: the chunks of a fanned-out run, and closing the parent when the last one ends."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def insert_chunks(conn: Connection, run_id: UUID, chunks: list[list[str]]) -> int:
    """One row per chunk (chunk_no from 0), in one statement."""
    cursor = conn.execute(
        """
        insert into cron_job_chunks (parent_run_id, chunk_no, items)
        select %s, chunk.ordinality - 1, chunk.value
          from jsonb_array_elements(%s::jsonb) with ordinality as chunk
        """,
        (run_id, json.dumps(chunks)),
    )
    return cursor.rowcount


def claim_chunk(conn: Connection, run_id: UUID, chunk_no: int) -> dict[str, Any] | None:
    """Count a delivery of a pending chunk and return it (with its parent's state); None when the chunk is
    already done or failed (a re-delivery: nothing to do). The row lock is held until this transaction
    ends, so two deliveries of one chunk cannot claim it at the same moment."""
    return conn.execute(
        """
        update cron_job_chunks c
           set attempts = c.attempts + 1
          from cron_execution_log p
         where c.parent_run_id = %s and c.chunk_no = %s and c.status = 'pending' and p.id = c.parent_run_id
        returning c.items, c.attempts, p.status as parent_status, p.job_name, p.trigger,
                  p.details -> 'options' as options
        """,
        (run_id, chunk_no),
    ).fetchone()


def finish_chunk(
    conn: Connection,
    run_id: UUID,
    chunk_no: int,
    status: str,
    counts: tuple[int, int, int] | None,
    details: dict[str, Any],
    error_message: str | None,
) -> bool:
    """Mark a pending chunk done or failed; a failed chunk without counts counts all its items as failed.
    False when it was no longer pending (another delivery finished it first)."""
    processed, failed, skipped = counts if counts is not None else (0, None, 0)
    cursor = conn.execute(
        """
        update cron_job_chunks
           set status = %s, records_processed = %s,
               records_failed = coalesce(%s, jsonb_array_length(items)), records_skipped = %s,
               details = %s::jsonb, error_message = %s, finished_at = now()
         where parent_run_id = %s and chunk_no = %s and status = 'pending'
        """,
        (
            status,
            processed,
            failed,
            skipped,
            json.dumps(details, default=str),
            error_message,
            run_id,
            chunk_no,
        ),
    )
    return cursor.rowcount == 1


def close_parent_if_last(conn: Connection, run_id: UUID) -> dict[str, Any] | None:
    """Close the parent run when none of its chunks is pending, with counts summed from its chunks.

    Call it after locking the parent row (`cron_log.find_run(..., for_update=True)`) in the same
    transaction that finished a chunk: two chunks finishing at once are serialised on that lock, and the
    second one's statements (read committed) see the first one's chunk as finished.
    """
    return conn.execute(
        """
        with totals as (
          select count(*) filter (where status = 'pending') as pending,
                 count(*) filter (where status = 'done') as done,
                 count(*) filter (where status = 'failed') as failed_chunks,
                 count(*) as chunks,
                 coalesce(sum(records_processed), 0) as processed,
                 coalesce(sum(records_failed), 0) as failed,
                 coalesce(sum(records_skipped), 0) as skipped
            from cron_job_chunks where parent_run_id = %(run_id)s
        )
        update cron_execution_log p
           set status = case when t.done = 0 then 'failed'
                             when t.failed_chunks > 0 or t.failed > 0 then 'partial'
                             else 'completed' end,
               execution_end = greatest(now(), p.execution_start),
               records_processed = t.processed, records_failed = t.failed, records_skipped = t.skipped,
               error_message = case when t.failed_chunks > 0
                                    then t.failed_chunks || ' of ' || t.chunks || ' chunks failed' end,
               details = p.details || jsonb_build_object(
                 'chunks', jsonb_build_object('total', t.chunks, 'done', t.done, 'failed', t.failed_chunks)),
               lease_expires_at = null
          from totals t
         where p.id = %(run_id)s and p.status = 'running' and t.pending = 0 and t.chunks > 0
        returning p.id, p.job_name, p.status, p.records_processed, p.records_failed, p.records_skipped
        """,
        {"run_id": run_id},
    ).fetchone()
