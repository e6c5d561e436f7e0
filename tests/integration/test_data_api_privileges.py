"""The catalog against the allow-list: every table, column and function in `public`, and who may reach it.

A table or function added by a later migration fails here until it is classified in
tests/data_api_allowlist.py; one created later by the migrating user gets no privilege for anon or
authenticated by default, even on a database whose defaults grant broadly (as Supabase's do).
"""

from __future__ import annotations

import uuid
from collections import defaultdict

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from isp_billing import db
from isp_billing_cli.migrate import migrate
from tests.data_api_allowlist import (
    API_CUSTOMER_COLUMN_PRIVILEGES,
    API_CUSTOMER_TABLE_PRIVILEGES,
    CHECKED_ROLES,
    CUSTOMER_FACING,
    FUNCTIONS,
    INTERNAL_TABLES,
)
from tests.factories import insert_customer
from tests.postgrest import API_CUSTOMER_ROLE, customer_claims

# Supabase's projects grant everything in public to its API roles by default (for the migrating user).
SUPABASE_DEFAULTS = [
    "alter default privileges in schema public grant all on tables to anon, authenticated, service_role",
    "alter default privileges in schema public grant all on sequences to anon, authenticated, service_role",
    "alter default privileges in schema public grant all on functions to anon, authenticated, service_role",
    "grant usage on schema public to anon, authenticated, service_role",
]
Grants = dict[str, set[tuple[str, str]]]  # role -> {(privilege, column or "")}


def _relation_grants(conn: psycopg.Connection) -> dict[str, Grants]:
    """Every relation in public -> what each checked role holds on it (table-level and per column)."""
    rows = conn.execute(
        """
        with relations as (
          select c.oid, c.relname, c.relacl, c.relowner from pg_class c
            join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
        ), grants as (
          select r.relname, '' as column_name, (aclexplode(r.relacl)).* from relations r
          union all
          select r.relname, a.attname, (aclexplode(a.attacl)).* from relations r
            join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
        )
        select r.relname, g.column_name, g.privilege_type,
               case when g.grantee = 0 then 'PUBLIC' else g.grantee::regrole::text end as grantee
          from relations r left join grants g on g.relname = r.relname
        """
    ).fetchall()
    found: dict[str, Grants] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        found[row["relname"]]  # every relation appears, even one without any grant
        if row["grantee"] in CHECKED_ROLES:
            found[row["relname"]][row["grantee"]].add((row["privilege_type"], row["column_name"]))
    return found


def _expected_grants(table: str) -> Grants:
    expected: Grants = defaultdict(set)
    for column in CUSTOMER_FACING.get(table, ()):
        expected["authenticated"].add(("SELECT", column))
    for privilege in API_CUSTOMER_TABLE_PRIVILEGES.get(table, ()):
        expected[API_CUSTOMER_ROLE].add((privilege, ""))
    expected[API_CUSTOMER_ROLE] |= API_CUSTOMER_COLUMN_PRIVILEGES.get(table, frozenset())
    return expected


def _function_grants(conn: psycopg.Connection) -> dict[str, set[str]]:
    rows = conn.execute(
        """
        select p.oid::regprocedure::text as signature, p.proname,
               array(select case when a.grantee = 0 then 'PUBLIC' else a.grantee::regrole::text end
                       from aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                      where a.privilege_type = 'EXECUTE') as executors
          from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where n.nspname = 'public'
        """
    ).fetchall()
    return {row["proname"]: {r for r in row["executors"] if r in CHECKED_ROLES} for row in rows}


def _mismatches(conn: psycopg.Connection) -> list[str]:
    problems = []
    relations = _relation_grants(conn)
    classified = set(CUSTOMER_FACING) | INTERNAL_TABLES
    for table in sorted(set(relations) - classified):
        problems.append(
            f"{table}: not classified (tests/data_api_allowlist.py: customer-facing or internal?)"
        )
    for table in sorted(classified - set(relations)):
        problems.append(f"{table}: classified but absent")
    for table, grants in sorted(relations.items()):
        expected = _expected_grants(table)
        for role in CHECKED_ROLES:
            if grants.get(role, set()) != expected.get(role, set()):
                problems.append(
                    f"{table}: {role} holds {sorted(grants.get(role, set()))}, expected"
                    f" {sorted(expected.get(role, set()))}"
                )
    functions = _function_grants(conn)
    for name in sorted(set(functions) - set(FUNCTIONS)):
        problems.append(f"function {name}: not classified (tests/data_api_allowlist.py)")
    for name, executors in sorted(functions.items()):
        if name in FUNCTIONS and executors != set(FUNCTIONS[name]):
            problems.append(
                f"function {name}: executable by {sorted(executors)}, expected {sorted(FUNCTIONS[name])}"
            )
    return problems


