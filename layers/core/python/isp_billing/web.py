"""The FastAPI app factory every HTTP function uses, its auth dependencies, and the Lambda adapter.

Errors are mapped to RFC 9457 problem+json here, once. A request's id is the API Gateway request id (or an
incoming X-Request-Id locally) and is put on every log line and on the response.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from mangum import Mangum
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isp_billing import admins_sql as admins
from isp_billing import auth, idempotent_routes
from isp_billing.db import Connection, customer_session, service_session
from isp_billing.errors import (
    ConfigurationError,
    DomainError,
    Forbidden,
    UnexpectedError,
    from_database_error,
    problem_body,
)
from isp_billing.observability import bind, log_failure, logger, metrics, per_request_log_context, traced
from isp_billing.settings import get_settings

PROBLEM_JSON = "application/problem+json"
CORS_EXPOSED_HEADERS = "X-Request-Id"


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    members: dict[str, Any] = {}
    all_headers = dict(headers or {})
    if request is not None:
        request_id = _request_id_of(request)
        members = {"instance": request.url.path, "request_id": request_id}
        # Here as well as in the middleware: a 500 is answered outside it (Starlette's error middleware).
        all_headers["X-Request-Id"] = request_id
        _allow_origin(request, all_headers)
    members.update({key: value for key, value in extra.items() if value is not None})
    body = problem_body(status, title, detail, slug, members)
    if status == 401:
        all_headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=all_headers)


def _request_id_of(request: Request) -> str:
    if getattr(request.state, "request_id", None) is None:
        request.state.request_id = _request_id(request)
    return str(request.state.request_id)


def _request_id(request: Request) -> str:
    event = request.scope.get("aws.event") or {}
    from_gateway = (event.get("requestContext") or {}).get("requestId")
    return from_gateway or request.headers.get("x-request-id") or str(uuid.uuid4())


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        log = logger.warning if error.status < 500 else logger.error
        log("request refused", extra={"problem": error.type_slug, "status": error.status})
        return problem(error.status, error.title, error.detail, error.type_slug, request, **error.extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            return _malformed_body(request)
        # Never echo the offending input back: it may be a card or account number.
        errors = [
            {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
            for item in error.errors()
        ]
        return problem(
            422, "Validation failed", "The request is not valid.", "validation-failed", request, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        # Starlette's own answers (no route, wrong method, a body it could not read) in our words; 405 keeps
        # the Allow header Starlette computed.
        if error.status_code == 400:
            return _malformed_body(request)
        title, detail, slug = _FRAMEWORK_ANSWERS.get(
            error.status_code, (str(error.detail), str(error.detail), "http-error")
        )
        return problem(error.status_code, title, detail, slug, request, headers=dict(error.headers or {}))

    @app.exception_handler(ConfigurationError)
    async def configuration_error(request: Request, error: ConfigurationError) -> JSONResponse:
        logger.error("configuration error", extra={"error": str(error)})
        return problem(
            500, "Server misconfigured", "The service is not configured correctly.", "server-error", request
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log_failure("unhandled error", error)
        return problem(500, "Internal error", "Something went wrong on our side.", "server-error", request)


_FRAMEWORK_ANSWERS = {
    404: ("Not found", "There is nothing at this path.", "not-found"),
    405: (
        "Method not allowed",
        "This path does not accept this method; see the Allow header.",
        "method-not-allowed",
    ),
}


def _malformed_body(request: Request) -> JSONResponse:
    """A body that is not JSON at all (syntax, not UTF-8, nested too deep): 400, never echoed."""
    return problem(
        400, "Malformed body", "The request body is not valid JSON (UTF-8).", "malformed-body", request
    )


def _allow_origin(request: Request, headers: Any) -> None:
    """CORS on actual responses (`headers`: a response's headers or a dict); API Gateway answers the
    preflight (template.yaml `Cors`)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") in get_settings().cors_origins:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
        headers["Vary"] = "Origin"


class _Correlate:
    """Gives each request its id (log lines, response header) and CORS headers.

    A plain ASGI middleware, not `@app.middleware("http")`: Starlette's BaseHTTPMiddleware runs the app in
    an anyio task group with memory streams, a measurable share of a warm request (issue 10, section 5).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_id = request.state.request_id = _request_id(request)
        bind(correlation_id=request_id, path=request.url.path, method=request.method)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                _allow_origin(request, headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_app(title: str = "ISP billing API") -> FastAPI:
    app = FastAPI(
        title=title,
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    app.add_middleware(_Correlate)
    _install_error_handlers(app)
    app.router.route_class = ApiRoute
    return app


class ApiRoute(APIRoute):
    """Every route of our apps: the bearer token is checked before the body is read (so a caller without a
    valid token gets 401 whatever it sent); every POST honours `Idempotency-Key` (idempotent_routes); any
    exception becomes a DomainError inside the route (a unique violation 409, a statement timeout 503,
    anything else 500), so every answer goes through the one mapping."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        methods = {method.upper() for method in kwargs.get("methods") or ()}
        kwargs["responses"] = _with_bodies(kwargs.get("responses"), kwargs.get("response_model"))
        if (
            "POST" in methods
            and _takes_caller_context(endpoint)
            and not idempotent_routes.declares_key_itself(endpoint)
        ):
            endpoint = idempotent_routes.idempotent(endpoint, lambda: self)
        super().__init__(path, endpoint, **kwargs)
        roles = _admin_roles(self.dependant)
        if roles:
            self.openapi_extra = {**(self.openapi_extra or {}), "x-admin-roles": list(roles)}
        for status, description in _answers_it_can_give(self, methods).items():
            self.responses.setdefault(status, {"description": description})
            self.responses[status].setdefault("content", {PROBLEM_JSON: {}})

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        authenticates = _depends_on(self.dependant, _claims)

        async def answer(request: Request) -> Response:
            try:
                if authenticates:
                    authorization = request.headers.get("authorization")
                    request.state.claims = auth.verify_token(auth.bearer_token(authorization))
                return await handler(request)
            except (DomainError, StarletteHTTPException, RequestValidationError, ConfigurationError):
                raise
            except Exception as error:
                # Inside the route, so the answer goes through the one mapping (problem+json, request id)
                # and the exception never reaches the server's own logging, which would write its text.
                translated = from_database_error(error)
                log_failure("database error" if translated else "unhandled error", error)
                if translated is None:
                    raise UnexpectedError("Something went wrong on our side.") from None
                raise translated from None

        return answer


def _with_bodies(responses: dict[int | str, Any] | None, model: Any) -> dict[int | str, Any]:
    """Every success status a route declares besides its main one carries the route's model, unless it says
    otherwise (a 202 that answers the same ServiceActionResult as the 200): generated clients read the body
    of the status they get. 204 and redirects carry none."""
    declared = {status: dict(answer) for status, answer in (responses or {}).items()}
    for status, answer in declared.items():
        code = int(status)
        if 200 <= code < 300 and code != 204 and model is not None and not {"model", "content"} & set(answer):
            answer["model"] = model
    return declared


def _takes_caller_context(endpoint: Callable[..., Any]) -> bool:
    """Whether the endpoint takes the signed-in caller's transaction (CurrentCustomer / CurrentAdmin), which
    the idempotency key is stored in; a provider webhook does not."""
    names = {"CurrentCustomer", "CurrentAdmin", "BillingAdmin"}
    return any(
        (isinstance(param.annotation, str) and param.annotation in names)
        or any(param.annotation == context for context in (CurrentCustomer, CurrentAdmin, BillingAdmin))
        for param in inspect.signature(endpoint).parameters.values()
    )


def _answers_it_can_give(route: APIRoute, methods: set[str]) -> dict[int, str]:
    """The error statuses the mapping can give this route whatever its service does (documented in the
    OpenAPI next to the route's own: tests/infra checks them; schemathesis checks real answers against
    them)."""
    answers = {
        422: "Invalid request: a parameter or body field (the problem lists each, never echoing the input)",
        500: "An unexpected failure (quote the request id)",
        503: "The database is not reachable, or took too long to answer (retry shortly)",
    }
    if _depends_on(route.dependant, _claims):
        answers[401] = "Missing or invalid token"
        answers[403] = "Not allowed for this user"
    if route.body_field is not None:
        answers[400] = "The body is not JSON (UTF-8), or is nested too deep"
    if route.dependant.path_params:
        answers[404] = "No such resource (or not the caller's)"
    if methods & {"POST", "PATCH", "PUT", "DELETE"}:
        answers[409] = "Conflicts with the current state or an existing record (a unique value already taken)"
    return answers


def _admin_roles(dependant: Dependant) -> tuple[str, ...]:
    """The admin roles the route's admin dependency lets through (empty for a route without one)."""
    roles: tuple[str, ...] = getattr(dependant.call, "admin_roles", ())
    for sub in dependant.dependencies:
        roles = roles or _admin_roles(sub)
    return roles


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return dependant.call is call or any(_depends_on(sub, call) for sub in dependant.dependencies)


def lambda_handler(app: FastAPI) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for an HTTP function: API Gateway proxy event in, proxy response out.

    Settings are validated here, at cold start: a misconfigured function fails its init with a message
    naming the variable instead of answering requests.
    """
    get_settings()
    # problem+json must stay text: Mangum base64-encodes unknown types, and API Gateway would pass that on.
    adapter = Mangum(app, lifespan="off", text_mime_types=["application/json", PROBLEM_JSON, "text/"])

    @per_request_log_context
    @traced
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        asyncio.set_event_loop(_thread_event_loop())
        return adapter(event, context)

    return handler


_loops = threading.local()


def _thread_event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop for Mangum, made once and reused by every warm invocation.

    Mangum runs each request on `asyncio.get_event_loop()`, which raises once anything in the process has
    cleared the thread's loop (`asyncio.run` does on exit); owning the loop keeps the handler independent of
    that. One per thread: the local server calls handlers from several threads at once.
    """
    loop: asyncio.AbstractEventLoop | None = getattr(_loops, "loop", None)
    if loop is None or loop.is_closed():
        loop = _loops.loop = asyncio.new_event_loop()
    return loop


# --- dependencies -------------------------------------------------------------------------------------


# Path parameters shared by routes: one description each, wherever the id appears.
ServiceId = Annotated[uuid.UUID, Path(description="The service's id (a customer_services row).")]
PaymentMethodId = Annotated[uuid.UUID, Path(description="The payment method's id.")]
ReviewItemId = Annotated[uuid.UUID, Path(description="The migration review queue item's id.")]
ValidationErrorId = Annotated[uuid.UUID, Path(description="The validation error's id.")]
CustomerId = Annotated[uuid.UUID, Path(description="The customer's id.")]
ChargeId = Annotated[uuid.UUID, Path(description="The once-off charge's id.")]
InvoiceId = Annotated[uuid.UUID, Path(description="The invoice's id (a customer_invoices row).")]

# Read by the route, but not a parameter of the operation: the spec's `bearer` security scheme says it once
# (a header parameter would give every generated client function an `authorization` argument).
BearerHeader = Annotated[
    str | None,
    Header(
        description="`Bearer <access token>`: a Supabase JWT (HS256, or RS256/ES256 through the JWKS URL).",
        include_in_schema=False,
    ),
]


async def _claims(request: Request, authorization: BearerHeader = None) -> dict[str, Any]:
    verified = getattr(request.state, "claims", None)  # ApiRoute checked the token before the body
    return verified if verified is not None else auth.verify_token(auth.bearer_token(authorization))


@dataclass
class CustomerContext:
    """The signed-in customer and their RLS-scoped transaction."""

    customer: auth.CustomerPrincipal
    conn: Connection
    request_id: str


async def _customer_context(
    request: Request, claims: Annotated[dict[str, Any], Depends(_claims)]
) -> AsyncIterator[CustomerContext]:
    with customer_session(claims) as (conn, customer_id):
        if customer_id is None:
            raise Forbidden("This user has no customer account.")
        principal = auth.CustomerPrincipal(customer_id=customer_id, auth_user_id=uuid.UUID(claims["sub"]))
        bind(customer_id=str(customer_id))
        yield CustomerContext(principal, conn, request.state.request_id)


@dataclass
class AdminContext:
    """The signed-in admin (role from admin_users) and a service-role transaction."""

    admin: auth.AdminPrincipal
    conn: Connection
    request_id: str


def _admin_context_of(*roles: auth.AdminRole) -> Callable[..., AsyncIterator[AdminContext]]:
    """The dependency that opens an admin's transaction, refusing (403) an admin whose role is not in `roles`.

    A dependency is solved before FastAPI validates the body and the query, so a role that may not use the
    route gets 403 whatever it sent, never a 422 that tells it how to shape a request it may not make. The
    services keep their own checks (finer ones depend on the body, e.g. a suspension's type)."""

    async def admin_context(
        request: Request, claims: Annotated[dict[str, Any], Depends(_claims)]
    ) -> AsyncIterator[AdminContext]:
        with service_session() as conn:
            row = admins.find_active_by_auth_user(conn, claims["sub"])
            if row is None:
                raise Forbidden("This user is not an active admin.")
            principal = auth.AdminPrincipal(
                admin_id=row["id"],
                auth_user_id=row["auth_user_id"],
                role=row["role"],
                email=row["email"],
                full_name=row["full_name"],
            )
            bind(admin_id=str(principal.admin_id))
            principal.require(*roles)
            yield AdminContext(principal, conn, request.state.request_id)

    admin_context.admin_roles = roles  # type: ignore[attr-defined]  # read by ApiRoute for the spec
    return admin_context


ALL_ADMIN_ROLES: tuple[auth.AdminRole, ...] = ("super_admin", "billing_admin", "support")
BILLING_ADMIN_ROLES: tuple[auth.AdminRole, ...] = ("super_admin", "billing_admin")
_admin_context = _admin_context_of(*ALL_ADMIN_ROLES)
_billing_admin_context = _admin_context_of(*BILLING_ADMIN_ROLES)


# scope="function": the transaction commits (or rolls back) before the response is sent, so a client never
# sees success for work that failed to commit.
CurrentCustomer = Annotated[CustomerContext, Depends(_customer_context, scope="function")]
CurrentAdmin = Annotated[AdminContext, Depends(_admin_context, scope="function")]
# An admin whose role may change billing (super_admin, billing_admin): support gets 403 before a body is read.
BillingAdmin = Annotated[AdminContext, Depends(_billing_admin_context, scope="function")]
# The verified token only, for a route that opens its own short sessions around a slow outside call (the
# invoice PDF: read, end the transaction, then S3) instead of holding one transaction for the request.
VerifiedClaims = Annotated[dict[str, Any], Depends(_claims)]
