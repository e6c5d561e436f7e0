"""Helpers for the admin service lifecycle tests: a fake Interstellio the functions talk to, and services."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from isp_billing_cli.fakes import interstellio as fake_interstellio
from tests.environment import settings_environment
from tests.factories import insert_customer, insert_service

INTERSTELLIO_TIMEOUT_SECONDS = "0.3"


@contextmanager
def fake_interstellio_for_functions() -> Iterator[fake_interstellio.FakeInterstellio]:
    """A fake Interstellio, with this process's settings pointing at it (restored afterwards)."""
    fake = fake_interstellio.start()
    values = {
        "INTERSTELLIO_BASE_URL": fake.url,
        "INTERSTELLIO_TELEMETRY_URL": fake.url,
        "INTERSTELLIO_DOMAIN": fake_interstellio.DEFAULT_DOMAIN,
        "INTERSTELLIO_USERNAME": fake_interstellio.DEFAULT_USERNAME,
        "INTERSTELLIO_PASSWORD": fake_interstellio.DEFAULT_PASSWORD,
        "INTERSTELLIO_TIMEOUT_SECONDS": INTERSTELLIO_TIMEOUT_SECONDS,
    }
    try:
        with settings_environment(values):
            yield fake
    finally:
        fake.stop()


def service_with_line(
    conn: psycopg.Connection,
    fake: fake_interstellio.FakeInterstellio | None,
    *,
    status: str = "active",
    subscriber: bool = True,
    customer_id: str | None = None,
    **extra: Any,
) -> tuple[str, str | None]:
    """A service (with `subscriber`: its Interstellio subscriber, enabled iff active); (id, subscriber)."""
    customer_id = customer_id or insert_customer(conn)
    subscriber_id = f"sub-{uuid.uuid4().hex[:10]}" if subscriber else None
    service_id = insert_service(
        conn, customer_id, status=status, interstellio_subscriber_id=subscriber_id, **extra
    )
    if subscriber_id and fake is not None:
        fake.add_subscriber(subscriber_id, f"{subscriber_id}@isp.example", enabled=status == "active")
    return service_id, subscriber_id


def service_row(conn: psycopg.Connection, service_id: str) -> dict[str, Any]:
    row = conn.execute("select * from customer_services where id = %s", (service_id,)).fetchone()
    assert row is not None
    return dict(row)


def log_rows(conn: psycopg.Connection, service_id: str) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in conn.execute(
            "select * from service_action_log where service_id = %s order by created_at, id", (service_id,)
        ).fetchall()
    ]


def suspension_rows(conn: psycopg.Connection, service_id: str) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in conn.execute(
            "select * from service_suspensions where service_id = %s order by suspended_at", (service_id,)
        ).fetchall()
    ]
