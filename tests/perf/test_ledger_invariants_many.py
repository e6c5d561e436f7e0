"""The ledger's invariants (tests/integration/ledger/test_ledger_invariants.py) over many more sequences than
the default suite runs: `make perf`."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings

from tests.integration.ledger.test_ledger_invariants import EVENTS, run_property

pytestmark = pytest.mark.perf


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=EVENTS)
def test_no_sequence_of_money_events_loses_or_invents_money_many(conn: psycopg.Connection, events) -> None:
    # Given a new customer / When the events happen in this order / Then every invariant holds
    run_property(conn, events)
