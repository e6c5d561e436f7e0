"""The one Powertools Logger/Tracer/Metrics trio. Import these; never create a second instance.

Personal data (names, emails, phones, addresses, account numbers) and secrets are never logged: log ids.
"""

from __future__ import annotations

import functools
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


_cold_start = True


def bind(**keys: Any) -> None:
    """Add keys to every log line of the current request only (a context variable, not the logger's shared
    keys: `isp-billing serve` runs several functions' requests at once in one process)."""
    logger.thread_safe_append_keys(**keys)


def per_request_log_context(handler: Handler) -> Handler:
    """A Lambda handler whose log keys (the function, its request id, cold start, and whatever `bind` adds)
    belong to this invocation alone: cleared before and after. Replaces Powertools' inject_lambda_context,
    whose keys are shared by every thread of the process."""

    @functools.wraps(handler)
    def with_context(event: Any, context: Any) -> Any:
        global _cold_start
        logger.thread_safe_clear_keys()
        bind(
            function_name=getattr(context, "function_name", None),
            function_memory_size=getattr(context, "memory_limit_in_mb", None),
            function_arn=getattr(context, "invoked_function_arn", None),
            function_request_id=getattr(context, "aws_request_id", None),
            cold_start=_cold_start,
        )
        _cold_start = False
        try:
            return handler(event, context)
        finally:
            logger.thread_safe_clear_keys()

    return with_context  # type: ignore[return-value]


def log_failure(message: str, error: BaseException, **extra: Any) -> None:
    """Log an unexpected failure safely: `error_facts` and the caller's ids, no message text, no traceback
    locals. Use this instead of `logger.exception`, which writes the exception's text."""
    logger.error(message, extra={**error_facts(error), **extra})
