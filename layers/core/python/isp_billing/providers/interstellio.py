"""Interstellio (NebularStack) client: subscriber lookup, enable/disable, and daily usage from telemetry.

The contract is the "proposed minimal contract" of docs providers-interstellio.md §8 (partly inferred; confirm
with a live account). Tests run it against `isp_billing_cli.fakes.interstellio`.

- Auth: `POST /v3/token` with domain/username/password; the token is cached and re-fetched once on a 401.
  The token and password are never logged or put in an exception.
- Every call sends X-Auth-Token, X-Tenant-ID (from the token's context), X-Timezone: Africa/Johannesburg.
- 429, 5xx and timeouts are retried with jittered exponential backoff (3 attempts, Retry-After honoured);
  everything else fails at once as ProviderError.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import httpx
from pydantic import SecretStr

from isp_billing.errors import ConfigurationError, ProviderError, ValidationFailed
from isp_billing.observability import logger
from isp_billing.settings import Settings

PROVIDER = "interstellio"
TIMEZONE_NAME = "Africa/Johannesburg"
# South Africa has had no daylight saving since 1944: a fixed offset avoids depending on tzdata in Lambda.
SAST = timezone(timedelta(hours=2), "SAST")
MAX_DAYS_PER_DAILY_QUERY = 128
KB_PER_MB = Decimal(1024)
MB_QUANTUM = Decimal("0.001")
MAX_RETRY_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class DailyUsage:
    """One SAST day of a subscriber's traffic; MB = KB / 1024 (binary, as assumed in the provider notes)."""

    usage_date: date
    upload_mb: Decimal
    download_mb: Decimal


class SubscriberProvider(Protocol):
    def get_subscriber(self, subscriber_id: str) -> dict[str, Any]: ...

    def set_subscriber_enabled(self, subscriber_id: str, enabled: bool) -> dict[str, Any]: ...

    def daily_usage(self, subscriber_id: str, start: date, end: date) -> list[DailyUsage]: ...


class SubscriberProvisioner(Protocol):
    """Creating subscribers and switching their profile (orders and package changes)."""

    def find_subscriber(self, username: str) -> dict[str, Any] | None: ...

    def create_subscriber(
        self, *, username: str, name: str, virtual_id: str, service_id: str, profile_id: str
    ) -> dict[str, Any]: ...

    def set_subscriber_profile(self, subscriber_id: str, profile_id: str) -> dict[str, Any]: ...


def kb_to_mb(kilobytes: Decimal) -> Decimal:
    return (kilobytes / KB_PER_MB).quantize(MB_QUANTUM, rounding=ROUND_HALF_UP)


def day_ranges(start: date, end: date, max_days: int = MAX_DAYS_PER_DAILY_QUERY) -> list[tuple[date, date]]:
    """Inclusive [first, last] day windows of at most `max_days` days covering start..end."""
    if end < start:
        raise ValidationFailed("end: must not be before start", field="end")
    windows: list[tuple[date, date]] = []
    first = start
    while first <= end:
        last = min(end, first + timedelta(days=max_days - 1))
        windows.append((first, last))
        first = last + timedelta(days=1)
    return windows


def sast_day_bounds(first: date, last: date) -> tuple[str, str]:
    """ISO datetimes from the start of `first` to the last second of `last`, in SAST."""
    start = datetime(first.year, first.month, first.day, tzinfo=SAST)
    end = datetime(last.year, last.month, last.day, 23, 59, 59, tzinfo=SAST)
    return start.isoformat(), end.isoformat()


def _usage_date(value: Any) -> date:
    text = str(value).strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        # We asked for SAST; a naive time is taken to be in it.
        return moment.date()
    return moment.astimezone(SAST).date()


def _kilobytes(entry: dict[str, Any], name: str) -> Decimal:
    raw = entry[name]
    if isinstance(raw, bool):
        raise ValueError(f"{name} is not a number")
    amount = Decimal(str(raw))
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{name} is not a non-negative number")
    return amount


