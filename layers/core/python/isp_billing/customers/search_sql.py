"""SQL for the admin's customer search: every condition is one an index answers (docs/adr/0131).

Text is matched by prefix on the lower-cased column (`text_pattern_ops` indexes); the pattern is built here,
never inside the query, so the planner sees a constant prefix. Newest first, keyset-paginated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from psycopg import sql

from isp_billing.db import Connection

UNPAID_STATUSES = ("issued", "partially_paid", "overdue")

_COLUMNS = sql.SQL(
    "c.id, c.account_number, c.customer_type, c.first_name, c.last_name, c.company_name, c.email, c.phone,"
    " c.is_test, c.created_at"
)
# Each status filter is answered by an index. A state most customers are in (an active service; money owed in
# the days after a billing run) is an EXISTS probed per customer while the newest-first index is walked, which
# stops after one page. A state few are in (suspended, overdue) is read from its own side first (the services
# in that status, the unpaid invoices past due: few rows, through their indexes), and only those customers are
# fetched and sorted; walking every customer to find the rare ones cost 25 ms on 100,000 (docs/adr/0131).
_UNPAID = "i.status in ('issued', 'partially_paid', 'overdue') and i.amount_due > 0"
_STATUS: dict[str, str] = {
    "active_service": "exists (select 1 from customer_services s where s.customer_id = c.id"
    " and s.status = 'active')",
    "owes_money": f"exists (select 1 from customer_invoices i where i.customer_id = c.id and {_UNPAID})",
    "suspended": "c.id = any (array (select s.customer_id from customer_services s"
    " where s.status = 'suspended'))",
    "overdue": "c.id = any (array (select i.customer_id from customer_invoices i"
    f" where {_UNPAID} and i.due_date < %(today)s))",
}


@dataclass(frozen=True)
class Criteria:
    name_words: tuple[str, ...] = ()
    email_prefix: str | None = None
    phone_prefix: str | None = None
    account_prefix: str | None = None
    status: str | None = None
    is_test: bool | None = None


def like_prefix(text: str) -> str:
    """`text%` with LIKE's own characters escaped, so a `_` or `%` typed in a search is just that."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(
    conn: Connection, criteria: Criteria, *, today: date, after: tuple[datetime, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    """`limit + 1` customers matching every given criterion, newest first, after the cursor key."""
    query, params = search_query(criteria, today=today, after=after, limit=limit)
    return conn.execute(query, params).fetchall()


def search_query(
    criteria: Criteria, *, today: date, after: tuple[datetime, UUID] | None, limit: int
) -> tuple[sql.Composed, dict[str, Any]]:
    """The search's statement and parameters (the benchmark explains it as the route runs it)."""
    conditions: list[sql.Composable] = []
    params: dict[str, Any] = {"limit": limit + 1, "today": today}
    for index, word in enumerate(criteria.name_words):
        key = f"word{index}"
        params[key] = like_prefix(word.lower())
        conditions.append(
            sql.SQL(
                "(lower(c.first_name) like {p} or lower(c.last_name) like {p}"
                " or lower(c.company_name) like {p})"
            ).format(p=sql.Placeholder(key))
        )
    if criteria.email_prefix is not None:
        params["email"] = like_prefix(criteria.email_prefix.lower())
        conditions.append(sql.SQL("lower(c.email) like %(email)s"))
    if criteria.phone_prefix is not None:
        params["phone"] = like_prefix(criteria.phone_prefix)
        conditions.append(sql.SQL("c.phone like %(phone)s"))
    if criteria.account_prefix is not None:
        params["account"] = like_prefix(criteria.account_prefix.upper())
        conditions.append(sql.SQL("c.account_number like %(account)s"))
    if criteria.status is not None:
        conditions.append(sql.SQL(_STATUS[criteria.status]))  # type: ignore[arg-type]
    if criteria.is_test is not None:
        params["is_test"] = criteria.is_test
        conditions.append(sql.SQL("c.is_test = %(is_test)s"))
    if after is not None:
        params["after_at"], params["after_id"] = after
        conditions.append(sql.SQL("(c.created_at, c.id) < (%(after_at)s, %(after_id)s)"))
    where = sql.SQL(" and ").join(conditions) if conditions else sql.SQL("true")
    query = sql.SQL(
        "select {columns} from customers c where {where}"
        " order by c.created_at desc, c.id desc limit %(limit)s"
    ).format(columns=_COLUMNS, where=where)
    return query, params
