"""`isp-billing serve` runs several functions' requests at once in one process: each log line carries its own
request's function name and correlation id, never another's."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid

import httpx
import pytest

from isp_billing.observability import logger
from isp_billing_cli.gateway import create_gateway
from tests.factories import admin_with_token, customer_with_token


@pytest.fixture
def json_logs():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def test_concurrent_requests_log_their_own_function_and_correlation_id(conn, json_logs):
    # Given a customer and an admin, and requests for two functions that each log a refusal (404) after a
    # database round trip
    _, customer_token = customer_with_token(conn)
    _, admin_token = admin_with_token(conn, role="support")
    gateway = create_gateway()
    expected: dict[str, str] = {}

    async def one(index: int) -> int:
        if index % 2:
            path, token, function = (
                f"/api/customer/services/{uuid.uuid4()}",
                customer_token,
                "CustomerServiceGetFunction",
            )
        else:
            path, token, function = (
                f"/api/admin/services/{uuid.uuid4()}",
                admin_token,
                "AdminServiceGetFunction",
            )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway), base_url="http://local"
        ) as client:
            response = await client.get(path, headers={"authorization": f"Bearer {token}"})
        expected[response.headers["x-request-id"]] = function  # the API Gateway request id of this call
        return response.status_code

    async def all_at_once() -> list[int]:
        return await asyncio.gather(*(one(index) for index in range(24)))

    # When they run concurrently
    statuses = asyncio.run(all_at_once())
    # Then every answer is the 404 it should be
    assert statuses == [404] * 24
    # And each refusal line names its own request's function, and only its own request's keys
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines() if line.startswith("{")]
    refusals = [line for line in lines if line.get("message") == "request refused"]
    assert len(refusals) == 24
    for line in refusals:
        function = expected[line["correlation_id"]]
        assert line["function_name"] == function, line
        if function == "CustomerServiceGetFunction":
            assert "admin_id" not in line and line["path"].startswith("/api/customer/")
        else:
            assert "customer_id" not in line and line["path"].startswith("/api/admin/")


@pytest.mark.parametrize(
    "method,path",
    [
        ("POST", "/api/admin/services/%0A/reactivate"),  # the fuzzer's text/plain 404
        ("GET", "/api/customer/services/%0A"),
        ("GET", "/nowhere"),
    ],
)
def test_the_local_gateway_answers_unknown_paths_with_problem_json(clean_db, method, path):
    # Given the local API Gateway / When a path matches no route (a newline in a parameter included)
    with _client() as client:
        response = client.request(method, path)
    # Then 404 problem+json with a request id
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] and response.json()["status"] == 404


def test_the_local_gateway_answers_a_wrong_method_with_405_and_allow(clean_db):
    with _client() as client:
        response = client.request("PUT", "/api/customer/services")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.headers["content-type"] == "application/problem+json"


def _client():
    from starlette.testclient import TestClient

    return TestClient(create_gateway())
