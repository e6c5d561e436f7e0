"""SQL of the send-notifications job: claim due rows, then record each send's outcome.

Claiming is one statement for a whole batch: FOR UPDATE SKIP LOCKED picks due rows no other sender is
claiming, and the same statement moves them to `sending` with a lease (`next_attempt_at` = lease expiry)
and counts the claim (`claims`), not an attempt. An attempt is counted by the outcome written after the
transport was called (`attempts + 1`). A sender that dies leaves its rows `sending`; once the lease passes
they are due again with their attempts untouched, and `claims - attempts` (claims that recorded no attempt)
is bounded apart, so a message that stops its sender every time ends `failed` instead of looping. Every
outcome update names the claim it closes (`claims = %s`), so a sender whose lease was taken over cannot
overwrite the newer claim's result.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.db import Connection


def give_up_abandoned(conn: Connection, max_unfinished: int) -> int:
    """`sending` rows whose lease passed after `max_unfinished` claims that never recorded an attempt (each
    sender stopped before the transport answered): failed, not claimed again."""
    cursor = conn.execute(
        """
        update notifications
           set status = 'failed', next_attempt_at = now(),
               last_error = left(coalesce(last_error || '; ', '') ||
                                 'its sender stopped ' || (claims - attempts) || ' times before the send'
                                 || ' finished', 1000)
         where status = 'sending' and next_attempt_at <= now() and claims - attempts >= %s
        """,
        (max_unfinished,),
    )
    return cursor.rowcount


def claim_due(
    conn: Connection, limit: int, lease_seconds: int, max_attempts: int, max_unfinished: int
) -> list[dict[str, Any]]:
    """Up to `limit` due rows (pending and due, or sending with a lapsed lease), claimed for this sender."""
    return conn.execute(
        """
        with due as (
          select id from notifications
           where status in ('pending', 'sending') and next_attempt_at <= now() and attempts < %(max)s
             and claims - attempts < %(unfinished)s
           order by next_attempt_at, id
           limit %(limit)s
           for update skip locked
        )
        update notifications n
           set status = 'sending', claims = n.claims + 1,
               next_attempt_at = now() + make_interval(secs => %(lease)s)
          from due
         where n.id = due.id
        returning n.id, n.customer_id, n.kind, n.recipient, n.subject, n.template, n.data, n.attempts,
                  n.claims
        """,
        {"limit": limit, "lease": lease_seconds, "max": max_attempts, "unfinished": max_unfinished},
    ).fetchall()


def mark_sent(conn: Connection, notification_id: UUID, claim: int, message_id: str) -> bool:
    """The transport took it (an attempt)."""
    cursor = conn.execute(
        """
        update notifications
           set status = 'sent', sent_at = now(), provider_message_id = %s, last_error = null,
               attempts = attempts + 1
         where id = %s and status = 'sending' and claims = %s
        """,
        (message_id[:300], notification_id, claim),
    )
    return cursor.rowcount == 1


def mark_retry(
    conn: Connection, notification_id: UUID, claim: int, error: str, delay_seconds: int, attempted: bool
) -> bool:
    """Back to the queue after `delay_seconds`; an attempt only if the transport was called."""
    cursor = conn.execute(
        """
        update notifications
           set status = 'pending', last_error = left(%s, 1000),
               next_attempt_at = now() + make_interval(secs => %s),
               attempts = attempts + %s::int
         where id = %s and status = 'sending' and claims = %s
        """,
        (error, delay_seconds, int(attempted), notification_id, claim),
    )
    return cursor.rowcount == 1


def mark_failed(conn: Connection, notification_id: UUID, claim: int, error: str, attempted: bool) -> bool:
    cursor = conn.execute(
        """
        update notifications set status = 'failed', last_error = left(%s, 1000), attempts = attempts + %s::int
         where id = %s and status = 'sending' and claims = %s
        """,
        (error, int(attempted), notification_id, claim),
    )
    return cursor.rowcount == 1
