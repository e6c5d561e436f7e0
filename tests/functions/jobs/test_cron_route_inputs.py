"""The cron routes' input handling: authentication before the body, bounded bodies, declared options only,
and every answer JSON with X-Request-Id (errors problem+json, an unexpected exception too)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from isp_billing_cli.events import LambdaContext, api_gateway_event
from isp_billing_cli.template import function_by_id
from tests.conftest import TEST_CRON_SECRET
from tests.factories import admin_with_token

PURGE_PATH = "/api/cron/purge-idempotency-keys"
BACKFILL_PATH = "/api/admin/backfill/orders"


def _post(
    logical_id: str, path: str, body: str | bytes | None, token: str | None = TEST_CRON_SECRET
) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    event = api_gateway_event("POST", path, path, None, headers, "", body)
    result = function_by_id(logical_id).load_handler()(event, LambdaContext(logical_id))
    response_headers = {key.lower(): value for key, value in result["headers"].items()}
    return result["statusCode"], response_headers, json.loads(result["body"])


def _purge(body: str | bytes | None, token: str | None = TEST_CRON_SECRET):
    return _post("PurgeIdempotencyKeysFunction", PURGE_PATH, body, token)


def _runs(conn) -> int:
    return conn.execute("select count(*) as n from cron_execution_log").fetchone()["n"]


UNDECODABLE_BODIES = {
    "non-utf8": b"\xff\xfe{not json",
    "deep": "[" * 2000 + "]" * 2000,
    "huge": json.dumps({"x": "a" * 1_000_000}),
    "lone-surrogate": '{"x": "\\ud800"}',
    "nul": '{"x": "\\u0000"}',
    "not-json": "{",
}


@pytest.mark.parametrize("name", sorted(UNDECODABLE_BODIES))
def test_without_a_token_any_body_is_401(conn, name):
    # Given no token, and a body the parser would refuse
    # When it is posted / Then the answer is 401 (authentication comes first), problem+json, nothing run
    status, headers, body = _purge(UNDECODABLE_BODIES[name], token=None)
    assert status == 401 and headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"] and body["request_id"] == headers["x-request-id"]
    assert _runs(conn) == 0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("non-utf8", 400),
        ("deep", 400),
        ("huge", 413),
        ("lone-surrogate", 422),
        ("nul", 422),
        ("not-json", 400),
    ],
)
def test_with_the_cron_secret_bad_bodies_are_4xx_problems_and_nothing_is_written(conn, name, expected):
    # Given the cron secret and a body that is too big, undecodable, too deep or carries unsafe text
    # When it is posted
    status, headers, body = _purge(UNDECODABLE_BODIES[name])
    # Then the answer is that 4xx as problem+json with the request id, and no run is logged
    assert status == expected and body["status"] == expected
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-request-id"] == body["request_id"]
    assert _runs(conn) == 0


def test_a_body_just_under_the_limit_is_read(conn):
    # Given a 16 KiB body of whitespace around an empty object / When posted / Then the job runs
    status, _, body = _purge("{}" + " " * (16 * 1024 - 2))
    assert status == 200 and body["status"] == "completed"


@pytest.mark.parametrize(
    "options",
    [
        {"dry_run": "yes"},
        {"dry_run": 1},
        {"since": 20260101},
        {"since": "last week"},
        {"dry_run": True, "x": 1},
    ],
)
def test_backfill_options_are_strict_and_closed(conn, options):
    # Given options of the wrong JSON type or undeclared / When posted / Then 422 naming the field
    status, headers, body = _post("BackfillOrdersFunction", BACKFILL_PATH, json.dumps(options))
    assert status == 422 and headers["content-type"] == "application/problem+json"
    assert body["errors"] and all("input" not in problem for problem in body["errors"])
    assert _runs(conn) == 0


def test_only_declared_options_are_stored_and_echoed(conn):
    # Given a backfill dry run requested with both declared options
    status, _, body = _post(
        "BackfillOrdersFunction", BACKFILL_PATH, '{"dry_run": true, "since": "2026-01-01"}'
    )
    # Then the run's log row and the answer hold exactly them
    assert status == 200
    assert body["details"]["options"] == {"dry_run": True, "since": "2026-01-01"}
    stored = conn.execute("select details from cron_execution_log").fetchone()["details"]
    assert stored["options"] == {"dry_run": True, "since": "2026-01-01"}


def test_an_unexpected_exception_is_a_500_problem_with_the_request_id_logged_by_class(
    conn, monkeypatch, caplog
):
    # Given a run that fails in a way nobody planned for, with personal data in the error's text
    from isp_billing.jobs import runner

    def explode(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("Jane Doe jane@example.co.za")

    monkeypatch.setattr(runner, "run_job", explode)
    _, token = admin_with_token(conn, role="billing_admin")
    # When the route is called
    status, headers, body = _purge("{}", token=token)
    # Then the answer is a 500 problem+json carrying the request id in header and body
    assert status == 500 and headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("/server-error") and headers["x-request-id"] == body["request_id"]
    # And the log names the error's class, never its text
    from isp_billing.observability import logger

    logged = "".join(logger.registered_formatter.format(record) for record in caplog.records)
    assert "RuntimeError" in logged and "jane@example.co.za" not in logged and "Jane Doe" not in logged
