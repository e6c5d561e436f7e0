"""Counting database round trips from libpq's protocol trace (`PGconn.trace`).

Every frontend `Sync` (the end of an extended-protocol statement) or simple `Query` message is one round
trip to the server.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import psycopg


def round_trips(conn: psycopg.Connection[Any], call: Callable[[], object]) -> int:
    with tempfile.TemporaryFile(mode="w+") as trace:
        conn.pgconn.trace(trace.fileno())
        try:
            call()
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        # Each line: timestamp, direction (F frontend / B backend), length, message and its fields.
        messages = [
            parts[3].split()[0]
            for parts in (line.split("\t") for line in trace)
            if len(parts) > 3 and parts[1] == "F"
        ]
    return sum(1 for message in messages if message in {"Sync", "Query"})
