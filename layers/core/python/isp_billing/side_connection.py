"""A connection of its own, beside the request's transaction, for intents that must commit before a provider
call while the request's transaction (and its locks) stays open.

The request's transaction may roll back or never commit (the process dies); what is committed here does not
go with it. Every transaction on it runs as `service_role`, set transaction-locally.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from isp_billing import db
from isp_billing.db import Connection


@contextmanager
def opened() -> Iterator[Connection]:
    side = db.connect()
    try:
        yield side
    finally:
        side.close()


@contextmanager
def service_transaction(side: Connection) -> Iterator[Connection]:
    with side.transaction():
        side.execute("select set_config('role', 'service_role', true)")
        yield side
