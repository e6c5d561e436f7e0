"""Supabase's Data API: every table and function in `public`, every verb, as PostgREST would send them.

A customer's JWT (role `authenticated`, real claims) reads only its own customer-facing rows and columns and
writes nothing; no JWT (`anon`) reaches nothing. The statements are PostgREST's (tests/postgrest.py), run in a
transaction exactly as PostgREST runs them. The allow-list is tests/data_api_allowlist.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from tests.data_api_allowlist import CUSTOMER_FACING, VISIBLE_ROWS
from tests.data_api_world import World, build_world
from tests.postgrest import (
    DataApi,
    customer_claims,
    delete_statement,
    insert_statement,
    rpc_statement,
    select_statement,
    update_statement,
)


@pytest.fixture
def world(conn: psycopg.Connection) -> World:
    return build_world(conn)


@pytest.fixture
def api(clean_db: str, admin_database_url: str) -> Iterator[DataApi]:
    data_api = DataApi(admin_database_url)
    yield data_api
    data_api.close()


def _tables(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Every table in public with its columns (generated columns marked), from the catalog: nothing missed."""
    rows = conn.execute(
        "select c.relname as table_name, a.attname as column_name, a.attgenerated <> '' as generated"
        "  from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        "  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped"
        " where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')"
        " order by c.relname, a.attnum"
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for row in rows:
        tables.setdefault(row["table_name"], []).append(
            row["column_name"] + ("*" if row["generated"] else "")
        )
    return tables


def _plain(columns: list[str]) -> list[str]:
    return [name.rstrip("*") for name in columns]


def _a_row(conn: psycopg.Connection, table: str, customer_id: str) -> dict[str, Any] | None:
    """One of the customer's rows (or any row) as JSON, for PATCH bodies that change nothing if applied."""
    where = VISIBLE_ROWS.get(table, "true") % {"me": f"'{customer_id}'"}
    row = conn.execute(f"select to_jsonb(t) as row from public.{table} t where {where} limit 1").fetchone()
    return row["row"] if row else None


def test_anon_reaches_no_table_by_any_verb(conn, world, api):
    # Given every table in public, and a request without a JWT
    failures = []
    for table, columns in _tables(conn).items():
        # When it sends each verb (and a SELECT of each column)
        probes = {
            "select *": (select_statement(table), []),
            **{f"select {c}": (select_statement(table, [c]), []) for c in _plain(columns)},
            "insert": insert_statement(table, {_plain(columns)[0]: str(uuid.uuid4())}),
            "update": update_statement(table, {_plain(columns)[0]: None}),
            "delete": delete_statement(table),
        }
        for verb, (statement, params) in probes.items():
            answer = api.request(statement, params, claims=None, method="GET")
            # Then the database refuses it for lack of any grant
            if not answer.refused_by_privilege:
                failures.append(f"{table}: {verb}: {answer.sqlstate or 'allowed'} {answer.message}")
    assert failures == []


def test_a_customer_reads_exactly_the_customer_facing_columns(conn, world, api):
    # Given a signed-in customer's claims and every table and column in public
    claims = customer_claims(world.a.auth_user_id)
    failures = []
    for table, columns in _tables(conn).items():
        allowed = CUSTOMER_FACING.get(table, frozenset())
        # When the customer selects each column alone, and then select=*
        for column in _plain(columns):
            answer = api.request(select_statement(table, [column]), claims=claims)
            # Then a customer-facing column is readable and every other one is refused by privilege
            if column in allowed and not answer.ok:
                failures.append(f"{table}.{column}: refused ({answer.sqlstate}), but it is customer-facing")
            if column not in allowed and not answer.refused_by_privilege:
                failures.append(f"{table}.{column}: readable, but it is not customer-facing")
        star = api.request(select_statement(table), claims=claims)
        if star.ok != set(_plain(columns)).issubset(allowed):
            failures.append(f"{table}: select=* {'allowed' if star.ok else 'refused'}")
    assert failures == []


@pytest.mark.parametrize("who", ["a", "b"])
def test_a_customer_sees_only_their_own_customer_facing_rows(conn, world, api, who):
    me, other = (world.a, world.b) if who == "a" else (world.b, world.a)
    claims = customer_claims(me.auth_user_id)
    for table, where in VISIBLE_ROWS.items():
        # Given the rows this customer should see (decided by the superuser, from the rule)
        expected = {
            str(r["id"])
            for r in conn.execute(f"select id from public.{table} where {where}", {"me": me.customer_id})
        }
        assert expected, f"the world has no visible {table} row for {who}: the test would prove nothing"
        # When the customer selects every row's id with no filter at all
        answer = api.request(select_statement(table, ["id"]), claims=claims)
        # Then exactly those come back: none of the other customer's, no draft, void or hidden row
        assert answer.ok, f"{table}: {answer.message}"
        assert {str(r["id"]) for r in answer.rows} == expected, table
    # And the other customer's own rows are never among them
    assert other.customer_id not in {
        str(r["id"]) for r in api.request(select_statement("customers", ["id"]), claims=claims).rows
    }


@pytest.mark.parametrize("whose", ["own", "other"])
def test_a_customer_writes_nothing_on_any_table(conn, world, api, whose):
    # Given a signed-in customer, and in every table a row of theirs (or of the other customer)
    claims = customer_claims(world.a.auth_user_id)
    target = world.a.customer_id if whose == "own" else world.b.customer_id
    failures = []
    for table, columns in _tables(conn).items():
        row = _a_row(conn, table, target) or {_plain(columns)[0]: str(uuid.uuid4())}
        key = {"id": row["id"]} if "id" in row else None
        generated = {c.rstrip("*") for c in columns if c.endswith("*")}
        fresh = {k: v for k, v in row.items() if k not in generated} | (
            {"id": str(uuid.uuid4())} if "id" in row else {}
        )
        # When the customer POSTs a copy, PATCHes each column to its own value, and DELETEs the row
        probes = {"insert": insert_statement(table, fresh), "delete": delete_statement(table, key)}
        for column in columns:
            if not column.endswith("*"):  # generated columns cannot be set by anyone
                probes[f"update {column}"] = update_statement(table, {column: row.get(column)}, key)
        for verb, (statement, params) in probes.items():
            answer = api.request(statement, params, claims=claims, method="POST")
            # Then each is refused for lack of a grant, before any row is looked at
            if not answer.refused_by_privilege:
                failures.append(f"{table}: {verb}: {answer.sqlstate or 'allowed'} {answer.message}")
    assert failures == []


def test_no_function_in_public_is_an_rpc_for_anon_or_a_customer(conn, world, api):
    # Given every function in public with its argument types
    functions = conn.execute(
        "select p.proname as name,"
        " coalesce(array(select format_type(t, null) from unnest(p.proargtypes) t), '{}') as argument_types"
        " from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'"
        " order by 1"
    ).fetchall()
    assert functions
    failures = []
    for function in functions:
        statement = rpc_statement("public", function["name"], function["argument_types"])
        for claims in (None, customer_claims(world.a.auth_user_id), {"role": "authenticated"}):
            # When it is called as POST /rpc/<name>, without a JWT, with a customer's, with one lacking sub
            answer = api.request(statement, claims=claims, method="POST")
            # Then the database refuses to execute it at all
            if not answer.refused_by_privilege:
                who = "anon" if claims is None else claims.get("sub", "no sub")
                failures.append(
                    f"{function['name']} as {who}: {answer.sqlstate or 'executed'} {answer.message}"
                )
    assert failures == []
