"""Customer search on 100,000 customers: GET /api/admin/customers next to a raw indexed query.

Figure: the function's Lambda handler called with a real API Gateway proxy event (JWT check, admin lookup,
the search query, models, JSON), median of warm calls, for each kind of search (a surname prefix, two name
words, an e-mail prefix, a phone prefix, an account-number prefix, a status). Floor: the same first page
read by one raw psycopg query on a plain connection in the same process. The two are sampled interleaved,
so load from other processes on the shared machine weighs on both alike. Each search's plan is printed and
must reach `customers` through an index (never a sequential scan of the 100,000 rows).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from isp_billing.clock import sast_today
from isp_billing.customers import search as customer_search
from isp_billing.customers import search_sql
from isp_billing_cli.events import LambdaContext, api_gateway_event
from isp_billing_cli.template import function_by_id
from tests.factories import admin_with_token

CUSTOMERS = 100_000
RUNS = 200
PATH = "/api/admin/customers"
SURNAMES = [
    "Mokoena", "Dlamini", "Nkosi", "Ndlovu", "Khumalo", "Zulu", "Naidoo", "Botha", "Van der Merwe", "Pillay",
    "Mahlangu", "Sithole", "Mabaso", "Radebe", "Smith", "Nel", "Pretorius", "Jacobs", "Mthembu", "Shabalala",
]  # fmt: skip
FIRST_NAMES = ["Thabo", "Naledi", "Sipho", "Lerato", "Ayanda", "Pieter", "Anele", "Zanele", "Johan", "Priya"]

# (query string of the route, the floor's WHERE, its parameters): the same first page either way.
SEARCHES = [
    ("name=mokoe", "lower(last_name) like %s or lower(first_name) like %s or lower(company_name) like %s",
     ("mokoe%", "mokoe%", "mokoe%")),
    ("name=thabo%20mokoena0", "(lower(first_name) like %s or lower(last_name) like %s or lower(company_name)"
     " like %s) and (lower(first_name) like %s or lower(last_name) like %s or lower(company_name) like %s)",
     ("thabo%", "thabo%", "thabo%", "mokoena0%", "mokoena0%", "mokoena0%")),
    ("email=customer4242", "lower(email) like %s", ("customer4242%",)),
    ("phone=082%20004%2042", "phone like %s", ("+2782004 42%".replace(" ", ""),)),
    ("account_number=CUS-PERF-0424", "account_number like %s", ("CUS-PERF-0424%",)),
    ("status=suspended", "id = any (array (select s.customer_id from customer_services s"
     " where s.status = 'suspended'))", ()),
]  # fmt: skip


def _arrange(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        """
        insert into customers (account_number, first_name, last_name, email, phone, created_at)
        select 'CUS-PERF-' || lpad(n::text, 6, '0'),
               (%(first)s::text[])[1 + n %% array_length(%(first)s::text[], 1)],
               (%(last)s::text[])[1 + (n / 10) %% array_length(%(last)s::text[], 1)] || (n %% 100)::text,
               'customer' || n || '@example.co.za',
               '+2782' || lpad(n::text, 7, '0'),
               now() - make_interval(mins => n)
          from generate_series(1, %(n)s) as n
        """,
        {"first": FIRST_NAMES, "last": SURNAMES, "n": CUSTOMERS},
    )
    # One customer in a hundred has a suspended service.
    package = conn.execute(
        "insert into service_packages (name, service_type, monthly_price, is_active)"
        " values ('Perf Fibre', 'fibre', 699, true) returning id"
    ).fetchone()
    assert package is not None
    conn.execute(
        """
        insert into customer_services (customer_id, package_id, package_name, service_type, status,
                                       monthly_price, activation_date)
        select id, %s, 'Perf Fibre', 'fibre',
               case when account_number like '%%00' then 'suspended' else 'active' end, 699, '2026-01-01'
          from customers where account_number like 'CUS-PERF-%%'
        """,
        (package["id"],),
    )
    conn.execute("analyze customers; analyze customer_services; analyze customer_invoices")


def _route_plan(conn: psycopg.Connection[Any], query: str) -> str:
    """EXPLAIN of the statement the route runs for this query string (built by the route's own code)."""
    args = dict(part.split("=", 1) for part in query.replace("%20", " ").replace("%2B", "+").split("&"))
    words = tuple(args.get("name", "").split())
    phone = args.get("phone")
    criteria = search_sql.Criteria(
        name_words=words,
        email_prefix=args.get("email"),
        phone_prefix=customer_search.phone_prefix(phone) if phone else None,
        account_prefix=args.get("account_number"),
        status=args.get("status"),
    )
    statement, params = search_sql.search_query(criteria, today=sast_today(), after=None, limit=50)
    rows = conn.execute(sql.SQL("explain ") + statement, params).fetchall()
    return "\n".join(row["QUERY PLAN"] for row in rows)


def _interleaved_ms(*calls):
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(RUNS):
        for call, timings in zip(calls, samples, strict=True):
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
    return [statistics.median(s) for s in samples]


@pytest.mark.perf
def test_customer_search_on_100000_customers_against_a_raw_indexed_query(conn, clean_db, admin_database_url):
    # Given 100,000 customers (a service each, one in a hundred suspended) and a support agent
    _arrange(conn)
    _, token = admin_with_token(conn, role="support")
    handler = function_by_id("AdminCustomersListFunction").load_handler()
    context = LambdaContext("AdminCustomersListFunction")
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
    floor_conn = psycopg.connect(
        admin_database_url, autocommit=True, prepare_threshold=None, row_factory=dict_row
    )
    lines = [f"\ncustomer search on {CUSTOMERS:,} customers (p50 of {RUNS} warm calls, interleaved):"]
    for query, where, params in SEARCHES:
        floor_sql = (
            "select id, account_number, customer_type, first_name, last_name, company_name, email, phone,"
            f" is_test, created_at from customers where {where} order by created_at desc, id desc limit 51"
        )
        expected = len(floor_conn.execute(floor_sql, params).fetchall())

        def via_handler(query=query, expected=expected):
            event = api_gateway_event("GET", PATH, PATH, None, headers, query)
            result = handler(event, context)
            assert result["statusCode"] == 200, result["body"]
            assert result["body"].count('"account_number"') == min(expected, 50)

        def raw_query(floor_sql=floor_sql, params=params):
            floor_conn.execute(floor_sql, params).fetchall()

        # When both are warm and sampled in turn
        for _ in range(10):
            via_handler()
            raw_query()
        handler_ms, floor_ms = _interleaved_ms(via_handler, raw_query)
        plan = _route_plan(floor_conn, query)
        # Then the search reads customers through an index, never a scan of every row
        assert "Seq Scan on customers" not in plan, plan
        assert expected >= 1, query
        print(f"\nplan of {query}:\n{plan}")
        lines.append(
            f"  {query:<28} handler p50 {handler_ms:7.2f} ms | raw indexed query p50 {floor_ms:6.2f} ms"
            f" | ratio {handler_ms / floor_ms:5.1f}x | {expected if expected <= 50 else '50+'} found"
        )
    floor_conn.close()
    print("\n".join(lines))