def parse_daily_usage(payload: Any, first: date, last: date) -> list[DailyUsage]:
    """Entries of `{"payload": [...]}` or a bare array; days outside first..last dropped, repeats summed."""
    entries = payload.get("payload") if isinstance(payload, dict) else payload
    if not isinstance(entries, list):
        raise ProviderError(
            "Interstellio daily usage reply is not a list", provider=PROVIDER, code="malformed"
        )
    totals: dict[date, tuple[Decimal, Decimal]] = {}
    try:
        for entry in entries:
            if not isinstance(entry, dict):
                raise ValueError("entry is not an object")
            day = _usage_date(entry["time"])
            upload, download = _kilobytes(entry, "upload_kb"), _kilobytes(entry, "download_kb")
            if first <= day <= last:
                previous_upload, previous_download = totals.get(day, (Decimal(0), Decimal(0)))
                totals[day] = (previous_upload + upload, previous_download + download)
    except (KeyError, ValueError, TypeError, InvalidOperation):
        raise ProviderError(
            "Interstellio daily usage reply has an unreadable entry", provider=PROVIDER, code="malformed"
        ) from None
    return [
        DailyUsage(usage_date=day, upload_mb=kb_to_mb(upload), download_mb=kb_to_mb(download))
        for day, (upload, download) in sorted(totals.items())
    ]


