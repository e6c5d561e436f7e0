import shutil
import uuid

import psycopg
import pytest
from psycopg import sql

from isp_billing_cli.migrate import MIGRATIONS_DIR, MigrationError, migrate


@pytest.fixture
def empty_database(server_url):
    name = f"isp_mig_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield psycopg.conninfo.make_conninfo(server_url, dbname=name)
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def test_migrate_is_idempotent_and_records_checksums(empty_database):
    # Given an empty database
    # When migrate runs twice
    first = migrate(empty_database)
    second = migrate(empty_database)
    # Then every file is applied once, with its checksum, and the second run applies nothing
    assert first == [path.stem for path in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    assert second == []
    with psycopg.connect(empty_database) as conn:
        rows = conn.execute("select version, length(checksum) from schema_migrations").fetchall()
    assert {version for version, _ in rows} == set(first)
    assert {length for _, length in rows} == {64}


def test_an_edited_applied_migration_is_refused(empty_database, tmp_path):
    # Given the migrations applied from a copy of the folder
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    migrate(empty_database, folder)
    # When an applied file is edited and migrate runs again
    first = sorted(folder.glob("*.sql"))[-1]
    first.write_text(first.read_text() + "\n-- edited\n")
    # Then it is refused, naming the file
    with pytest.raises(MigrationError, match=first.name):
        migrate(empty_database, folder)


def test_a_failing_migration_leaves_nothing_behind(empty_database, tmp_path):
    # Given a new migration whose second statement fails
    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, folder)
    (folder / "99999999999999_broken.sql").write_text(
        "create table half_done (id int);\nselect * from no_such_table;\n"
    )
    # When migrate runs / Then it fails, and neither the table nor the version row exists
    with pytest.raises(psycopg.errors.UndefinedTable):
        migrate(empty_database, folder)
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("select to_regclass('public.half_done')").fetchone()[0] is None
        assert (
            conn.execute(
                "select count(*) from schema_migrations where version = '99999999999999_broken'"
            ).fetchone()[0]
            == 0
        )


def test_two_migrators_at_once_apply_each_file_once_and_hold_no_lock_afterwards(empty_database):
    import threading

    # Given two migrators started together on an empty database
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(migrate(empty_database))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # When both have finished
    # Then neither failed, every file was applied exactly once between them
    assert errors == []
    applied = sorted(version for result in results for version in result)
    assert applied == [path.stem for path in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    # And no advisory lock is left behind (only transaction-level locks were taken)
    with psycopg.connect(empty_database) as conn:
        held = conn.execute("select count(*) from pg_locks where locktype = 'advisory'").fetchone()
    assert held == (0,)
