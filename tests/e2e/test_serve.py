"""`isp-billing serve --demo` started as a user starts it: a subprocess on a fresh data folder, over HTTP."""

import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.demo_server import DemoServer


@pytest.fixture(scope="module")
def data_dir() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="ispb-e2e-")
    yield folder
    subprocess.run(["rm", "-rf", folder], check=False)


@pytest.fixture(scope="module")
def server(data_dir) -> Iterator[DemoServer]:
    running = DemoServer(data_dir)
    running.first_response_seconds()
    yield running
    running.stop()


def test_the_printed_customer_token_returns_that_customers_services(server):
    # Given the demo server and the customer token it printed
    token = server.values["CUSTOMER_TOKEN"]
    # When the customer lists their services over HTTP
    response = httpx.get(f"{server.base}/api/customer/services", headers={"Authorization": f"Bearer {token}"})
    # Then the demo customer's two services come back, prices as strings
    assert response.status_code == 200
    assert {item["package_name"] for item in response.json()} == {"Fibre 50/50", "LTE 100GB"}
    assert {item["monthly_price"] for item in response.json()} == {"699.00", "399.00"}


def test_no_token_is_401_problem_json_over_http(server):
    response = httpx.get(f"{server.base}/api/customer/billing")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_the_merged_openapi_and_docs_are_served(server):
    spec = httpx.get(f"{server.base}/openapi.json").json()
    assert "/api/customer/services" in spec["paths"] and "/api/customer/billing" in spec["paths"]
    assert httpx.get(f"{server.base}/docs").status_code == 200


def test_docs_reference_only_local_assets_and_the_server_serves_them(server):
    # Given the running server's /docs page
    page = httpx.get(f"{server.base}/docs")
    assert page.status_code == 200
    # When we collect every URL the page loads (scripts, stylesheets, icons) or points Swagger UI at
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
    # Then none is on another host (no CDN: the page works offline), no online validator is asked ...
    assert referenced, page.text
    assert all(url.startswith("/") and not url.startswith("//") for url in referenced), referenced
    assert "validator.swagger.io" not in page.text and '"validatorUrl": null' in page.text
    # ... and each is served by the server itself, with its content type
    for url in referenced:
        asset = httpx.get(f"{server.base}{url}")
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url
    types = {
        url.rsplit(".", 1)[-1]: httpx.get(f"{server.base}{url}").headers["content-type"] for url in referenced
    }
    assert types["js"].startswith(("application/javascript", "text/javascript"))
    assert types["css"].startswith("text/css")
    assert types["json"].startswith("application/json")


def test_concurrent_requests_to_async_handlers_each_get_their_own_answer(server):
    # Given what each caller should see when alone
    customer, admin = server.values["CUSTOMER_TOKEN"], server.values["ADMIN_TOKEN"]
    calls = [
        ("/api/customer/services", customer),
        ("/api/customer/billing", customer),
        ("/api/customer/payment-methods", customer),
        ("/api/admin/services?limit=5", admin),
        ("/api/customer/billing", None),
    ]
    alone = {(path, token): server.get(path, token) for path, token in calls}
    # When 40 of them arrive at once, the same functions several times over (threads, one loop each)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda call: (call, server.get(*call)), calls * 8))
    # Then every answer is the one that caller gets alone, with its own request id
    for call, response in answers:
        assert response.status_code == alone[call].status_code, (call, response.text)
        assert response.json() == alone[call].json() or call[1] is None, call
        if call[1] is None:
            assert response.json()["status"] == 401
    request_ids = [response.headers["x-request-id"] for _, response in answers]
    assert len(set(request_ids)) == len(answers)


def test_an_unknown_route_is_404(server):
    response = httpx.get(f"{server.base}/api/nowhere")
    assert response.status_code == 404


def test_a_browser_preflight_is_answered_like_api_gateway(server):
    # Given the local dashboard origin / When the browser sends a preflight / Then it is allowed
    response = httpx.options(
        f"{server.base}/api/customer/services",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "Authorization" in response.headers["access-control-allow-headers"]


def test_stopping_the_server_stops_its_embedded_postgresql(server, data_dir):
    # Given the running server / When it is stopped as a service manager or Ctrl-C would stop it
    server.stop()
    # Then its embedded PostgreSQL stops too (nothing left running, the data folder kept)
    postmaster_pid = Path(data_dir) / "postgres" / "postmaster.pid"
    for _ in range(100):
        if not postmaster_pid.exists():
            break
        time.sleep(0.05)
    assert not postmaster_pid.exists()
    assert (Path(data_dir) / "postgres" / "PG_VERSION").exists()


def test_a_restart_reuses_the_data_folder_and_seeds_nothing_twice(server, data_dir):
    # Given the first server has stopped
    server.stop()
    # When it starts again on the same folder
    again = DemoServer(data_dir)
    try:
        seconds = again.first_response_seconds()
        token = again.values["CUSTOMER_TOKEN"]
        response = httpx.get(
            f"{again.base}/api/customer/services", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        again.stop()
    # Then the same two services are there (demo data not loaded twice), answered promptly
    assert response.status_code == 200 and len(response.json()) == 2
    print(f"first response on an existing data folder: {seconds:.2f}s")
