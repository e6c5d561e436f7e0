"""idempotency.run against a real PostgreSQL (issue 10, section 6): at most one effect per key, the stored
response replayed, a reused key refused, a failed effect leaving no key behind. Each test pins a rule a
mutant of idempotency.py would break."""

from __future__ import annotations

import pytest

from isp_billing import db, idempotency
from isp_billing import idempotency_sql as repository
from isp_billing.errors import Conflict, ValidationFailed
from isp_billing.idempotency import IdempotentRequest, Outcome

SCOPE = "POST /api/admin/things:test"


def _request(key: str | None, body: dict | None = None) -> IdempotentRequest:
    if key is None:
        return IdempotentRequest(SCOPE, None, "", None)
    return IdempotentRequest(SCOPE, key, idempotency.fingerprint(SCOPE, key, "/api/admin/things", body), None)


def _run(request: IdempotentRequest, effects: list[str], status: int = 201, body=None) -> Outcome:
    def effect():
        effects.append(request.key or "no-key")
        return status, body if body is not None else {"n": len(effects)}

    with db.service_session() as conn:
        return idempotency.run(conn, request, effect)


def test_without_a_key_every_request_runs_its_effect(clean_db):
    effects: list[str] = []
    first, second = _run(_request(None), effects), _run(_request(None), effects)
    assert effects == ["no-key", "no-key"]
    assert first == Outcome(201, {"n": 1}) and second == Outcome(201, {"n": 2})


def test_a_retry_with_the_same_key_replays_the_first_response_and_runs_nothing(clean_db, conn, caplog):
    # Given a first request with a key
    effects: list[str] = []
    first = _run(_request("k-1", {"a": 1}), effects)
    caplog.clear()
    # When the same request is retried with the same key
    retry = _run(_request("k-1", {"a": 1}), effects)
    # Then the effect ran once, the retry is the first response marked replayed, and the row is completed
    assert effects == ["k-1"]
    assert first == Outcome(201, {"n": 1}, replayed=False)
    assert retry == Outcome(201, {"n": 1}, replayed=True)
    row = conn.execute("select status, response_status from idempotency_keys where key = 'k-1'").fetchone()
    assert row == {"status": "completed", "response_status": 201}
    # And the replay is logged with the route only, not the caller's part of the scope
    replays = [record for record in caplog.records if record.getMessage() == "idempotent replay"]
    assert [getattr(record, "scope", None) for record in replays] == ["POST /api/admin/things"]


def test_a_response_without_a_body_is_replayed_without_one(clean_db):
    effects: list[str] = []

    def effect():
        effects.append("ran")
        return 204, None

    for _ in range(2):
        with db.service_session() as session:
            outcome = idempotency.run(session, _request("k-empty", {}), effect)
    assert effects == ["ran"] and outcome == Outcome(204, None, replayed=True)


def test_the_same_key_for_a_different_request_is_refused_and_runs_nothing(clean_db):
    effects: list[str] = []
    _run(_request("k-2", {"a": 1}), effects)
    with pytest.raises(ValidationFailed, match="already used for a different request") as refused:
        _run(_request("k-2", {"a": 2}), effects)
    assert refused.value.extra == {"field": "idempotency-key"}
    assert effects == ["k-2"]


def test_a_key_claimed_but_never_completed_is_a_conflict_not_a_second_effect(clean_db):
    # Given a key some holder committed without completing (only a bug could do that)
    request = _request("k-3", {"a": 1})
    with db.service_session() as session:
        repository.claim(session, request.scope, request.key, request.request_hash, None)
    # When the request arrives / Then 409, and the effect does not run
    effects: list[str] = []
    with pytest.raises(Conflict, match="still in progress"):
        _run(request, effects)
    assert effects == []


def test_a_failed_effect_takes_its_key_with_the_rollback_so_a_retry_runs_afresh(clean_db, conn):
    request = _request("k-4", {"a": 1})

    def failing():
        raise RuntimeError("the provider fell over")

    with pytest.raises(RuntimeError), db.service_session() as session:
        idempotency.run(session, request, failing)
    assert conn.execute("select count(*) as n from idempotency_keys").fetchone() == {"n": 0}
    effects: list[str] = []
    assert _run(request, effects) == Outcome(201, {"n": 1})
    assert effects == ["k-4"]


def test_a_reused_key_is_refused_whichever_request_hash_sorts_first(clean_db):
    # Given two different requests, sent under one key in both orders (so one retry has the smaller hash)
    bodies = [{"a": 1}, {"a": 2}]
    for key, order in (("k-5", bodies), ("k-6", bodies[::-1])):
        effects: list[str] = []
        _run(_request(key, order[0]), effects)
        # When the other one comes with the same key / Then it is refused, never replayed
        with pytest.raises(ValidationFailed):
            _run(_request(key, order[1]), effects)
        assert effects == [key]
