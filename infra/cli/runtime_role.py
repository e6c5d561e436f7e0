"""The runtime login role: what the functions and the local server connect as. It owns nothing.

Migrations run as the owner of the schema (a superuser locally, `postgres` on Supabase, the master user on
RDS). The code connects as `isp_billing_runtime`: LOGIN, NOINHERIT, no attributes, a member of
`api_customer`, `authenticated` and `service_role` only so that each transaction can
`set_config('role', ..., true)` to one of them. NOINHERIT: outside such a switch it holds no privilege at
all, and as a non-owner it can neither ALTER, DROP nor disable a trigger of any table, so the audit log's
and the issued invoices' guards hold.

`create_runtime_role` is idempotent and safe when two runs overlap (roles are cluster-wide: test runs on one
server share the role). A password is sent as a SCRAM-SHA-256 verifier computed here, never in clear text,
so it cannot land in the server's statement log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import psycopg
from psycopg import sql

RUNTIME_ROLE = "isp_billing_runtime"
# The roles the code switches to per transaction (db.py). Nothing else is granted to the runtime role.
# api_customer: the API's customer sessions (20261201002000); authenticated: what PostgREST's customers are,
# for tests and tools that act as a Data API request.
SWITCH_ROLES = ("api_customer", "authenticated", "service_role")
SCRAM_ITERATIONS = 4096

# Concurrent CREATE/ALTER ROLE and GRANT on the same role collide in the shared catalogs.
_RACES = (psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject, psycopg.errors.InternalError_)


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677), as `\\password` sends it."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def runtime_role_statements(name: str = RUNTIME_ROLE, password: str | None = None) -> list[sql.Composed]:
    """The SQL that creates (or brings back to shape) the runtime role; also what the README prints."""
    role = sql.Identifier(name)
    secret = (
        sql.SQL(" password {}").format(sql.Literal(scram_verifier(password))) if password else sql.SQL("")
    )
    return [
        sql.SQL(
            """
do $runtime_role$
begin
  if not exists (select 1 from pg_roles where rolname = {name}) then
    create role {role} login noinherit nocreatedb nocreaterole{secret};
  elsif {has_secret} or exists (select 1 from pg_roles where rolname = {name}
                                   and (not rolcanlogin or rolinherit or rolcreatedb or rolcreaterole)) then
    -- only when something differs: concurrent runs that find it in shape write nothing to the catalog
    alter role {role} login noinherit nocreatedb nocreaterole{secret};
  end if;
  if exists (select 1 from pg_roles where rolname = {name}
              and (rolsuper or rolbypassrls or rolreplication)) then
    raise exception 'role % has SUPERUSER, BYPASSRLS or REPLICATION: a runtime role must have none', {name};
  end if;
end
$runtime_role$
"""
        ).format(name=sql.Literal(name), role=role, secret=secret, has_secret=sql.Literal(bool(password))),
        sql.SQL("grant {} to {}").format(sql.SQL(", ").join(map(sql.Identifier, SWITCH_ROLES)), role),
    ]


def render_sql(name: str = RUNTIME_ROLE, password: str | None = None) -> str:
    """The statements as text (for the SQL editor of Supabase or any psql session as the owner)."""
    statements = runtime_role_statements(name, password)
    return "".join(statement.as_string(None).strip() + ";\n" for statement in statements)


def create_runtime_role(owner_url: str, name: str = RUNTIME_ROLE, password: str | None = None) -> None:
    """Create or repair the runtime role, as the owner (CREATEROLE). Retries when another run races it."""
    for attempt in range(10):
        try:
            with psycopg.connect(owner_url, autocommit=True, prepare_threshold=None) as conn:
                for statement in runtime_role_statements(name, password):
                    conn.execute(statement)
            return
        except _RACES:
            if attempt == 9:
                raise
            time.sleep(0.05 * (attempt + 1))


def runtime_url(url: str, name: str = RUNTIME_ROLE, password: str | None = None) -> str:
    """`url` (same host, port, database and options) logging in as the runtime role."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    params["user"] = name
    params.pop("password", None)
    if password:
        params["password"] = password
    return psycopg.conninfo.make_conninfo(**{key: str(value) for key, value in params.items()})
