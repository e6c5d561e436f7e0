"""The FastAPI app factory every HTTP function uses, its auth dependencies, and the Lambda adapter.

Errors are mapped to RFC 9457 problem+json here, once. A request's id is the API Gateway request id (or an
incoming X-Request-Id locally) and is put on every log line and on the response.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from starlette.exceptions import HTTPException as StarletteHTTPException

from isp_billing import auth
from isp_billing.db import Connection, customer_session, service_session
from isp_billing.errors import ConfigurationError, DomainError, Forbidden, problem_body
from isp_billing.observability import log_failure, logger, metrics, traced
from isp_billing.repositories import admins
from isp_billing.settings import get_settings

PROBLEM_JSON = "application/problem+json"
CORS_EXPOSED_HEADERS = "X-Request-Id"


def problem(
    status: int, title: str, detail: str, slug: str, request: Request | None = None, **extra: Any
) -> JSONResponse:
    members: dict[str, Any] = {}
    if request is not None:
        members = {"instance": request.url.path, "request_id": getattr(request.state, "request_id", None)}
    members.update({key: value for key, value in extra.items() if value is not None})
    body = problem_body(status, title, detail, slug, members)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


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
        return problem(error.status_code, str(error.detail), str(error.detail), "http-error", request)

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


def _allow_origin(request: Request, response: Any) -> None:
    """CORS on actual responses; API Gateway answers the preflight (template.yaml `Cors`)."""
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") in get_settings().cors_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
        response.headers["Vary"] = "Origin"


def build_app(title: str = "ISP billing API") -> FastAPI:
    app = FastAPI(
        title=title,
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        responses={
            401: {"description": "Missing or invalid token", "content": {PROBLEM_JSON: {}}},
            403: {"description": "Not allowed for this user", "content": {PROBLEM_JSON: {}}},
            422: {"description": "Invalid request", "content": {PROBLEM_JSON: {}}},
            503: {"description": "Database unavailable", "content": {PROBLEM_JSON: {}}},
        },
    )

    @app.middleware("http")
    async def correlate(request: Request, call_next: Callable[[Request], Any]) -> Any:
        request.state.request_id = _request_id(request)
        logger.set_correlation_id(request.state.request_id)
        logger.append_keys(path=request.url.path, method=request.method)
        response = await call_next(request)
        response.headers["X-Request-Id"] = request.state.request_id
        _allow_origin(request, response)
        return response

    _install_error_handlers(app)
    return app


def lambda_handler(app: FastAPI) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda entry point for an HTTP function: API Gateway proxy event in, proxy response out.

    Settings are validated here, at cold start: a misconfigured function fails its init with a message
    naming the variable instead of answering requests.
    """
    get_settings()
    # problem+json must stay text: Mangum base64-encodes unknown types, and API Gateway would pass that on.
    adapter = Mangum(app, lifespan="off", text_mime_types=["application/json", PROBLEM_JSON, "text/"])

    @logger.inject_lambda_context(clear_state=True)
    @traced
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return adapter(event, context)

    return handler


# --- dependencies -------------------------------------------------------------------------------------


# Path parameters shared by routes: one description each, wherever the id appears.
ServiceId = Annotated[uuid.UUID, Path(description="The service's id (a customer_services row).")]
PaymentMethodId = Annotated[uuid.UUID, Path(description="The payment method's id.")]
ReviewItemId = Annotated[uuid.UUID, Path(description="The migration review queue item's id.")]
ValidationErrorId = Annotated[uuid.UUID, Path(description="The validation error's id.")]
CustomerId = Annotated[uuid.UUID, Path(description="The customer's id.")]
ChargeId = Annotated[uuid.UUID, Path(description="The once-off charge's id.")]

BearerHeader = Annotated[
    str | None,
    Header(
        description="`Bearer <access token>`: a Supabase JWT (HS256, or RS256/ES256 through the JWKS URL)."
    ),
]


async def _claims(authorization: BearerHeader = None) -> dict[str, Any]:
    return auth.verify_token(auth.bearer_token(authorization))


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
        logger.append_keys(customer_id=str(customer_id))
        yield CustomerContext(principal, conn, request.state.request_id)


@dataclass
class AdminContext:
    """The signed-in admin (role from admin_users) and a service-role transaction."""

    admin: auth.AdminPrincipal
    conn: Connection
    request_id: str


async def _admin_context(
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
        logger.append_keys(admin_id=str(principal.admin_id))
        yield AdminContext(principal, conn, request.state.request_id)


# scope="function": the transaction commits (or rolls back) before the response is sent, so a client never
# sees success for work that failed to commit.
CurrentCustomer = Annotated[CustomerContext, Depends(_customer_context, scope="function")]
CurrentAdmin = Annotated[AdminContext, Depends(_admin_context, scope="function")]
