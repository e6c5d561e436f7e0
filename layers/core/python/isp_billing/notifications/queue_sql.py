"""SQL for the notifications outbox: queue in the caller's transaction; the send-notifications job delivers.

Queueing never sends. It is an INSERT in the same transaction as the event that causes it (an invoice
issued, a cap crossed, a debit failed), so the e-mail exists exactly when the event does; the unique
`dedupe_key` makes a re-run, a retry or a concurrent second writer queue nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from isp_billing.db import Connection


@dataclass(frozen=True)
class NotificationRequest:
    """One e-mail to queue. `recipient` None: the customer's billing e-mail at queue time."""

    customer_id: UUID | None
    kind: str
    subject: str
    template: str
    dedupe_key: str
    data: dict[str, Any] = field(default_factory=dict)
    recipient: str | None = None


def recipient_sql(customer_id: str) -> str:
    """The recipient rule, as an SQL expression for the customer whose id is the SQL `customer_id`: their
    billing e-mail (customer_billing.invoice_email), else their own address, read at queue time. Every
    queueing statement uses it, so the rule is written once."""
    return (
        f"coalesce((select b.invoice_email from customer_billing b where b.customer_id = {customer_id}),"
        f" (select c.email from customers c where c.id = {customer_id}))"
    )


def queue(conn: Connection, request: NotificationRequest) -> bool:
    """Queue one notification; False when its dedupe key was queued before (nothing written)."""
    return queue_many(conn, [request]) == 1


def queue_many(conn: Connection, requests: Sequence[NotificationRequest]) -> int:
    """Queue many in one statement (set-based, for jobs); returns how many were new."""
    if not requests:
        return 0
    rows = conn.execute(
        f"""
        insert into notifications (customer_id, kind, recipient, subject, template, data, dedupe_key)
        select r.customer_id, r.kind,
               coalesce(r.recipient, {recipient_sql("r.customer_id")}),
               r.subject, r.template, r.data, r.dedupe_key
          from unnest(%(customer_ids)s::uuid[], %(kinds)s::text[], %(recipients)s::text[],
                      %(subjects)s::text[], %(templates)s::text[], %(data)s::jsonb[], %(keys)s::text[])
               as r (customer_id, kind, recipient, subject, template, data, dedupe_key)
        on conflict (dedupe_key) do nothing
        returning id
        """,
        {
            "customer_ids": [r.customer_id for r in requests],
            "kinds": [r.kind for r in requests],
            "recipients": [r.recipient for r in requests],
            "subjects": [r.subject for r in requests],
            "templates": [r.template for r in requests],
            "data": [Jsonb(r.data) for r in requests],
            "keys": [r.dedupe_key for r in requests],
        },
    ).fetchall()
    return len(rows)
