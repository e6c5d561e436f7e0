"""customer_payment_methods: RLS alone (no WHERE clause), the write guard, the one-primary index, and the
endpoints' guarantees under real concurrency (each thread on its own connection, as separate Lambdas are)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest

from isp_billing import db
from isp_billing.auth import CustomerPrincipal
from isp_billing.payment_methods import methods as payment_methods
from isp_billing.payment_methods.models import DebitOrderCreate
from isp_billing.providers.netcash import MandateProvider, MandateRequest, MandateResult
from isp_billing.providers.registry import netcash_for_requests
from tests.factories import insert_customer, insert_service
from tests.netcash_env import calls, running_fake


def _claims(auth_user_id: str) -> dict[str, Any]:
    return {"sub": auth_user_id, "role": "authenticated", "aud": "authenticated"}


@pytest.fixture
def netcash(clean_db, monkeypatch):
    yield from running_fake(monkeypatch)


def _method(conn, customer_id, **values) -> str:
    row = conn.execute(
        "insert into customer_payment_methods (customer_id, method_type, display_name, is_primary)"
        " values (%s, %s, %s, %s) returning id",
        (
            customer_id,
            values.get("method_type", "eft"),
            values.get("display_name"),
            values.get("primary", False),
        ),
    ).fetchone()
    return str(row["id"])


@pytest.fixture
def two_customers(conn):
    me = insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-0000000000e1")
    them = insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-0000000000e2")
    return me, them, _method(conn, me, primary=True), _method(conn, them, primary=True, display_name="Theirs")


def test_the_policy_alone_hides_other_customers_methods(conn, two_customers):
    me, _, mine, _ = two_customers
    with db.customer_session(_claims("a0000000-0000-4000-8000-0000000000e1")) as (session, _):
        rows = session.execute("select id, customer_id from customer_payment_methods").fetchall()
    assert [(str(r["id"]), str(r["customer_id"])) for r in rows] == [(mine, me)]


def test_the_policy_alone_refuses_a_write_to_another_customers_row(conn, two_customers):
    _, them, _, theirs = two_customers
    # When my session updates their row by id, with no customer filter
    with db.customer_session(_claims("a0000000-0000-4000-8000-0000000000e1")) as (session, _):
        updated = session.execute(
            "update customer_payment_methods set display_name = 'Mine now', is_active = false where id = %s",
            (theirs,),
        ).rowcount
    # Then no row is touched
    assert updated == 0
    row = conn.execute(
        "select display_name, is_active from customer_payment_methods where id = %s", (theirs,)
    )
    assert row.fetchone() == {"display_name": "Theirs", "is_active": True}
    # And inserting a row for them is refused outright
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims("a0000000-0000-4000-8000-0000000000e1")) as (session, _),
    ):
        session.execute(
            "insert into customer_payment_methods (customer_id, method_type) values (%s, 'eft')", (them,)
        )


@pytest.mark.parametrize(
    "assignment",
    [
        "mandate_status = 'accepted'",
        "customer_id = %(other)s",
        "account_number_masked = '****9999'",
        "card_expiry_month = 3",
        "mandate_url = 'https://evil.example'",
    ],
)
def test_the_guard_trigger_refuses_columns_a_customer_may_not_change(conn, assignment):
    me = insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-0000000000e3")
    other = insert_customer(conn)
    conn.execute(
        "insert into customer_payment_methods (customer_id, method_type, branch_code, account_type,"
        " account_number_masked, account_holder, mandate_reference, mandate_status, mandate_amount)"
        " values (%s, 'debit_order', '250655', 'cheque', '****1234', 'X', 'ref-1', 'pending', 100)",
        (me,),
    )
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims("a0000000-0000-4000-8000-0000000000e3")) as (session, _),
    ):
        session.execute(f"update customer_payment_methods set {assignment}", {"other": other})


def test_a_customer_may_change_a_cards_expiry(conn):
    me = insert_customer(conn, auth_user_id="a0000000-0000-4000-8000-0000000000e4")
    conn.execute(
        "insert into customer_payment_methods (customer_id, method_type, provider_token, card_last4,"
        " card_expiry_month, card_expiry_year) values (%s, 'card', 'tok_abcdefgh', '4242', 1, 2030)",
        (me,),
    )
    with db.customer_session(_claims("a0000000-0000-4000-8000-0000000000e4")) as (session, _):
        assert session.execute("update customer_payment_methods set card_expiry_month = 2").rowcount == 1


def test_the_database_allows_one_active_primary_per_customer(conn):
    me = insert_customer(conn)
    _method(conn, me, primary=True)
    with pytest.raises(psycopg.errors.UniqueViolation):
        _method(conn, me, primary=True)


def test_a_customer_cannot_touch_idempotency_keys_of_another_customer(conn, two_customers):
    _, them, _, _ = two_customers
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege),
        db.customer_session(_claims("a0000000-0000-4000-8000-0000000000e1")) as (session, _),
    ):
        session.execute("select * from claim_idempotency_key(%s, 'k', 'h', %s)", (f"POST /x:{them}", them))


# --- concurrency ------------------------------------------------------------------------------------------


@contextmanager
def _own_customer_session(url: str, auth_user_id: str) -> Iterator[tuple[db.Connection, Any]]:
    """What customer_session does, on a connection of this thread's own (a separate Lambda environment)."""
    conn = db.connect(url)
    try:
        with conn.transaction():
            conn.execute(
                "select set_config('request.jwt.claims', %s, true), set_config('role', 'api_customer', true)",
                (json.dumps(_claims(auth_user_id)),),
            )
            # A statement of its own: privileges are checked as the role in force when it starts.
            row = conn.execute(
                "select (select id from customers where auth_user_id = %s::uuid) as customer_id",
                (auth_user_id,),
            ).fetchone()
            assert row is not None
            yield conn, row["customer_id"]
    finally:
        conn.close()