def _unclassified_objects_get_nothing(conn: psycopg.Connection) -> None:
    """As the migrating user, create a table and a function in public; no API role may reach either."""
    name = f"zz_later_{uuid.uuid4().hex[:8]}"
    with conn.transaction(force_rollback=True):  # nothing is kept
        conn.execute(
            sql.SQL("create table public.{} (id uuid primary key, secret text)").format(sql.Identifier(name))
        )
        conn.execute(
            sql.SQL("create function public.{}() returns int language sql as 'select 1'").format(
                sql.Identifier(name)
            )
        )
        reach = conn.execute(
            "select r.rolname,"
            " has_table_privilege(r.rolname, %(t)s,"
            "                     'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') as t,"
            " has_any_column_privilege(r.rolname, %(t)s, 'SELECT,INSERT,UPDATE') as c,"
            " has_function_privilege(r.rolname, %(f)s, 'EXECUTE') as f"
            " from pg_roles r where r.rolname in ('anon', 'authenticated', %(api)s)",
            {"t": f"public.{name}", "f": f"public.{name}()", "api": API_CUSTOMER_ROLE},
        ).fetchall()
    assert reach and all(not (r["t"] or r["c"] or r["f"]) for r in reach), reach


def test_every_table_column_and_function_in_public_matches_the_allow_list(conn):
    # Given the migrated schema
    # When every relation's and function's privileges are read from the catalog
    # Then each is classified, and anon/authenticated/api_customer/PUBLIC hold exactly what the list says
    assert _mismatches(conn) == []


def test_a_table_or_function_created_later_is_reachable_by_no_api_role(clean_db, owner_database_url):
    # Given the migrating user's default privileges / When it creates a new table and function / Then
    with psycopg.connect(owner_database_url, autocommit=True, row_factory=dict_row) as owner:
        _unclassified_objects_get_nothing(owner)


def test_on_a_database_with_supabases_broad_defaults_the_migrations_leave_the_same_privileges(server_url):
    # Given a fresh database whose defaults grant everything in public to anon and authenticated (Supabase's)
    name = f"isp_test_supabase_defaults_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(server_url, dbname=name)
    try:
        with psycopg.connect(url, autocommit=True) as setup:
            setup.execute(
                "do $$ begin if not exists (select 1 from pg_roles where rolname = 'anon') then"
                " create role anon nologin noinherit; end if; if not exists (select 1 from pg_roles"
                " where rolname = 'authenticated') then create role authenticated nologin noinherit;"
                " end if; if not exists (select 1 from pg_roles where rolname = 'service_role') then"
                " create role service_role nologin noinherit bypassrls; end if; end $$"
            )
            for statement in SUPABASE_DEFAULTS:
                setup.execute(statement)
        # When the migrations are applied
        migrate(url)
        # Then the privileges are exactly the allow-list's, nothing made later reaches an API role
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as check:
            assert _mismatches(check) == []
            _unclassified_objects_get_nothing(check)
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def test_the_apis_customer_role_is_one_postgrest_never_switches_to(conn):
    # Given the API's customer role
    role = conn.execute(
        "select rolcanlogin, rolsuper, rolbypassrls from pg_roles where rolname = %s",
        (API_CUSTOMER_ROLE,),
    ).fetchone()
    # Then it cannot log in, bypasses nothing, and none of PostgREST's roles may switch to it
    assert role == {"rolcanlogin": False, "rolsuper": False, "rolbypassrls": False}
    reachable = conn.execute(
        "select r.rolname from pg_roles r"
        " where r.rolname in ('anon', 'authenticated', 'service_role', 'authenticator')"
        " and pg_has_role(r.rolname, %s, 'MEMBER')",
        (API_CUSTOMER_ROLE,),
    ).fetchall()
    assert reachable == []


def test_the_apis_customer_sessions_run_as_that_role(conn):
    # Given a customer
    auth_user_id = str(uuid.uuid4())
    customer_id = insert_customer(conn, auth_user_id=auth_user_id)
    # When the API opens their session / Then it runs as the API's customer role with their claims
    with db.customer_session(customer_claims(auth_user_id)) as (session, found):
        row = session.execute("select current_user as role, auth.uid()::text as uid").fetchone()
    assert (row["role"], row["uid"], str(found)) == (API_CUSTOMER_ROLE, auth_user_id, customer_id)


def test_postgrests_login_role_cannot_switch_to_the_apis_customer_role(clean_db, conn):
    # Given a login role shaped like Supabase's `authenticator` (NOINHERIT, member of PostgREST's three roles)
    name = f"zz_authenticator_{uuid.uuid4().hex[:8]}"
    conn.execute(sql.SQL("create role {} login noinherit").format(sql.Identifier(name)))
    try:
        conn.execute(sql.SQL("grant anon, authenticated, service_role to {}").format(sql.Identifier(name)))
        with psycopg.connect(psycopg.conninfo.make_conninfo(clean_db, user=name)) as session:
            # When it switches roles as PostgREST does / Then its own roles work, the API's customer role not
            for role in ("anon", "authenticated", "service_role"):
                session.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                session.execute(sql.SQL("set local role {}").format(sql.Identifier(API_CUSTOMER_ROLE)))
    finally:
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(name)))
