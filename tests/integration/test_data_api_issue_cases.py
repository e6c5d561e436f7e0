"""The cases issue 9 saw through Supabase's Data API, as a customer's JWT, and the idempotency functions.

Each was possible before migration 20261201002000 (the tests fail on the older migrations):
- a direct PATCH deactivated the customer's only debit order while an invoice awaited collection, and made a
  declined mandate primary (the API answers 409 to both);
- a direct POST created a payment method with a chosen id, mandate reference, signing URL, amount and a
  backdated created_at;
- a SELECT showed internal suspension notes, and draft invoices;
- `complete_idempotency_key` with claims lacking `sub` completed another customer's key.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row

from isp_billing import db
from tests.data_api_world import World, build_world
from tests.postgrest import (
    API_CUSTOMER_ROLE,
    DataApi,
    customer_claims,
    insert_statement,
    rpc_statement,
    select_statement,
    update_statement,
)

CLAIM_ARGS = ["text", "text", "text", "uuid"]
COMPLETE_ARGS = ["text", "text", "integer", "jsonb"]


@pytest.fixture
def world(conn: psycopg.Connection) -> World:
    return build_world(conn)


@pytest.fixture
def api(clean_db: str, admin_database_url: str) -> Iterator[DataApi]:
    data_api = DataApi(admin_database_url)
    yield data_api
    data_api.close()


def _method(conn: psycopg.Connection, method_id: str) -> dict:
    row = conn.execute(
        "select is_active, is_primary, deactivated_at from customer_payment_methods where id = %s",
        (method_id,),
    ).fetchone()
    assert row is not None
    return row


def test_a_customer_cannot_deactivate_their_only_debit_order_while_an_invoice_awaits_collection(
    conn, world, api
):
    # Given customer A on auto-pay with an issued unpaid invoice and one live debit order, their primary
    [order] = world.a.rows["accepted_debit_order"]
    before = _method(conn, order)
    # When A PATCHes it inactive directly (what DELETE /api/customer/payment-methods/{id} refuses with 409)
    statement, params = update_statement(
        "customer_payment_methods",
        {"is_active": False, "is_primary": False, "deactivated_at": "2026-12-01T00:00:00Z"},
        {"id": order},
    )
    answer = api.request(statement, params, claims=customer_claims(world.a.auth_user_id), method="PATCH")
    # Then the database refuses it and the debit order is as it was
    assert answer.refused_by_privilege, answer
    assert _method(conn, order) == before


def test_a_customer_cannot_make_a_declined_mandate_primary(conn, world, api):
    # Given customer A's declined debit order (set-primary answers 409 for it)
    [declined] = world.a.rows["declined_debit_order"]
    claims = customer_claims(world.a.auth_user_id)
    # When A clears the current primary and PATCHes the declined one primary
    for method_id, primary in ((world.a.rows["accepted_debit_order"][0], False), (declined, True)):
        statement, params = update_statement(
            "customer_payment_methods", {"is_primary": primary}, {"id": method_id}
        )
        answer = api.request(statement, params, claims=claims, method="PATCH")
        # Then both are refused
        assert answer.refused_by_privilege, answer
    assert _method(conn, declined)["is_primary"] is False


def test_a_customer_cannot_insert_a_payment_method_of_their_own_making(conn, world, api):
    # Given a mandate we never requested: chosen id and reference, a signing URL, an amount, backdated
    forged = str(uuid.uuid4())
    row = {
        "id": forged,
        "customer_id": world.a.customer_id,
        "method_type": "debit_order",
        "display_name": "Mine",
        "bank_name": "FNB",
        "branch_code": "250655",
        "account_type": "cheque",
        "account_number_masked": "****9999",
        "account_holder": "A Customer",
        "mandate_reference": forged,
        "mandate_url": "https://attacker.example/sign",
        "mandate_amount": "99999.00",
        "created_at": "2020-01-01T00:00:00Z",
    }
    # When customer A POSTs it to the table directly
    statement, params = insert_statement("customer_payment_methods", row)
    answer = api.request(statement, params, claims=customer_claims(world.a.auth_user_id), method="POST")
    # Then it is refused and no such row exists
    assert answer.refused_by_privilege, answer
    assert conn.execute("select 1 from customer_payment_methods where id = %s", (forged,)).fetchone() is None


def test_a_customer_reads_no_suspension_notes_nor_draft_or_void_invoices(conn, world, api):
    claims = customer_claims(world.a.auth_user_id)
    # When customer A asks for the suspension's reason and notes / Then the columns are refused
    for column in ("notes", "reason", "suspended_by"):
        assert api.request(
            select_statement("service_suspensions", [column]), claims=claims
        ).refused_by_privilege
    # When A lists their invoices with no filter / Then the draft and the void one are not among them
    ids = {
        str(r["id"]) for r in api.request(select_statement("customer_invoices", ["id"]), claims=claims).rows
    }
    assert ids == set(world.a.rows["issued_invoice"])
    # And the fraud suspension (an open investigation) is not shown at all
    suspensions = api.request(select_statement("service_suspensions", ["id"]), claims=claims).rows
    assert {str(r["id"]) for r in suspensions} == set(world.a.rows["suspension_with_notes"])


def test_a_customer_cannot_touch_the_other_customers_payment_methods(conn, world, api):
    # Given B's debit order
    [theirs] = world.b.rows["accepted_debit_order"]
    before = _method(conn, theirs)
    # When A PATCHes it / Then it is refused, and nothing changed
    statement, params = update_statement("customer_payment_methods", {"is_active": False}, {"id": theirs})
    assert api.request(statement, params, claims=customer_claims(world.a.auth_user_id)).refused
    assert _method(conn, theirs) == before


# ---------------------------------------------------------------- idempotency functions


def _their_key(world: World) -> tuple[str, str]:
    return f"POST /api/customer/payment-methods:{world.b.customer_id}", "their-key"


def _key_status(conn: psycopg.Connection, scope: str, key: str) -> str:
    row = conn.execute(
        "select status from idempotency_keys where scope = %s and key = %s", (scope, key)
    ).fetchone()
    assert row is not None
    return row["status"]


@pytest.mark.parametrize("claims", [{"role": "authenticated"}, None], ids=["jwt-without-sub", "no-jwt"])
def test_the_data_api_cannot_complete_another_customers_key_without_a_sub(conn, world, api, claims):
    # Given B's key in progress, and a JWT without `sub` (or none)
    scope, key = _their_key(world)
    # When it completes B's key through POST /rpc/complete_idempotency_key, or claims a key for B
    completed = api.request(
        "select complete_idempotency_key(%s, %s, 201, '{\"forged\": true}')", (scope, key), claims=claims
    )
    claimed = api.request(rpc_statement("public", "claim_idempotency_key", CLAIM_ARGS), claims=claims)
    # Then both are refused, and B's key is still in progress
    assert completed.refused_by_privilege, completed
    assert claimed.refused_by_privilege, claimed
    assert _key_status(conn, scope, key) == "in_progress"


def _api_session(url: str, claims: dict) -> psycopg.Connection:
    """The API's own customer session role (db.customer_session), with any claims, on a new transaction."""
    session = psycopg.connect(url, row_factory=dict_row)
    session.execute(f"set local role {API_CUSTOMER_ROLE}")
    session.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
    return session


