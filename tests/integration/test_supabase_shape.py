"""A database initialised the way Supabase initialises its Postgres (infra/supabase_shape): our migrations
apply as its non-superuser owner, the demo seed creates the auth users it needs, and `migrate` after
`supabase db push` adopts what the push applied."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row

from isp_billing_cli import supabase_shape
from isp_billing_cli.demo import ADMINS, CUSTOMERS, seed_demo
from isp_billing_cli.demo_billing import BILLING_CUSTOMERS
from isp_billing_cli.migrate import MigrationError, discover, migrate, supabase_version
from tests.conftest import _admin_server


@pytest.fixture
def shaped(server_url: str) -> Iterator[tuple[str, str]]:
    """A fresh Supabase-shaped database: (owner URL, superuser URL)."""
    name = f"isp_shape_{uuid.uuid4().hex[:10]}"
    admin_server = _admin_server(server_url)  # direct, even in a pooled pass
    owner_url = supabase_shape.create_database(admin_server, name)
    try:
        yield owner_url, psycopg.conninfo.make_conninfo(admin_server, dbname=name)
    finally:
        supabase_shape.drop_database(admin_server, name)


def _supabase_db_push(owner_url: str, count: int | None = None) -> list[str]:
    """What `supabase db push` does: apply each file as the owner and record its timestamp in its ledger."""
    pushed = []
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("create schema if not exists supabase_migrations")
        conn.execute(
            "create table if not exists supabase_migrations.schema_migrations"
            " (version text primary key, statements text[], name text)"
        )
        for migration in discover()[:count]:
            with conn.transaction():
                conn.execute(migration.sql)  # type: ignore[arg-type]
                conn.execute(
                    "insert into supabase_migrations.schema_migrations (version, name) values (%s, %s)",
                    (supabase_version(migration), migration.version.split("_", 1)[1]),
                )
            pushed.append(migration.version)
    return pushed


def test_the_shape_is_supabases(shaped):
    _, admin_url = shaped
    with psycopg.connect(admin_url, row_factory=dict_row) as conn:
        # Given the shaped database / Then its owner is no superuser but may create roles and bypass RLS
        owner = conn.execute(
            "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,"
            " pg_has_role(oid, 'anon', 'member') and pg_has_role(oid, 'authenticated', 'member')"
            "   and pg_has_role(oid, 'service_role', 'member') as member_of_api_roles"
            " from pg_roles where rolname = %s",
            (supabase_shape.OWNER,),
        ).fetchone()
        assert owner == {
            "rolsuper": False,
            "rolcreaterole": True,
            "rolcreatedb": True,
            "rolbypassrls": True,
            "member_of_api_roles": True,
        }
        # And GoTrue's auth.users belongs to supabase_auth_admin
        users_owner = conn.execute(
            "select r.rolname from pg_class c join pg_roles r on r.oid = c.relowner"
            " where c.oid = 'auth.users'::regclass"
        ).fetchone()
        assert users_owner == {"rolname": "supabase_auth_admin"}


def test_the_migrations_apply_as_the_non_superuser_owner_and_link_to_auth_users(shaped):
    owner_url, admin_url = shaped
    # When the owner migrates / Then every file applies
    assert len(migrate(owner_url)) == len(discover())
    # And customers reference auth.users there
    with psycopg.connect(admin_url) as conn:
        fkey = conn.execute(
            "select confrelid::regclass::text from pg_constraint"
            " where conname = 'customers_auth_user_id_fkey'"
        ).fetchone()
        assert fkey == ("auth.users",)


def test_the_demo_seed_creates_the_auth_users_it_needs(shaped):
    owner_url, admin_url = shaped
    migrate(owner_url)
    # When the demo is seeded as the owner, twice / Then no foreign key fails and nothing doubles
    seed_demo(owner_url)
    seed_demo(owner_url)
    with psycopg.connect(admin_url) as conn:
        customers = [row[1] for row in CUSTOMERS] + [row[1] for row in BILLING_CUSTOMERS]
        wanted = set(customers) | {row[1] for row in ADMINS}
        present = {str(row[0]) for row in conn.execute("select id from auth.users")}
        assert wanted <= present
        assert conn.execute("select count(*) from customers where auth_user_id is not null").fetchone() == (
            len(customers),
        )


def test_migrate_after_supabase_db_push_adopts_what_the_push_applied(shaped):
    owner_url, admin_url = shaped
    # Given `supabase db push` applied all but the last two files
    pushed = _supabase_db_push(owner_url, count=len(discover()) - 2)
    # When `isp-billing migrate` runs
    applied = migrate(owner_url)
    # Then it applies only the two the push did not, and its ledger knows every file
    assert applied == [m.version for m in discover()[-2:]]
    with psycopg.connect(admin_url) as conn:
        versions = [row[0] for row in conn.execute("select version from schema_migrations order by 1")]
    assert versions == [m.version for m in discover()]
    assert set(pushed) < set(versions)
    # And a second run changes nothing
    assert migrate(owner_url) == []


def test_migrate_over_an_unrecorded_schema_says_what_to_do(shaped):
    owner_url, _ = shaped
    # Given a schema built by the push whose ledger was lost
    _supabase_db_push(owner_url)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("truncate supabase_migrations.schema_migrations")
    # When migrate runs / Then it refuses with the way out, not a bare DuplicateTable
    with pytest.raises(MigrationError, match="supabase migration repair"):
        migrate(owner_url)
