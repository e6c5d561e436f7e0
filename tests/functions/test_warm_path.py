"""A warm invocation of an HTTP function runs on the calling thread and its event loop, start to finish.

FastAPI hands plain `def` endpoints and dependencies (and a sync endpoint's response validation) to anyio's
worker threads; Mangum drives the app on the thread's event loop. On Lambda every hop is overhead
(issue 10, section 5), so a warm request must make none, and must reuse the loop it ran on before.
"""

import asyncio

import anyio.to_thread

from tests.events import call_api
from tests.factories import admin_with_token, customer_with_token, insert_service

LIST_METHODS = ("CustomerPaymentMethodsListFunction", "GET", "/api/customer/payment-methods")


def test_a_warm_customer_request_makes_no_worker_thread_hop(conn, monkeypatch):
    # Given a customer and the list function, warmed by one call
    _, token = customer_with_token(conn)
    assert call_api(*LIST_METHODS, token=token)[0] == 200
    hops = []
    real_run_sync = anyio.to_thread.run_sync

    async def counting_run_sync(func, *args, **kwargs):
        hops.append(getattr(func, "__qualname__", repr(func)))
        return await real_run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_run_sync)
    # When it is called again
    status, _, body = call_api(*LIST_METHODS, token=token)
    # Then it answered without handing anything to a worker thread
    assert status == 200 and body == []
    assert hops == []


def test_a_warm_admin_request_with_a_body_makes_no_worker_thread_hop(conn, monkeypatch):
    # Given an admin and an active service, and the activate function warmed by one (refused) call
    customer_id, _ = customer_with_token(conn)
    service_id = insert_service(conn, customer_id, status="pending")
    _, token = admin_with_token(conn)
    activate = ("AdminServiceActivateFunction", "POST", f"/api/admin/services/{service_id}/activate")
    assert call_api(*activate, token="not-a-token")[0] == 401
    hops = []
    real_run_sync = anyio.to_thread.run_sync

    async def counting_run_sync(func, *args, **kwargs):
        hops.append(getattr(func, "__qualname__", repr(func)))
        return await real_run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_run_sync)
    # When it activates the service (admin dependency, body, endpoint, response model)
    status, _, body = call_api(*activate, token=token, body={"reason": "installed"})
    # Then it worked, on the event loop alone
    assert status == 200 and body["service"]["status"] == "active"
    assert hops == []


def test_warm_invocations_reuse_one_event_loop(conn, monkeypatch):
    # Given a customer and the list function
    _, token = customer_with_token(conn)
    loops = []
    real_run_until_complete = asyncio.BaseEventLoop.run_until_complete

    def recording_run_until_complete(loop, future):
        loops.append(loop)
        return real_run_until_complete(loop, future)

    monkeypatch.setattr(asyncio.BaseEventLoop, "run_until_complete", recording_run_until_complete)
    # When it is invoked three times on this thread
    for _ in range(3):
        assert call_api(*LIST_METHODS, token=token)[0] == 200
    # Then all three ran on the same, still open, event loop (no loop, and no thread, per invocation)
    assert len(loops) == 3 and len({id(loop) for loop in loops}) == 1
    assert not loops[0].is_closed()