class InterstellioClient:
    """Synchronous Interstellio client; build once per execution environment (it caches the token)."""

    def __init__(
        self,
        *,
        base_url: str,
        telemetry_url: str,
        domain: str | None,
        username: str | None,
        password: SecretStr | str | None,
        timeout_seconds: float = 10.0,
        max_attempts: int = 3,
        backoff_base_seconds: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._telemetry_url = telemetry_url.rstrip("/")
        self._domain = domain
        self._username = username
        self._password = (
            password if password is None or isinstance(password, SecretStr) else SecretStr(password)
        )
        self._max_attempts = max(1, max_attempts)
        self._backoff_base_seconds = backoff_base_seconds
        self._sleep = sleep
        self._jitter = jitter
        self._http = http_client or httpx.Client(timeout=httpx.Timeout(timeout_seconds))
        self._token: SecretStr | None = None
        self._tenant_id: str | None = None

    def __repr__(self) -> str:
        return f"InterstellioClient(base_url={self._base_url!r}, telemetry_url={self._telemetry_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InterstellioClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------------------------------------

    def get_subscriber(self, subscriber_id: str) -> dict[str, Any]:
        response = self._request("GET", self._subscriber_url(subscriber_id), not_found="subscriber_not_found")
        return _subscriber(response, "get subscriber")

    def set_subscriber_enabled(self, subscriber_id: str, enabled: bool) -> dict[str, Any]:
        """Suspend (False) or reactivate (True). Idempotent: PATCHing the current value is harmless."""
        response = self._request(
            "PATCH",
            self._subscriber_url(subscriber_id),
            json_body={"enabled": enabled},
            not_found="subscriber_not_found",
        )
        subscriber = _subscriber(response, "update subscriber")
        if subscriber.get("enabled") is not enabled:
            raise ProviderError(
                "Interstellio did not apply the subscriber's enabled flag",
                provider=PROVIDER,
                code="not_applied",
            )
        logger.info(
            "Interstellio subscriber updated", extra={"subscriber_id": subscriber_id, "enabled": enabled}
        )
        return subscriber

    def find_subscriber(self, username: str) -> dict[str, Any] | None:
        """The subscriber with exactly this username, or None (GET /v1/subscribers?username=)."""
        response = self._request(
            "GET", f"{self._base_url}/v1/subscribers?{urlencode({'username': username, 'l': 50, 'p': 1})}"
        )
        body = _json(response, "list subscribers")
        rows = body.get("payload") if isinstance(body, dict) else body
        if not isinstance(rows, list):
            raise ProviderError("Interstellio list reply has no payload", provider=PROVIDER, code="malformed")
        found = [row for row in rows if isinstance(row, dict) and row.get("username") == username]
        return found[0] if found else None

    def create_subscriber(
        self, *, username: str, name: str, virtual_id: str, service_id: str, profile_id: str
    ) -> dict[str, Any]:
        """POST /v1/subscriber (§4.3). Not idempotent, so never retried here: a timeout or a 5xx is raised as
        an uncertain outcome and the caller looks the username up before trying again."""
        response = self._request(
            "POST",
            f"{self._base_url}/v1/subscriber",
            json_body={
                "username": username,
                "name": name,
                "virtual_id": virtual_id,
                "service_id": service_id,
                "profile_id": profile_id,
                "enabled": True,
                "timezone": "Africa/Johannesburg",
            },
            retry=False,
        )
        subscriber = _subscriber(response, "create subscriber")
        logger.info("Interstellio subscriber created", extra={"subscriber_id": subscriber["id"]})
        return subscriber

    def set_subscriber_profile(self, subscriber_id: str, profile_id: str) -> dict[str, Any]:
        """PATCH the subscriber's profile_id (a package change). Idempotent."""
        response = self._request(
            "PATCH",
            self._subscriber_url(subscriber_id),
            json_body={"profile_id": profile_id},
            not_found="subscriber_not_found",
        )
        subscriber = _subscriber(response, "update subscriber")
        if subscriber.get("profile_id") != profile_id:
            raise ProviderError(
                "Interstellio did not apply the subscriber's profile", provider=PROVIDER, code="not_applied"
            )
        return subscriber

    def daily_usage(self, subscriber_id: str, start: date, end: date) -> list[DailyUsage]:
        """Usage per SAST day from start to end inclusive; ranges over 128 days become several calls."""
        usage: list[DailyUsage] = []
        for first, last in day_ranges(start, end):
            window_start, window_end = sast_day_bounds(first, last)
            response = self._request(
                "POST",
                f"{self._telemetry_url}/v1/subscriber/{_segment(subscriber_id)}/data/daily",
                json_body={"start": window_start, "end": window_end},
                not_found="subscriber_not_found",
            )
            usage.extend(parse_daily_usage(_json(response, "daily usage"), first, last))
        return usage

    # -- auth and transport ----------------------------------------------------------------------------------

    def _subscriber_url(self, subscriber_id: str) -> str:
        return f"{self._base_url}/v1/subscriber/{_segment(subscriber_id)}"

    def _authenticate(self) -> None:
        if not (self._domain and self._username and self._password):
            raise ConfigurationError(
                "INTERSTELLIO_DOMAIN, INTERSTELLIO_USERNAME and INTERSTELLIO_PASSWORD must be set"
            )
        response = self._request(
            "POST",
            f"{self._base_url}/v3/token",
            json_body={
                "domain": self._domain,
                "username": self._username,
                "password": self._password.get_secret_value(),
            },
            authenticated=False,
        )
        body = _json(response, "token")
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ProviderError("Interstellio token reply has no token", provider=PROVIDER, code="malformed")
        context = body.get("context") if isinstance(body.get("context"), dict) else {}
        tenant_id = context.get("tenant_id")
        self._token = SecretStr(token)
        self._tenant_id = str(tenant_id) if tenant_id else None
        logger.info("Interstellio token obtained")

    def _headers(self, authenticated: bool) -> dict[str, str]:
        headers = {"Accept": "application/json", "X-Timezone": TIMEZONE_NAME}
        if authenticated:
            if self._token is None:
                self._authenticate()
            assert self._token is not None
            headers["X-Auth-Token"] = self._token.get_secret_value()
            if self._tenant_id:
                headers["X-Tenant-ID"] = self._tenant_id
        return headers

    def _request(
        self,
        method: str,
        url: str,
        *,
        json_body: dict[str, Any] | None = None,
        authenticated: bool = True,
        not_found: str | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        operation = _operation(method, url)
        failures = 0
        reauthenticated = False
        while True:
            headers = self._headers(authenticated)
            started = time.monotonic()
            try:
                response = self._http.request(method, url, json=json_body, headers=headers)
            except httpx.TimeoutException:
                failures += 1
                logger.warning(
                    "Interstellio call timed out", extra={"operation": operation, "attempt": failures}
                )
                if retry and failures < self._max_attempts:
                    self._sleep(self._backoff(failures))
                    continue
                raise ProviderError(
                    f"Interstellio {operation} timed out", provider=PROVIDER, code="timeout"
                ) from None
            except httpx.HTTPError:
                logger.warning("Interstellio call failed to connect", extra={"operation": operation})
                raise ProviderError(
                    f"Interstellio {operation} could not be reached", provider=PROVIDER, code="unreachable"
                ) from None
            status = response.status_code
            logger.info(
                "Interstellio call",
                extra={
                    "operation": operation,
                    "http_status": status,
                    "duration_ms": round((time.monotonic() - started) * 1000),
                },
            )
            if status == 401 and authenticated and not reauthenticated:
                # Tokens expire after long disuse or get purged: fetch a new one, once.
                reauthenticated = True
                self._token = None
                continue
            if status == 429 or status >= 500:
                failures += 1
                retry_after = _retry_after_seconds(response)
                if retry_after is not None and retry_after > MAX_RETRY_AFTER_SECONDS:
                    raise _status_error(operation, response, code="rate_limited")
                if (retry or status == 429) and failures < self._max_attempts:
                    self._sleep(retry_after if retry_after is not None else self._backoff(failures))
                    continue
                raise _status_error(
                    operation, response, code="rate_limited" if status == 429 else "unavailable"
                )
            if status == 404 and not_found:
                raise _status_error(operation, response, code=not_found)
            if status == 401:
                raise _status_error(
                    operation, response, code="unauthorized" if authenticated else "auth_failed"
                )
            if not 200 <= status < 300:
                raise _status_error(operation, response, code="http_error")
            return response

    def _backoff(self, failures: int) -> float:
        ceiling = self._backoff_base_seconds * (2 ** (failures - 1))
        # Equal jitter: at least half the exponential delay, so retries from many jobs spread out but still
        # back off.
        return ceiling / 2 + ceiling / 2 * self._jitter()


def _segment(identifier: str) -> str:
    text = str(identifier).strip()
    if not text:
        raise ValidationFailed("subscriber_id: is required", field="subscriber_id")
    return quote(text, safe="")


def _operation(method: str, url: str) -> str:
    if url.endswith("/v3/token"):
        return "token"
    if url.endswith("/data/daily"):
        return "daily usage"
    return "update subscriber" if method == "PATCH" else "get subscriber"


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(moment.tzinfo or UTC)).total_seconds())


