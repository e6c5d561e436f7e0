"""Closing the backfill's leftovers on real connections: two admins racing for one validation error or one
review item (exactly one wins, the other is told the current state), and dismissed orders of a data set."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from isp_billing import db
from isp_billing.auth import AdminPrincipal
from isp_billing.backfill import orders as order_backfill
from isp_billing.backfill import review as migration_review
from isp_billing.backfill.models import DismissReviewRequest, ResolveValidationErrorRequest
from isp_billing.errors import InvalidState
from isp_billing.jobs import run_job
from tests import order_fixtures
from tests.concurrency import wait_until_a_session_waits_for_a_lock
from tests.events import call_api
from tests.factories import admin_with_token, insert_admin


def _principal(conn, role: str = "billing_admin") -> AdminPrincipal:
    admin_id, auth_id = insert_admin(conn, role=role)
    row = conn.execute("select email, full_name from admin_users where id = %s", (admin_id,)).fetchone()
    return AdminPrincipal(
        admin_id=uuid.UUID(admin_id),
        auth_user_id=uuid.UUID(auth_id),
        role=role,  # type: ignore[arg-type]
        email=row["email"],
        full_name=row["full_name"],
    )


def _order(conn, number: str) -> str:
    return str(
        conn.execute(
            "insert into consumer_orders (order_number, first_name, last_name, email, status)"
            " values (%s, 'Thandi', 'Mokoena', %s, 'pending') returning id",
            (number, f"{number.lower()}@example.co.za"),
        ).fetchone()["id"]
    )


def _open_error(conn, number: str) -> str:
    order_id = _order(conn, number)
    return str(
        conn.execute(
            "insert into validation_errors (source, record_type, record_id, record_ref, error_code, message)"
            " values ('order_backfill', 'consumer_order', %s, %s, 'unknown_package', 'No such package.')"
            " returning id",
            (order_id, number),
        ).fetchone()["id"]
    )


def _open_item(conn, number: str) -> str:
    order_id = _order(conn, number)
    return str(
        conn.execute(
            "insert into migration_review_queue (consumer_order_id, reason) values (%s, 'shared_phone')"
            " returning id",
            (order_id,),
        ).fetchone()["id"]
    )


def _resolve_error(conn: db.Connection, admin: AdminPrincipal, target: str, note: str) -> Any:
    return migration_review.resolve_validation_error(
        conn, admin, uuid.UUID(target), ResolveValidationErrorRequest(note=note)
    )


def _dismiss_item(conn: db.Connection, admin: AdminPrincipal, target: str, note: str) -> Any:
    return migration_review.dismiss(conn, admin, uuid.UUID(target), DismissReviewRequest(note=note))


KINDS: dict[str, dict[str, Any]] = {
    "resolve-error": {
        "arrange": _open_error,
        "act": _resolve_error,
        "function": "AdminValidationErrorResolveFunction",
        "path": "/api/admin/validation-errors/{}/resolve",
        "state": "select resolved_by as by, resolution_note as note from validation_errors where id = %s",
    },
    "dismiss-item": {
        "arrange": _open_item,
        "act": _dismiss_item,
        "function": "AdminReviewQueueDismissFunction",
        "path": "/api/admin/review-queue/{}/dismiss",
        "state": "select decided_by as by, decision_note as note from migration_review_queue where id = %s",
    },
}


def _in_own_transaction(act: Callable[[db.Connection], Any], out: dict[str, Any], hold=None) -> None:
    """Run `act` on a connection of its own as the service role; `hold` runs before the commit."""
    connection = db.connect()
    try:
        with connection.transaction():
            connection.execute("select set_config('role', 'service_role', true)")
            out["result"] = act(connection)
            if hold is not None:
                hold()
    except Exception as error:  # surfaced by the test's assertions
        out["error"] = error
    finally:
        connection.close()


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_second_admin_waits_for_the_first_and_gets_409(conn, kind):
    spec = KINDS[kind]
    # Given an open record, admin A on a connection of their own and admin B calling the Lambda function
    target = spec["arrange"](conn, "ORD-RACE")
    admin_a = _principal(conn, "billing_admin")
    _, token_b = admin_with_token(conn, role="super_admin")
    decided, release, a_out, b_out = threading.Event(), threading.Event(), {}, {}

    def hold() -> None:
        decided.set()
        assert release.wait(15), "the test never released admin A"

    # When A has written its decision but not committed yet
    thread_a = threading.Thread(
        target=_in_own_transaction,
        args=(lambda c: spec["act"](c, admin_a, target, "A decided."), a_out, hold),
    )
    thread_a.start()
    assert decided.wait(10)

    def admin_b() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())  # as the local gateway does for its worker threads
        b_out["response"] = call_api(
            spec["function"], "POST", spec["path"].format(target), token=token_b, body={"note": "B decided."}
        )

    # And B decides the same record meanwhile: its conditional update waits for A's row lock
    thread_b = threading.Thread(target=admin_b)
    thread_b.start()
    wait_until_a_session_waits_for_a_lock(conn)
    assert conn.execute(spec["state"], (target,)).fetchone()["by"] is None  # nothing committed yet
    release.set()
    thread_a.join(20)
    thread_b.join(20)
    # Then A won, and B was checked against A's committed result: 409 naming A
    assert "error" not in a_out, a_out.get("error")
    status, _, problem = b_out["response"]
    assert status == 409, problem
    assert problem["resolved_by" if kind == "resolve-error" else "decided_by"] == str(admin_a.admin_id)
    state = conn.execute(spec["state"], (target,)).fetchone()
    assert (state["by"], state["note"]) == (admin_a.admin_id, "A decided.")


@pytest.mark.parametrize("kind", list(KINDS))
def test_two_admins_starting_together_exactly_one_succeeds(conn, kind):
    spec = KINDS[kind]
    # Given eight open records and two admins
    targets = [spec["arrange"](conn, f"ORD-DUO{i}") for i in range(8)]
    admins = [_principal(conn, "billing_admin"), _principal(conn, "super_admin")]
    for target in targets:
        # When both decide the same record at the same moment, each on its own connection
        start = threading.Barrier(2)
        outs: list[dict[str, Any]] = [{}, {}]

        def act(admin: AdminPrincipal, out: dict[str, Any], start: threading.Barrier, target: str) -> None:
            def decide(c: db.Connection) -> Any:
                start.wait(10)  # both transactions are open: they update the row at the same moment
                return spec["act"](c, admin, target, f"by {admin.role}")

            _in_own_transaction(decide, out)

        threads = [threading.Thread(target=act, args=(admins[i], outs[i], start, target)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
        # Then exactly one succeeds and the other is refused with the current state
        winners = [i for i, out in enumerate(outs) if "result" in out]
        losers = [i for i, out in enumerate(outs) if "error" in out]
        assert len(winners) == 1 and len(losers) == 1, outs
        assert isinstance(outs[losers[0]]["error"], InvalidState)
        state = conn.execute(spec["state"], (target,)).fetchone()
        assert (state["by"], state["note"]) == (
            admins[winners[0]].admin_id,
            f"by {admins[winners[0]].role}",
        )


def test_dismissed_orders_of_a_data_set_are_skipped_and_the_rest_is_untouched(conn):
    # Given a data set backfilled once, and every review item dismissed
    data = order_fixtures.generate(1_000, seed=13)
    order_fixtures.load(conn, data)
    run_job(order_backfill.JOB_NAME, order_backfill.run, trigger="manual")
    expected = data.expected()
    queued = sum(expected["review_queued"].values())
    admin = _principal(conn)
    items = [str(r["id"]) for r in conn.execute("select id from migration_review_queue").fetchall()]
    assert len(items) == queued > 0
    for item in items:
        out: dict[str, Any] = {}
        _in_own_transaction(lambda c, item=item: _dismiss_item(c, admin, item, "Not migrating."), out)
        assert "result" in out, out
    # When the backfill runs again
    again = run_job(order_backfill.JOB_NAME, order_backfill.run, trigger="manual")
    # Then it takes no order, queues nothing, and counts the dismissed orders apart from the errors
    assert again["details"]["orders"] == 0 and again["details"]["review_queued"] == {}
    assert again["details"]["skipped"] == {
        "open_review": 0,
        "unresolved_error": sum(expected["validation_errors"].values()),
        "dismissed": queued,
    }
    assert again["records_skipped"] == queued + sum(expected["validation_errors"].values())
    counts = conn.execute(
        "select count(*) filter (where status = 'dismissed') as dismissed, count(*) as total"
        " from migration_review_queue"
    ).fetchone()
    assert (counts["dismissed"], counts["total"]) == (queued, queued)
