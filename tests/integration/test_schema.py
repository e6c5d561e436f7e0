"""The schema's own guarantees: numbering, money checks, immutability, append-only audit, RLS."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

MIGRATIONS = sorted((Path(__file__).resolve().parents[2] / "infra" / "migrations").glob("*.sql"))


def apply_migration(url: str, path: Path) -> None:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute(path.read_text())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def db_url(server_url: str) -> Iterator[str]:
    """A fresh database with every migration applied; dropped afterwards."""
    admin_url = os.environ.get("ADMIN_DATABASE_URL") or server_url  # direct, also in the pooled pass
    name = f"schema_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = make_conninfo(admin_url, dbname=name)
    try:
        for path in MIGRATIONS:
            apply_migration(url, path)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


@pytest.fixture()
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


# ---------------------------------------------------------------- helpers


def make_customer(conn: psycopg.Connection, auth_user_id: uuid.UUID | None = None) -> uuid.UUID:
    email = f"Customer.{uuid.uuid4().hex[:8]}@Example.co.za"
    row = conn.execute(
        "insert into customers (first_name, last_name, email, phone, auth_user_id)"
        " values ('Thandi', 'Nkosi', %s, '+27821234567', %s) returning id",
        (email, auth_user_id),
    ).fetchone()
    assert row is not None
    return row[0]


def make_service(conn: psycopg.Connection, customer_id: uuid.UUID) -> uuid.UUID:
    package = conn.execute(
        "insert into service_packages (name, service_type, speed_down_mbps, speed_up_mbps, monthly_price)"
        " values ('Fibre 50', 'fibre', 50, 50, 799.00) returning id"
    ).fetchone()
    assert package is not None
    row = conn.execute(
        "insert into customer_services (customer_id, package_id, package_name, service_type, status,"
        " monthly_price, activation_date)"
        " values (%s, %s, 'Fibre 50', 'fibre', 'active', 799.00, '2026-01-10') returning id",
        (customer_id, package[0]),
    ).fetchone()
    assert row is not None
    return row[0]


def make_invoice(
    conn: psycopg.Connection,
    customer_id: uuid.UUID,
    invoice_date: str,
    *,
    invoice_number: str | None = None,
    kind: str = "one_off",
    period_start: str | None = None,
    subtotal: str = "694.78",
    vat: str = "104.22",
    total: str = "799.00",
    status: str = "draft",
) -> tuple[uuid.UUID, str]:
    row = conn.execute(
        "insert into customer_invoices (customer_id, invoice_number, kind, invoice_date, due_date,"
        " period_start, period_end, subtotal, vat_rate, vat_amount, total_amount, status)"
        " values (%s, %s, %s, %s::date, %s::date + 7, %s::date,"
        " (%s::date + interval '1 month' - interval '1 day')::date,"
        " %s, 15.00, %s, %s, %s) returning id, invoice_number",
        (
            customer_id,
            invoice_number,
            kind,
            invoice_date,
            invoice_date,
            period_start,
            period_start,
            subtotal,
            vat,
            total,
            status,
        ),
    ).fetchone()
    assert row is not None
    return row[0], row[1]


def make_payment_method(
    conn: psycopg.Connection, customer_id: uuid.UUID, *, is_primary: bool = False, masked: str = "****1234"
) -> uuid.UUID:
    row = conn.execute(
        "insert into customer_payment_methods (customer_id, method_type, display_name, is_primary, bank_name,"
        " branch_code, account_type, account_number_masked, account_holder, mandate_status, mandate_amount)"
        " values (%s, 'debit_order', 'FNB cheque', %s, 'FNB', '250655', 'cheque', %s, 'T Nkosi', 'pending',"
        " 799.00) returning id",
        (customer_id, is_primary, masked),
    ).fetchone()
    assert row is not None
    return row[0]


def as_customer(conn: psycopg.Connection, auth_user_id: uuid.UUID, role: str = "authenticated") -> None:
    """Inside an open transaction: behave like PostgREST does for a signed-in customer.

    role="api_customer": the API's own customer session instead (the role that holds the write grants).
    """
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
    conn.execute(
        "select set_config('request.jwt.claims', %s, true)",
        (json.dumps({"sub": str(auth_user_id), "role": "authenticated"}),),
    )


# ---------------------------------------------------------------- migrations


def test_compat_migration_applies_twice_without_error(db_url: str) -> None:
    # Given a database where the compat migration already ran (roles, auth schema, auth.uid())
    compat = next(p for p in MIGRATIONS if p.name.endswith("_supabase_compat.sql"))

    # When it is applied again, twice
    apply_migration(db_url, compat)
    apply_migration(db_url, compat)

    # Then the roles and auth.uid() are there, and auth.uid() reads the JWT claims
    with psycopg.connect(db_url) as conn:
        roles = {
            r[0]
            for r in conn.execute(
                "select rolname from pg_roles where rolname in ('anon', 'authenticated', 'service_role')"
            )
        }
        assert roles == {"anon", "authenticated", "service_role"}
        sub = uuid.uuid4()
        conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps({"sub": str(sub)}),))
        assert conn.execute("select auth.uid()").fetchone() == (sub,)


def test_every_public_table_has_row_level_security(conn: psycopg.Connection) -> None:
    # Given the migrated schema
    # When the tables of schema public are listed with their RLS flag
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity"
    ).fetchall()

    # Then none has RLS disabled
    assert rows == []


# ---------------------------------------------------------------- invoice numbers


def test_invoice_numbers_count_per_invoice_year_and_keep_legacy_numbers(conn: psycopg.Connection) -> None:
    # Given a customer
    customer = make_customer(conn)

    # When invoices are created in 2026, on 2027-01-01 and with a legacy number
    _, first = make_invoice(conn, customer, "2026-03-01")
    _, second = make_invoice(conn, customer, "2026-12-31")
    _, next_year = make_invoice(conn, customer, "2027-01-01")
    _, legacy = make_invoice(conn, customer, "2025-09-01", invoice_number="INV-202509-c1d")

    # Then the numbers count per year of the invoice date and the legacy number is kept
    assert (first, second, next_year, legacy) == (
        "INV-2026-00001",
        "INV-2026-00002",
        "INV-2027-00001",
        "INV-202509-c1d",
    )


def test_rolled_back_invoice_leaves_no_gap(db_url: str, conn: psycopg.Connection) -> None:
    # Given a customer with one invoice in 2028
    customer = make_customer(conn)
    _, first = make_invoice(conn, customer, "2028-02-01")

    # When another invoice is inserted in a transaction that rolls back
    with psycopg.connect(db_url) as other:
        _, rolled_back = make_invoice(other, customer, "2028-02-02")
        other.rollback()

    # Then the next invoice reuses that number: no gap
    _, next_one = make_invoice(conn, customer, "2028-02-03")
    assert (first, rolled_back, next_one) == ("INV-2028-00001", "INV-2028-00002", "INV-2028-00002")


def test_concurrent_invoice_numbering_is_distinct_and_gap_free(db_url: str, conn: psycopg.Connection) -> None:
    # Given a customer and two writers on separate connections
    customer = make_customer(conn)
    numbers: list[str] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def writer() -> None:
        try:
            with psycopg.connect(db_url, autocommit=True) as own:
                start.wait()
                for _ in range(25):
                    _, number = make_invoice(own, customer, "2030-06-15")
                    with lock:
                        numbers.append(number)
        except BaseException as exc:  # surfaced by the assertion below
            failures.append(exc)

    # When both insert 25 invoices dated 2030 at the same time
    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then the 50 numbers are distinct and run 00001..00050 without a gap
    assert failures == []
    assert sorted(numbers) == [f"INV-2030-{n:05d}" for n in range(1, 51)]


# ---------------------------------------------------------------- invoice money and immutability


def test_invoice_whose_subtotal_and_vat_do_not_add_up_is_rejected(conn: psycopg.Connection) -> None:
    # Given a customer
    customer = make_customer(conn)

    # When an invoice with subtotal + vat != total is inserted
    # Then the CHECK constraint refuses it
    with pytest.raises(errors.CheckViolation):
        make_invoice(conn, customer, "2035-01-01", subtotal="694.78", vat="104.21", total="799.00")


def test_issued_invoice_refuses_money_changes_but_accepts_payment_progress(conn: psycopg.Connection) -> None:
    # Given an issued invoice
    customer = make_customer(conn)
    invoice, _ = make_invoice(conn, customer, "2035-02-01", status="issued")

    # When its total is changed
    # Then the trigger refuses it
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        conn.execute(
            "update customer_invoices set subtotal = 600.00, vat_amount = 90.00, total_amount = 690.00"
            " where id = %s",
            (invoice,),
        )

    # When its status and amount paid move
    conn.execute(
        "update customer_invoices set status = 'partially_paid', amount_paid = 300.00 where id = %s",
        (invoice,),
    )

    # Then that is accepted and amount_due follows
    row = conn.execute(
        "select status, amount_paid, amount_due, total_amount from customer_invoices where id = %s",
        (invoice,),
    ).fetchone()
    assert row is not None
    assert (row[0], str(row[1]), str(row[2]), str(row[3])) == ("partially_paid", "300.00", "499.00", "799.00")


def test_issued_invoice_cannot_be_deleted_nor_its_lines_changed(conn: psycopg.Connection) -> None:
    # Given a draft invoice with one line, then issued
    customer = make_customer(conn)
    invoice, _ = make_invoice(conn, customer, "2035-03-01")
    conn.execute(
        "insert into invoice_line_items (invoice_id, kind, description, unit_amount, amount)"
        " values (%s, 'once_off', 'Installation', 799.00, 799.00)",
        (invoice,),
    )
    conn.execute("update customer_invoices set status = 'issued' where id = %s", (invoice,))

    # When a line is added or the invoice deleted
    # Then both are refused
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        conn.execute(
            "insert into invoice_line_items (invoice_id, kind, description, unit_amount, amount)"
            " values (%s, 'adjustment', 'Extra', 10.00, 10.00)",
            (invoice,),
        )
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        conn.execute("update invoice_line_items set amount = 1.00 where invoice_id = %s", (invoice,))
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        conn.execute("delete from customer_invoices where id = %s", (invoice,))


def test_second_recurring_invoice_for_the_same_period_is_rejected(conn: psycopg.Connection) -> None:
    # Given a recurring invoice for the period starting 2035-04-01
    customer = make_customer(conn)
    make_invoice(conn, customer, "2035-04-01", kind="recurring", period_start="2035-04-01")

    # When another recurring invoice for the same customer and period is inserted
    # Then the partial unique index refuses it
    with pytest.raises(errors.UniqueViolation):
        make_invoice(conn, customer, "2035-04-01", kind="recurring", period_start="2035-04-01")


# ---------------------------------------------------------------- audit log


def test_service_action_log_refuses_update_and_delete_even_for_superuser(conn: psycopg.Connection) -> None:
    # Given an audit row, and a superuser connection
    assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (True,)
    customer = make_customer(conn)
    service = make_service(conn, customer)
    conn.execute(
        "insert into service_action_log (service_id, customer_id, action, previous_status, new_status,"
        " actor_type) values (%s, %s, 'activate', 'pending', 'active', 'system')",
        (service, customer),
    )

    # When it is updated or deleted
    # Then both raise
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        conn.execute("update service_action_log set notes = 'edited' where service_id = %s", (service,))
    with pytest.raises(errors.ObjectNotInPrerequisiteState):
        conn.execute("delete from service_action_log where service_id = %s", (service,))


def test_admin_action_without_reason_is_rejected(conn: psycopg.Connection) -> None:
    # Given a service and an admin
    customer = make_customer(conn)
    service = make_service(conn, customer)
    admin = conn.execute(
        "insert into admin_users (email, full_name, role)"
        " values (%s, 'Sipho Dlamini', 'support') returning id",
        (f"admin.{uuid.uuid4().hex[:8]}@isp.co.za",),
    ).fetchone()
    assert admin is not None

    # When an admin action is logged with a blank reason
    # Then the CHECK refuses it
    with pytest.raises(errors.CheckViolation):
        conn.execute(
            "insert into service_action_log"
            " (service_id, customer_id, action, actor_type, actor_admin_id, reason)"
            " values (%s, %s, 'suspend', 'admin', %s, '  ')",
            (service, customer, admin[0]),
        )


# ---------------------------------------------------------------- customers


def test_customer_insert_assigns_account_number_and_creates_billing(conn: psycopg.Connection) -> None:
    # Given the current SAST year
    year_row = conn.execute(
        "select extract(year from now() at time zone 'Africa/Johannesburg')::int"
    ).fetchone()
    assert year_row is not None

    # When a customer is inserted without an account number
    customer = make_customer(conn)

    # Then it has CUS-YYYY-NNNNN and a customer_billing row with the defaults
    account = conn.execute("select account_number from customers where id = %s", (customer,)).fetchone()
    assert account is not None
    assert account[0].startswith(f"CUS-{year_row[0]}-") and len(account[0]) == len("CUS-2026-00001")
    billing = conn.execute(
        "select b.billing_day, b.payment_terms_days, b.auto_pay, b.debit_day, b.credit_balance,"
        " b.invoice_email = c.email from customer_billing b join customers c on c.id = b.customer_id"
        " where b.customer_id = %s",
        (customer,),
    ).fetchone()
    assert billing is not None
    assert (billing[0], billing[1], billing[2], billing[3], str(billing[4]), billing[5]) == (
        1,
        7,
        False,
        None,
        "0.00",
        True,
    )


def test_duplicate_email_in_another_case_is_rejected(conn: psycopg.Connection) -> None:
    # Given a customer with an email
    email = f"Naledi.{uuid.uuid4().hex[:8]}@Example.co.za"
    conn.execute("insert into customers (first_name, last_name, email) values ('Naledi', 'M', %s)", (email,))

    # When another customer uses the same email in lower case
    # Then the unique index on lower(email) refuses it
    with pytest.raises(errors.UniqueViolation):
        conn.execute(
            "insert into customers (first_name, last_name, email) values ('N', 'M', %s)", (email.lower(),)
        )


# ---------------------------------------------------------------- payment methods


def test_only_one_active_primary_payment_method_per_customer(conn: psycopg.Connection) -> None:
    # Given a customer with an active primary method and an inactive former primary
    customer = make_customer(conn)
    old = make_payment_method(conn, customer, is_primary=True)
    conn.execute(
        "update customer_payment_methods set is_active = false, deactivated_at = now() where id = %s", (old,)
    )
    make_payment_method(conn, customer, is_primary=True)

    # When a second active primary is added
    # Then the partial unique index refuses it
    with pytest.raises(errors.UniqueViolation):
        make_payment_method(conn, customer, is_primary=True)


@pytest.mark.parametrize("masked", ["12345678", "****123", "***1234", "****12345", "****12a4"])
def test_account_number_must_be_masked(conn: psycopg.Connection, masked: str) -> None:
    # Given a customer
    customer = make_customer(conn)

    # When a debit-order method carries something other than ****NNNN
    # Then the CHECK refuses it
    with pytest.raises(errors.CheckViolation):
        make_payment_method(conn, customer, masked=masked)


# ---------------------------------------------------------------- suspensions


def test_suspension_pauses_billing_is_derived_and_only_one_is_open(conn: psycopg.Connection) -> None:
    # Given a service
    customer = make_customer(conn)
    service = make_service(conn, customer)

    # When a customer_request suspension is inserted claiming pauses_billing = false
    row = conn.execute(
        "insert into service_suspensions (service_id, customer_id, suspension_type, pauses_billing, reason)"
        " values (%s, %s, 'customer_request', false, 'Away for winter') returning pauses_billing",
        (service, customer),
    ).fetchone()

    # Then the stored value is derived from the type
    assert row == (True,)

    # When a second open suspension is inserted for the same service
    # Then the partial unique index refuses it
    with pytest.raises(errors.UniqueViolation):
        conn.execute(
            "insert into service_suspensions (service_id, customer_id, suspension_type, pauses_billing)"
            " values (%s, %s, 'non_payment', true)",
            (service, customer),
        )


# ---------------------------------------------------------------- row level security


@pytest.fixture()
def two_customers(conn: psycopg.Connection) -> dict[str, tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """Two customers, each with a login, a service and a payment method.

    Returns name -> (auth user id, customer id, payment method id).
    """
    result = {}
    for name in ("alice", "bob"):
        auth_user = uuid.uuid4()
        customer = make_customer(conn, auth_user)
        make_service(conn, customer)
        result[name] = (auth_user, customer, make_payment_method(conn, customer))
    return result


def test_customer_sees_only_own_services_without_a_where_clause(
    db_url: str, two_customers: dict[str, tuple[uuid.UUID, uuid.UUID, uuid.UUID]]
) -> None:
    alice_auth, alice_customer, _ = two_customers["alice"]
    with psycopg.connect(db_url) as conn:
        # Given a session acting as Alice
        as_customer(conn, alice_auth)

        # When she selects every service, with no WHERE
        rows = conn.execute("select customer_id from customer_services").fetchall()
        customers = conn.execute("select id from customers").fetchall()

        # Then she sees only her own
        assert rows == [(alice_customer,)]
        assert customers == [(alice_customer,)]


def test_anon_sees_nothing(
    db_url: str, two_customers: dict[str, tuple[uuid.UUID, uuid.UUID, uuid.UUID]]
) -> None:
    for table in ("customer_services", "customers", "customer_invoices", "service_packages"):
        with psycopg.connect(db_url) as conn:
            # Given an anonymous session
            conn.execute("set local role anon")

            # When it selects from a table
            # Then it is refused
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql.SQL("select * from {}").format(sql.Identifier(table))).fetchall()


def test_customer_cannot_read_service_action_log(
    db_url: str, two_customers: dict[str, tuple[uuid.UUID, uuid.UUID, uuid.UUID]]
) -> None:
    with psycopg.connect(db_url) as conn:
        # Given a session acting as Alice
        as_customer(conn, two_customers["alice"][0])

        # When she reads the audit log
        # Then she is refused
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("select * from service_action_log").fetchall()


def test_customer_cannot_update_another_customers_payment_method(
    db_url: str, two_customers: dict[str, tuple[uuid.UUID, uuid.UUID, uuid.UUID]]
) -> None:
    _, _, bob_method = two_customers["bob"]
    _, _, alice_method = two_customers["alice"]
    with psycopg.connect(db_url) as conn:
        # Given the API's session acting as Alice
        as_customer(conn, two_customers["alice"][0], role="api_customer")

        # When she renames Bob's method, then her own
        bobs = conn.execute(
            "update customer_payment_methods set display_name = 'mine now' where id = %s", (bob_method,)
        )
        own = conn.execute(
            "update customer_payment_methods set display_name = 'Salary account' where id = %s",
            (alice_method,),
        )

        # Then Bob's is untouched (0 rows) and hers changes
        assert (bobs.rowcount, own.rowcount) == (0, 1)

        # When she marks her own mandate accepted
        # Then she is refused
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(
                "update customer_payment_methods set mandate_status = 'accepted' where id = %s",
                (alice_method,),
            )


# ---------------------------------------------------------------- cron log


def test_second_running_top_level_job_row_is_rejected_and_duration_is_computed(
    conn: psycopg.Connection,
) -> None:
    # Given a running top-level run of a job
    run = conn.execute(
        "insert into cron_execution_log (job_name, execution_start) values"
        " ('generate-invoices', '2035-05-01 02:00:00+02') returning id, duration_seconds"
    ).fetchone()
    assert run is not None and run[1] is None

    # When a second running top-level row for the same job is inserted
    # Then it is refused
    with pytest.raises(errors.UniqueViolation):
        conn.execute("insert into cron_execution_log (job_name) values ('generate-invoices')")

    # When the first run ends 90.5 seconds later
    row = conn.execute(
        "update cron_execution_log set status = 'completed', execution_end = '2035-05-01 02:01:30.5+02'"
        " where id = %s returning duration_seconds",
        (run[0],),
    ).fetchone()

    # Then its duration is computed, and a new run may start
    assert row is not None and str(row[0]) == "90.500000"
    conn.execute("insert into cron_execution_log (job_name) values ('generate-invoices')")