def _run_together(*targets):
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def wrap(target):
        def run():
            try:
                start.wait()
                target()
            except BaseException as error:
                errors.append(error)

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return errors


def test_concurrent_set_primary_calls_leave_exactly_one_primary(conn, clean_db):
    auth_id = "a0000000-0000-4000-8000-0000000000e5"
    me = insert_customer(conn, auth_user_id=auth_id)
    methods = [_method(conn, me, primary=(i == 0)) for i in range(4)]
    for round_ in range(5):
        # When four requests each make a different method primary at the same moment
        def make_primary(method_id):
            def call():
                with _own_customer_session(clean_db, auth_id) as (session, customer_id):
                    principal = CustomerPrincipal(customer_id=customer_id, auth_user_id=uuid.UUID(auth_id))
                    payment_methods.set_primary(
                        session, principal, uuid.UUID(method_id), idempotency_key=None
                    )

            return call

        errors = _run_together(*(make_primary(m) for m in methods))
        # Then all succeed (serialised, not failed) and exactly one method is primary
        assert errors == [], round_
        primaries = conn.execute(
            "select count(*) as n from customer_payment_methods"
            " where customer_id = %s and is_primary and is_active",
            (me,),
        ).fetchone()
        assert primaries["n"] == 1


class _SlowFirstMandate:
    """The real NetCash client (against the fake), with the first AddMandate held until released."""

    def __init__(self, inner: MandateProvider) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()

    def validate_bank_account(self, *args: Any) -> None:
        self.inner.validate_bank_account(*args)

    def add_mandate(self, request: MandateRequest) -> MandateResult:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(10)
        return self.inner.add_mandate(request)

    def retrieve_mandate_statuses(self):
        return self.inner.retrieve_mandate_statuses()

    def parse_mandate_postback(self, form):
        return self.inner.parse_mandate_postback(form)


def test_two_concurrent_identical_posts_with_one_key_have_one_effect_and_one_response(
    conn, clean_db, netcash
):
    # Given a customer and a NetCash that holds the first mandate request open
    auth_id = "a0000000-0000-4000-8000-0000000000e6"
    me = insert_customer(conn, auth_user_id=auth_id)
    insert_service(conn, me)
    provider = _SlowFirstMandate(netcash_for_requests())
    body = DebitOrderCreate.model_validate(
        {
            "method_type": "debit_order",
            "bank_name": "FNB",
            "branch_code": "250655",
            "account_type": "cheque",
            "account_number": "62012345678",
            "account_holder": "T Mokoena",
        }
    )
    outcomes = []

    def post():
        with _own_customer_session(clean_db, auth_id) as (session, customer_id):
            principal = CustomerPrincipal(customer_id=customer_id, auth_user_id=uuid.UUID(auth_id))
            outcomes.append(
                payment_methods.add(session, principal, body, provider=provider, idempotency_key="same-key")
            )

    # When two identical requests run at once: the second starts while the first is inside NetCash
    first = threading.Thread(target=post)
    first.start()
    assert provider.entered.wait(10)
    second = threading.Thread(target=post)
    second.start()
    second.join(0.5)
    assert second.is_alive(), "the duplicate should wait for the first transaction"
    provider.release.set()
    first.join(10)
    second.join(10)
    # Then one method and one mandate exist, and both callers got the same response
    assert len(outcomes) == 2
    assert outcomes[0].body == outcomes[1].body and outcomes[0].status == 201
    assert sorted(o.replayed for o in outcomes) == [False, True]
    count = conn.execute("select count(*) as n from customer_payment_methods where customer_id = %s", (me,))
    assert count.fetchone()["n"] == 1
    assert len(calls(netcash, "AddMandate")) == 1
