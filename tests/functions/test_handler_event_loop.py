"""An HTTP function's handler owns its event loop: nothing else in the process can take it away."""

from __future__ import annotations

import asyncio

from tests.events import call_api
from tests.factories import customer_with_token

LIST_METHODS = ("CustomerPaymentMethodsListFunction", "GET", "/api/customer/payment-methods")


async def _nothing() -> None:
    return None


def test_a_handler_still_answers_after_asyncio_run_cleared_the_threads_loop(conn):
    # Given a customer, a warm function, and code elsewhere in the process that then ran `asyncio.run` on
    # this thread, which leaves the thread with no current event loop (Mangum's get_event_loop() raised)
    _, token = customer_with_token(conn)
    assert call_api(*LIST_METHODS, token=token)[0] == 200
    asyncio.run(_nothing())

    # When the customer calls the function
    status, headers, body = call_api(*LIST_METHODS, token=token)

    # Then it answers as usual
    assert status == 200, body
    assert body == []
    assert headers["x-request-id"]