def test_the_api_customer_role_without_a_sub_is_refused_by_the_role_check(clean_db, conn, world):
    # Given B's key, and the API's customer role with claims lacking `sub` (a bug upstream, say)
    scope, key = _their_key(world)
    # When it completes B's key, or claims one for B / Then it is refused: a customer role needs a customer
    with (
        _api_session(clean_db, {"role": "authenticated"}) as session,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        session.execute("select complete_idempotency_key(%s, %s, 201, '{}')", (scope, key))
    with (
        _api_session(clean_db, {"role": "authenticated"}) as session,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        session.execute("select * from claim_idempotency_key(%s, 'k', 'h', %s)", (scope, world.b.customer_id))
    assert _key_status(conn, scope, key) == "in_progress"


def test_the_api_customer_role_completes_only_its_own_customers_keys(clean_db, conn, world):
    scope, key = _their_key(world)
    own_scope = f"POST /api/customer/payment-methods:{world.a.customer_id}"
    with db.customer_session(customer_claims(world.a.auth_user_id)) as (session, customer_id):
        # When A's API session completes B's key / Then nothing is completed
        done = session.execute("select complete_idempotency_key(%s, %s, 201, '{}') as done", (scope, key))
        assert done.fetchone()["done"] is False
        # And A's own key can be claimed and completed as before
        claimed = session.execute(
            "select * from claim_idempotency_key(%s, 'mine', 'h', %s)", (own_scope, customer_id)
        ).fetchone()
        assert claimed["claimed"] is True
        done = session.execute("select complete_idempotency_key(%s, 'mine', 201, '{}') as done", (own_scope,))
        assert done.fetchone()["done"] is True
    assert _key_status(conn, scope, key) == "in_progress"
    assert _key_status(conn, own_scope, "mine") == "completed"


def test_the_service_role_still_claims_and_completes_any_key(conn, world):
    scope, key = _their_key(world)
    with db.service_session() as session:
        session.execute("select complete_idempotency_key(%s, %s, 201, '{}')", (scope, key))
    assert _key_status(conn, scope, key) == "completed"
