"""Helpers for tests that make two sessions really overlap."""

from __future__ import annotations

import time
from typing import Any

import psycopg


def wait_until_a_session_waits_for_a_lock(conn: psycopg.Connection[Any], timeout: float = 10.0) -> None:
    """Return once another session of this database is blocked on a lock (e.g. a row lock held by A)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "select count(*) as n from pg_stat_activity"
            " where datname = current_database() and wait_event_type = 'Lock'"
        ).fetchone()
        if waiting and (waiting["n"] if isinstance(waiting, dict) else waiting[0]):
            return
        time.sleep(0.02)
    raise AssertionError("the second session never waited for the first one's lock")
