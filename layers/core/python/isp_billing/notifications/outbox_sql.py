"""SQL of the send-notifications job: claim due rows, then record each send's outcome.

Claiming is one statement for a whole batch: FOR UPDATE SKIP LOCKED picks due rows no other sender is
claiming, and the same statement moves them to `sending` with a lease (`next_attempt_at` = lease expiry)
and counts the attempt. A sender that dies leaves its rows `sending`; once the lease passes they are due
again. Every outcome update names the attempt it closes (`attempts = %s`), so a sender whose lease was
taken over cannot overwrite the newer claim's result.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def give_up_abandoned(conn: Connection, max_attempts: int) -> int:
    """`sending` rows whose lease passed after their last allowed attempt: failed, not sent again."""
    cursor = conn.execute(
        """
        update notifications
           set status = 'failed', next_attempt_at = now(),
               last_error = left(coalesce(last_error || '; ', '') ||
                                 'the last attempt did not finish (its sender stopped)', 1000)
         where status = 'sending' and next_attempt_at <= now() and attempts >= %s
        """,
        (max_attempts,),
    )
    return cursor.rowcount


def claim_due(conn: Connection, limit: int, lease_seconds: int, max_attempts: int) -> list[dict[str, Any]]:
    """Up to `limit` due rows (pending and due, or sending with a lapsed lease), claimed for this sender."""
    return conn.execute(
        """
        with due as (
          select id from notifications
           where status in ('pending', 'sending') and next_attempt_at <= now() and attempts < %(max)s
           order by next_attempt_at, id
           limit %(limit)s
           for update skip locked
        )
        update notifications n
           set status = 'sending', attempts = n.attempts + 1,
               next_attempt_at = now() + make_interval(secs => %(lease)s)
          from due
         where n.id = due.id
        returning n.id, n.customer_id, n.kind, n.recipient, n.subject, n.template, n.data, n.attempts
        """,
        {"limit": limit, "lease": lease_seconds, "max": max_attempts},
    ).fetchall()


def mark_sent(conn: Connection, notification_id: UUID, attempt: int, message_id: str) -> bool:
    cursor = conn.execute(
        """
        update notifications
           set status = 'sent', sent_at = now(), provider_message_id = %s, last_error = null
         where id = %s and status = 'sending' and attempts = %s
        """,
        (message_id[:300], notification_id, attempt),
    )
    return cursor.rowcount == 1


def mark_retry(conn: Connection, notification_id: UUID, attempt: int, error: str, delay_seconds: int) -> bool:
    cursor = conn.execute(
        """
        update notifications
           set status = 'pending', last_error = left(%s, 1000),
               next_attempt_at = now() + make_interval(secs => %s)
         where id = %s and status = 'sending' and attempts = %s
        """,
        (error, delay_seconds, notification_id, attempt),
    )
    return cursor.rowcount == 1


def mark_failed(conn: Connection, notification_id: UUID, attempt: int, error: str) -> bool:
    cursor = conn.execute(
        """
        update notifications set status = 'failed', last_error = left(%s, 1000)
         where id = %s and status = 'sending' and attempts = %s
        """,
        (error, notification_id, attempt),
    )
    return cursor.rowcount == 1