def _request_id(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    request_id = error.get("request_id") if isinstance(error, dict) else None
    return str(request_id)[:100] if request_id else None


def _status_error(operation: str, response: httpx.Response, *, code: str) -> ProviderError:
    # Only the status and Interstellio's request id (what their support traces): error descriptions can echo
    # usernames or other input, so they stay out of messages that reach callers.
    request_id = _request_id(response)
    suffix = f" (request id {request_id})" if request_id else ""
    return ProviderError(
        f"Interstellio {operation} answered HTTP {response.status_code}{suffix}",
        provider=PROVIDER,
        code=code,
        http_status=response.status_code,
        provider_request_id=request_id,
    )


def _json(response: httpx.Response, operation: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ProviderError(
            f"Interstellio {operation} reply is not JSON", provider=PROVIDER, code="malformed"
        ) from None


def _subscriber(response: httpx.Response, operation: str) -> dict[str, Any]:
    body = _json(response, operation)
    if not isinstance(body, dict) or "id" not in body:
        raise ProviderError(
            f"Interstellio {operation} reply is not a subscriber", provider=PROVIDER, code="malformed"
        )
    return body


def interstellio_client_from_settings(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> InterstellioClient:
    return InterstellioClient(
        base_url=settings.interstellio_base_url,
        telemetry_url=settings.interstellio_telemetry_url,
        domain=settings.interstellio_domain,
        username=settings.interstellio_username,
        password=settings.interstellio_password,
        timeout_seconds=settings.interstellio_timeout_seconds,
        sleep=sleep,
    )
