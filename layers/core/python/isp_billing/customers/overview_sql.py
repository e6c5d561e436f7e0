"""SQL for the account's timeline: the latest entries of every audit trail that concerns one customer.

One round trip: each branch takes its own latest `limit` rows (each from an index on customer_id), and the
union keeps the latest `limit` of them. Summaries carry numbers, amounts and statuses, never personal data.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing.db import Connection

_ACTOR = "case {log}.actor_type when 'admin' then coalesce(a.full_name, 'admin') else {log}.actor_type end"

_TIMELINE = f"""
(select l.created_at as at, 'account' as source, l.action, l.customer_id as subject_id,
        'Account ' || replace(l.action, '_', ' ')
          || coalesce(': ' || nullif(array_to_string(l.changed_fields, ', '), ''), '') as summary,
        {_ACTOR.format(log="l")} as actor
   from customer_audit_log l
   left join admin_users a on a.id = l.actor_admin_id
  where l.customer_id = %(customer_id)s
  order by l.created_at desc, l.id desc
  limit %(limit)s)
union all
(select l.created_at, 'service', l.action, l.service_id,
        s.package_name || ': ' || replace(l.action, '_', ' ')
          || coalesce(' (' || l.previous_status || ' -> ' || l.new_status || ')', ''),
        {_ACTOR.format(log="l")}
   from service_action_log l
   join customer_services s on s.id = l.service_id
   left join admin_users a on a.id = l.actor_admin_id
  where l.customer_id = %(customer_id)s
  order by l.created_at desc, l.id desc
  limit %(limit)s)
union all
(select l.created_at, 'invoice', l.action, l.invoice_id,
        i.invoice_number || ': ' || replace(l.action, '_', ' ') || ' (' || l.previous_status || ' -> '
          || l.new_status || ')',
        {_ACTOR.format(log="l")}
   from invoice_action_log l
   join customer_invoices i on i.id = l.invoice_id
   left join admin_users a on a.id = l.actor_admin_id
  where l.customer_id = %(customer_id)s
  order by l.created_at desc, l.id desc
  limit %(limit)s)
union all
(select i.created_at, 'invoice', 'issued', i.id,
        i.invoice_number || ' issued (' || replace(i.kind, '_', ' ') || '): R' || i.total_amount::text,
        'system'
   from customer_invoices i
  where i.customer_id = %(customer_id)s and i.status not in ('draft', 'void')
  order by i.invoice_date desc, i.id desc
  limit %(limit)s)
union all
(select coalesce(t.processed_at, t.created_at), 'payment', t.kind, t.id,
        replace(t.kind, '_', ' ') || ' of R' || t.amount::text || ' by ' || t.provider || ': ' || t.status,
        'system'
   from payment_transactions t
  where t.customer_id = %(customer_id)s
  order by t.created_at desc, t.id desc
  limit %(limit)s)
union all
(select n.created_at, 'notification', n.kind, n.id,
        'E-mail ' || replace(n.kind, '_', ' ') || ': ' || n.status,
        'system'
   from notifications n
  where n.customer_id = %(customer_id)s
  order by n.created_at desc
  limit %(limit)s)
order by at desc
limit %(limit)s
"""


def timeline(conn: Connection, customer_id: UUID, limit: int) -> list[dict[str, Any]]:
    return conn.execute(_TIMELINE, {"customer_id": customer_id, "limit": limit}).fetchall()
