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
