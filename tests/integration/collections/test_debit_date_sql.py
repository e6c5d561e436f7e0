"""The SQL debit_date_on_or_after (the debit-order run's selection) against the Python rule, and that
PostgreSQL inlines it (20261202006200: a per-row function call cost the 100,000-collection run)."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg

from isp_billing.collections.action_dates import mandated_date_on_or_after


def test_the_sql_debit_date_matches_the_python_rule_for_every_day_and_debit_day(
    conn: psycopg.Connection,
) -> None:
    # Given every day of 2027-2028 (a leap February, 30- and 31-day months, a year end) and debit days 1-31
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(731)]

    # When PostgreSQL computes the first debit-day date on or after each day, as service_role
    with conn.transaction():
        conn.execute("set local role service_role")
        rows = conn.execute(
            "select d::date as day, k as debit_day, debit_date_on_or_after(d::date, k) as debit_date"
            " from unnest(%s::date[]) d, generate_series(1, 31) k",
            (days,),
        ).fetchall()

    # Then each answer is the Python rule's (mandated_date_on_or_after)
    assert len(rows) == len(days) * 31
    wrong = [
        row for row in rows if row["debit_date"] != mandated_date_on_or_after(row["day"], row["debit_day"])
    ]
    assert wrong == []


def test_the_sql_debit_date_keeps_nulls_and_is_inlined(conn: psycopg.Connection) -> None:
    # Given service_role, which may execute the function
    with conn.transaction():
        conn.execute("set local role service_role")
        # When it is called with a NULL day, and planned over a column
        nulls = conn.execute("select debit_date_on_or_after(null, 5) as d").fetchone()
        plan = "\n".join(
            next(iter(row.values()))
            for row in conn.execute(
                "explain verbose select debit_date_on_or_after(d, 5)"
                " from (values (date '2026-01-01'), (date '2026-01-31')) v(d)"
            ).fetchall()
        )

    # Then NULL gives NULL (not STRICT, so not folded before the EXECUTE check), and the plan holds the
    # expression, not a call of the function
    assert nulls is not None and nulls["d"] is None
    assert "debit_date_on_or_after" not in plan and "date_trunc" in plan
