"""The one Powertools Logger/Tracer/Metrics trio. Import these; never create a second instance.

Personal data (names, emails, phones, addresses, account numbers) and secrets are never logged: log ids.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

from isp_billing.settings import get_settings

SERVICE_NAME = "isp-billing"
METRICS_NAMESPACE = "IspBilling"

# Most requests publish no business metric; Powertools would warn about that on every invocation.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)

Handler = TypeVar("Handler", bound=Callable[..., Any])


@lru_cache(maxsize=1)
def get_tracer() -> Tracer:
    # Built on first use: constructing a Tracer imports the X-Ray SDK and botocore (~180 ms here), which
    # only pays off where Lambda is actually tracing.
    return Tracer(service=SERVICE_NAME)


def tracing_enabled() -> bool:
    settings = get_settings()
    return bool(settings.aws_lambda_function_name) and not settings.powertools_trace_disabled


def traced(handler: Handler) -> Handler:
    """The handler with X-Ray tracing where the function runs with tracing on; unchanged elsewhere."""
    if not tracing_enabled():
        return handler
    return get_tracer().capture_lambda_handler(capture_response=False)(handler)  # type: ignore[no-any-return]


def error_facts(error: BaseException) -> dict[str, Any]:
    """What may be logged about an exception: its class and, for database errors, the SQLSTATE and the
    names of the constraint, table and column. Never the message: psycopg's text and its DETAIL line carry
    row values (`Key (lower(email))=(...)`), and other messages may carry input."""
    facts: dict[str, Any] = {"error_type": type(error).__name__}
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate:
        facts["sqlstate"] = sqlstate
    diag = getattr(error, "diag", None)
    if diag is not None:
        for name in ("constraint_name", "table_name", "column_name"):
            value = getattr(diag, name, None)
            if value:
                facts[name] = value
    return facts


def log_failure(message: str, error: BaseException, **extra: Any) -> None:
    """Log an unexpected failure safely: `error_facts` and the caller's ids, no message text, no traceback
    locals. Use this instead of `logger.exception`, which writes the exception's text."""
    logger.error(message, extra={**error_facts(error), **extra})
