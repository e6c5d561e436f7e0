"""Acting as Supabase's Data API (PostgREST) acts, to test what the `public` schema exposes over HTTP.

PostgREST runs each HTTP request as one transaction: `set local role` to the JWT's role (`authenticated`
for a signed-in customer; `anon` without a JWT), `set_config('request.jwt.claims', <the JWT's claims>,
true)` and the request's method and path, then one statement built from the URL:

    GET    /t?select=a,b     select "a", "b" from "public"."t"
    POST   /t                insert into "public"."t" (cols) select cols
                               from json_populate_recordset(null::"public"."t", $1) returning ...
    PATCH  /t?id=eq.X        update "public"."t" set "c" = _."c"
                               from (select * from json_populate_record(null::"public"."t", $1)) _ where ...
    DELETE /t?id=eq.X        delete from "public"."t" where ...
    POST   /rpc/f            select "public"."f"(...)   (PostgREST: select * from f(...) for set-returning f)

`DataApi.request` does exactly that on a connection of its own and always rolls back, so a statement the
database allows still leaves nothing behind; the answer says whether the database refused it (SQLSTATE
42501) and which rows came back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Json

# The role the API's own customer sessions run as (db.customer_session): PostgREST never switches to it.
API_CUSTOMER_ROLE = "api_customer"


def customer_claims(auth_user_id: str, **extra: Any) -> dict[str, Any]:
    """The claims of a Supabase access token for a signed-in user."""
    return {"sub": auth_user_id, "role": "authenticated", "aud": "authenticated", **extra}


@dataclass(frozen=True)
class Answer:
    """What the database answered: rows, or the error's SQLSTATE and message."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    rowcount: int = 0
    sqlstate: str | None = None
    message: str = ""

    @property
    def refused(self) -> bool:
        """Refused for lack of privilege, by a policy or by a guard (SQLSTATE 42501)."""
        return self.sqlstate == "42501"

    @property
    def refused_by_privilege(self) -> bool:
        """Refused before any row was looked at: the role has no grant (`permission denied for ...`)."""
        return self.refused and self.message.startswith("permission denied")

    @property
    def ok(self) -> bool:
        return self.sqlstate is None


class DataApi:
    """PostgREST's side of a request, against one database (its own connection).

    `url` logs in as a role that may switch to anon and authenticated (Supabase's `authenticator`; in tests
    the superuser): after `set local role` every privilege and policy is the switched role's.
    """

    def __init__(self, url: str) -> None:
        self._conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)

    def close(self) -> None:
        self._conn.close()

    def request(
        self,
        statement: sql.Composable | str,
        params: Sequence[Any] = (),
        *,
        claims: Mapping[str, Any] | None,
        method: str = "GET",
        role: str | None = None,
    ) -> Answer:
        """Run one statement as PostgREST would for a JWT with `claims` (None: no JWT, role anon).

        Any database error is an answer (its SQLSTATE and message), so one probe cannot end a survey; only
        SQLSTATE 42501 counts as refused.
        """
        acting_role = role or ("anon" if claims is None else str(claims.get("role", "authenticated")))
        answer: Answer | None = None
        with self._conn.transaction(force_rollback=True):
            # The request's setup is not under test: a failure here is an error, never a "refused".
            self._conn.execute(sql.SQL("set local role {}").format(sql.Identifier(acting_role)))
            if claims is not None:
                self._conn.execute(
                    "select set_config('request.jwt.claims', %s, true),"
                    " set_config('request.method', %s, true), set_config('request.path', '/', true)",
                    (json.dumps(dict(claims)), method),
                )
            try:
                with self._conn.transaction():  # a savepoint: the statement's error ends only itself
                    cursor = self._conn.execute(statement, params)
                    rows = cursor.fetchall() if cursor.description else []
                    answer = Answer(rows=rows, rowcount=cursor.rowcount)
            except psycopg.Error as error:
                if (
                    error.sqlstate is None
                ):  # not the server's answer (a broken connection): not a probe result
                    raise
                answer = Answer(sqlstate=error.sqlstate, message=error.diag.message_primary or "")
        assert answer is not None
        return answer


def select_statement(table: str, columns: Iterable[str] | None = None) -> sql.Composable:
    """GET /table?select=... (None: select=*)."""
    if columns is None:
        wanted: sql.Composable = sql.SQL("*")
    else:
        wanted = sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    return sql.SQL("select {} from {}").format(wanted, sql.Identifier("public", table))


def insert_statement(table: str, row: Mapping[str, Any]) -> tuple[sql.Composable, list[Any]]:
    """POST /table with a JSON body of one row, as PostgREST builds it."""
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in row)
    statement = sql.SQL(
        "insert into {table} ({columns}) select {columns} from json_populate_recordset(null::{table}, %s)"
        " returning 1 as created"
    ).format(table=sql.Identifier("public", table), columns=columns)
    return statement, [Json([dict(row)])]


def update_statement(
    table: str, changes: Mapping[str, Any], where: Mapping[str, Any] | None = None
) -> tuple[sql.Composable, list[Any]]:
    """PATCH /table?col=eq.value with a JSON body of the changes."""
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = _.{}").format(sql.Identifier(name), sql.Identifier(name)) for name in changes
    )
    statement = sql.SQL(
        "update {table} set {assignments} from (select * from json_populate_record(null::{table}, %s)) _"
    ).format(table=sql.Identifier("public", table), assignments=assignments)
    params: list[Any] = [Json(dict(changes))]
    if where:
        statement = sql.SQL("{} where {}").format(statement, _filters(table, where))
        params.extend(where.values())
    return statement, params


def delete_statement(table: str, where: Mapping[str, Any] | None = None) -> tuple[sql.Composable, list[Any]]:
    """DELETE /table?col=eq.value."""
    statement: sql.Composable = sql.SQL("delete from {}").format(sql.Identifier("public", table))
    if where:
        statement = sql.SQL("{} where {}").format(statement, _filters(table, where))
    return statement, list((where or {}).values())


def rpc_statement(schema: str, name: str, argument_types: Sequence[str]) -> sql.Composable:
    """POST /rpc/name with every argument null (privileges are checked before any argument is looked at)."""
    arguments = sql.SQL(", ").join(sql.SQL("null::" + type_name) for type_name in argument_types)
    # `select f(...)`, not `select * from f(...)`: the latter refuses a trigger function while parsing, before
    # privileges are checked, and PostgREST does not offer those anyway; EXECUTE is what is being probed.
    return sql.SQL("select {}({})").format(sql.Identifier(schema, name), arguments)


def _filters(table: str, where: Mapping[str, Any]) -> sql.Composable:
    return sql.SQL(" and ").join(
        sql.SQL("{}.{} = %s").format(sql.Identifier("public", table), sql.Identifier(name)) for name in where
    )
