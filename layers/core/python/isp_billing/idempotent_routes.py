"""`Idempotency-Key` for every POST route, applied once by web.py's route class (never per endpoint).

`idempotent(endpoint, route)` wraps a POST endpoint: the wrapper takes the endpoint's own parameters plus the
`Idempotency-Key` header and the request; inside the endpoint's transaction (the CustomerContext /
AdminContext dependency it already takes, whose connection commits after the endpoint returns) it claims the
key, runs the endpoint, and stores the response it would send (status and JSON body) before the transaction
commits, so the key and the effect commit or roll back together (see idempotency.py). A retry with the same
key and request replays the stored response (`Idempotent-Replayed: true`); the same key with another
request (path or body) is 422.

Left alone: an endpoint that declares the header itself (it runs idempotency inside its service, e.g. a
provider call between transactions), and an endpoint without a signed-in caller's context (the NetCash
webhook, authenticated by its URL token and deduplicated per delivery instead).
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, Protocol

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter

from isp_billing import idempotency

_REQUEST_PARAM = "idempotency_request__"
_KEY_PARAM = "idempotency_key__"


class _Route(Protocol):
    path: str
    response_model: Any
    status_code: int | None


def declares_key_itself(endpoint: Callable[..., Any]) -> bool:
    for parameter in inspect.signature(endpoint).parameters.values():
        if (
            parameter.annotation is idempotency.IdempotencyKey
            or parameter.annotation == "idempotency.IdempotencyKey"
        ):
            return True
    return False


def _context(kwargs: dict[str, Any]) -> Any:
    """The signed-in caller's context (customer or admin) among the endpoint's arguments, if any."""
    for value in kwargs.values():
        if hasattr(value, "conn") and (hasattr(value, "customer") or hasattr(value, "admin")):
            return value
    return None


def _request_for(
    context: Any, route: str, path: str, body: Any, key: str | None
) -> idempotency.IdempotentRequest:
    if hasattr(context, "customer"):
        return idempotency.IdempotentRequest.for_customer(
            route=route, path=path, body=body, key=key, customer_id=context.customer.customer_id
        )
    return idempotency.IdempotentRequest.for_admin(
        route=route, path=path, body=body, key=key, admin_id=context.admin.admin_id
    )


async def _parsed_body(request: Request) -> Any:
    raw = await request.body()  # already read (and cached) by FastAPI for the body parameter
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def _sent(result: Any, route: _Route, sub_response: Response | None) -> tuple[int, Any, Response | None]:
    """(status, JSON body, the response itself when the endpoint built one) of what the endpoint returned."""
    if isinstance(result, Response):
        raw = bytes(result.body) if result.body else b""
        return result.status_code, json.loads(raw) if raw else None, result
    status = (sub_response.status_code if sub_response is not None else None) or route.status_code or 200
    if route.response_model is None:
        return status, TypeAdapter(Any).dump_python(result, mode="json"), None
    adapter: TypeAdapter[Any] = TypeAdapter(route.response_model)
    return (
        status,
        adapter.dump_python(adapter.validate_python(result, from_attributes=True), mode="json"),
        None,
    )


def idempotent(endpoint: Callable[..., Any], route: Callable[[], _Route]) -> Callable[..., Any]:
    """The POST endpoint wrapped so it honours `Idempotency-Key` (see the module docstring)."""
    signature = inspect.signature(endpoint)
    sub_response_param = next(
        (name for name, param in signature.parameters.items() if param.annotation in (Response, "Response")),
        None,
    )

    @functools.wraps(endpoint)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        request: Request = kwargs.pop(_REQUEST_PARAM)
        key: str | None = kwargs.pop(_KEY_PARAM)
        context = _context(kwargs)

        async def call() -> Any:
            result = endpoint(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        if context is None or key is None:
            return await call()
        this_route = route()
        claim = _request_for(
            context, f"POST {this_route.path}", request.url.path, await _parsed_body(request), key
        )
        replay = idempotency.begin(context.conn, claim)
        if replay is not None:
            return idempotency.response(replay)
        result = await call()
        sub_response = kwargs.get(sub_response_param) if sub_response_param else None
        status, body, built = _sent(result, this_route, sub_response)
        idempotency.finish(context.conn, claim, status, body)
        if built is not None:
            return built
        return JSONResponse(body, status_code=status)

    extra = [
        inspect.Parameter(_REQUEST_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter(
            _KEY_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=idempotency.IdempotencyKey, default=None
        ),
    ]
    params = list(signature.parameters.values())
    keyword_only = [p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    others = [p for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    wrapper.__signature__ = signature.replace(parameters=[*others, *keyword_only, *extra])  # type: ignore[attr-defined]
    return wrapper
