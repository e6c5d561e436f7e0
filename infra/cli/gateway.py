"""A local API Gateway: each HTTP request becomes an API Gateway proxy event for the function that owns the
route in template.yaml, whose `handler` runs in-process. Local behaviour is Lambda behaviour.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.resources
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.openapi.docs import get_swagger_ui_html
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount
from starlette.routing import Route as StarletteRoute
from starlette.staticfiles import StaticFiles

from isp_billing.errors import problem_body
from isp_billing.settings import get_settings
from isp_billing_cli.events import LambdaContext, api_gateway_event
from isp_billing_cli.openapi import build_openapi
from isp_billing_cli.template import Function, Route, functions


class RouteTable:
    def __init__(self) -> None:
        self._entries: list[tuple[Route, Function]] = [
            (route, function) for function in functions() for route in function.routes
        ]
        # Static segments beat {params} (as in API Gateway): sort params last.
        self._entries.sort(key=lambda entry: entry[0].path.count("{"))
        # One Lambda execution environment per function: one request at a time each.
        self._locks = {function.logical_id: threading.Lock() for _, function in self._entries}

    def match(self, method: str, path: str) -> tuple[Route, Function, dict[str, str]] | None:
        for route, function in self._entries:
            found = route.pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, function, found.groupdict()
        return None

    def allowed_methods(self, path: str) -> list[str]:
        return sorted({route.method for route, _ in self._entries if route.pattern.match(path)})

    def invoke(self, function: Function, event: dict[str, Any]) -> dict[str, Any]:
        handler = function.load_handler()
        with self._locks[function.logical_id]:
            return handler(event, LambdaContext(function.logical_id))


def _to_response(result: dict[str, Any]) -> Response:
    body = result.get("body") or ""
    content = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
    headers = dict(result.get("headers") or {})
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = values[-1]
    headers.pop("content-length", None)
    headers.pop("Content-Length", None)
    return Response(content=content, status_code=int(result.get("statusCode", 200)), headers=headers)


def _no_route(request: Request, allowed: list[str]) -> Response:
    """API Gateway's own 404/405, in the API's problem+json with a request id (and Allow for a 405)."""
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    headers = {"X-Request-Id": request_id}
    if allowed:
        status, title, slug = 405, "Method not allowed", "method-not-allowed"
        detail = "This path does not accept this method; see the Allow header."
        headers["Allow"] = ", ".join(allowed)
    else:
        status, title, slug = 404, "Not found", "not-found"
        detail = "There is nothing at this path."
    body = problem_body(status, title, detail, slug, {"request_id": request_id})
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


CORS_ALLOWED_HEADERS = "Authorization,Content-Type,Idempotency-Key,X-Request-Id"


def _preflight(request: Request, methods: list[str]) -> Response:
    """What API Gateway's CORS mock integration answers to a browser's OPTIONS preflight."""
    headers = {
        "Access-Control-Allow-Methods": ",".join([*methods, "OPTIONS"]),
        "Access-Control-Allow-Headers": CORS_ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
    }
    origin = request.headers.get("origin", "")
    if origin.rstrip("/") in get_settings().cors_origins:
        headers["Access-Control-Allow-Origin"] = origin
    return Response(status_code=204, headers=headers)


# Swagger UI's files from a pinned package (swagger-ui-py, dev dependency), not a CDN: /docs works offline.
DOCS_ASSETS = "/docs/assets"


def _swagger_ui_folder() -> str:
    return str(importlib.resources.files("swagger_ui") / "static")


def create_gateway() -> Starlette:
    table = RouteTable()
    workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lambda")
    for _, function in table._entries:  # import every handler now: a broken function fails at start
        function.load_handler()
    spec = build_openapi()

    async def openapi(_: Request) -> JSONResponse:
        return JSONResponse(spec)

    async def docs(_: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="ISP billing API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            # Swagger UI would otherwise ask an online validator about the spec.
            swagger_ui_parameters={"validatorUrl": None},
        )

    async def dispatch(request: Request) -> Response:
        if request.method == "OPTIONS" and table.allowed_methods(request.url.path):
            return _preflight(request, table.allowed_methods(request.url.path))
        matched = table.match(request.method, request.url.path)
        if matched is None:
            return _no_route(request, table.allowed_methods(request.url.path))
        route, function, params = matched
        body = await request.body()
        event = api_gateway_event(
            request.method,
            route.path,
            request.url.path,
            params,
            dict(request.headers),
            request.url.query,
            body or None,
        )
        result = await asyncio.get_running_loop().run_in_executor(workers, table.invoke, function, event)
        return _to_response(result)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
    return Starlette(
        routes=[
            StarletteRoute("/openapi.json", openapi, methods=["GET"]),
            StarletteRoute("/docs", docs, methods=["GET"]),
            Mount(DOCS_ASSETS, app=StaticFiles(directory=_swagger_ui_folder()), name="docs-assets"),
            StarletteRoute("/{path:path}", dispatch, methods=methods),
        ],
        # A path Starlette's own router cannot match (`{path:path}` stops at a newline, `%0A`) or a method
        # it refuses: the same problem+json as an unknown route, never Starlette's text/plain.
        exception_handlers={
            404: lambda request, _: _no_route(request, []),
            405: lambda request, _: _no_route(request, table.allowed_methods(request.url.path) or ["GET"]),
        },
    )
