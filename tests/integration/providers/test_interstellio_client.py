"""Interstellio client against the local fake API + telemetry server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from isp_billing.errors import ProviderError, ValidationFailed
from isp_billing.providers.interstellio import (
    DailyUsage,
    InterstellioClient,
    SubscriberProvider,
    interstellio_client_from_settings,
)
from isp_billing.settings import Settings
from isp_billing_cli.fakes import interstellio as fake_interstellio

PASSWORD = "s3cret-interstellio-password"
SUBSCRIBER = "6962a8c8-d3df-11ef-aa98-79d85e6cbbe2"


@pytest.fixture
def fake() -> Iterator[fake_interstellio.FakeInterstellio]:
    server = fake_interstellio.start(password=PASSWORD)
    server.add_subscriber(SUBSCRIBER, "thandi@isp.example")
    yield server
    server.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def _settings(fake: fake_interstellio.FakeInterstellio, **changes: object) -> Settings:
    values: dict[str, object] = {
        "interstellio_base_url": fake.url,
        "interstellio_telemetry_url": fake.url,
        "interstellio_domain": fake.domain,
        "interstellio_username": fake.username,
        "interstellio_password": PASSWORD,
        "interstellio_timeout_seconds": 0.2,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(fake: fake_interstellio.FakeInterstellio, sleeps: list[float]) -> Iterator[InterstellioClient]:
    built = interstellio_client_from_settings(_settings(fake), sleep=sleeps.append)
    yield built
    built.close()


def _paths(fake: fake_interstellio.FakeInterstellio) -> list[str]:
    return [f"{call.method} {call.path}" for call in fake.requests]


def _token(fake: fake_interstellio.FakeInterstellio) -> str:
    return next(c.headers["x-auth-token"] for c in fake.requests if "x-auth-token" in c.headers)


def _assert_no_secrets(error: BaseException, fake: fake_interstellio.FakeInterstellio) -> None:
    text = str(error) + repr(error) + repr(getattr(error, "extra", {}))
    assert PASSWORD not in text
    tokens = {c.headers.get("x-auth-token") for c in fake.requests} - {None}
    for token in tokens:
        assert str(token) not in text


# -- Auth ----------------------------------------------------------------------------------------------------


def test_token_is_fetched_once_and_sent_with_tenant_and_timezone(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient
) -> None:
    # Given a fresh client
    # When two calls are made
    client.get_subscriber(SUBSCRIBER)
    client.get_subscriber(SUBSCRIBER)

    # Then one token call served both, with the documented headers
    assert _paths(fake) == [
        "POST /v3/token",
        f"GET /v1/subscriber/{SUBSCRIBER}",
        f"GET /v1/subscriber/{SUBSCRIBER}",
    ]
    token_call = fake.requests[0]
    assert token_call.body == {"domain": fake.domain, "username": fake.username, "password": PASSWORD}
    assert PASSWORD not in repr(token_call)
    for call in fake.requests[1:]:
        assert call.headers["x-auth-token"]
        assert call.headers["x-tenant-id"] == fake.tenant_id
        assert call.headers["x-timezone"] == "Africa/Johannesburg"
    assert PASSWORD not in repr(client)


def test_expired_token_is_renewed_once(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient
) -> None:
    # Given a client holding a token that Interstellio has since purged
    client.get_subscriber(SUBSCRIBER)
    old_token = _token(fake)
    fake.expire_tokens()

    # When it calls again
    subscriber = client.get_subscriber(SUBSCRIBER)

    # Then it re-authenticated once and retried with the new token
    assert subscriber["id"] == SUBSCRIBER
    get = f"GET /v1/subscriber/{SUBSCRIBER}"
    assert _paths(fake) == ["POST /v3/token", get, get, "POST /v3/token", get]
    assert fake.requests[-1].headers["x-auth-token"] != old_token


def test_wrong_password_is_a_provider_error_without_the_password(
    fake: fake_interstellio.FakeInterstellio,
) -> None:
    # Given a client with the wrong password
    client = interstellio_client_from_settings(_settings(fake, interstellio_password="wrong-password-x"))

    # When it calls
    with client, pytest.raises(ProviderError) as caught:
        client.get_subscriber(SUBSCRIBER)

    # Then auth failed, once, and the message carries neither password
    assert caught.value.extra["code"] == "auth_failed"
    assert _paths(fake) == ["POST /v3/token"]
    assert "wrong-password-x" not in str(caught.value)
    _assert_no_secrets(caught.value, fake)


# -- Subscribers ---------------------------------------------------------------------------------------------


def test_set_subscriber_enabled_patches_and_returns_the_subscriber(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient
) -> None:
    # Given an enabled subscriber
    # When it is suspended and then suspended again
    suspended = client.set_subscriber_enabled(SUBSCRIBER, False)
    again = client.set_subscriber_enabled(SUBSCRIBER, False)

    # Then the PATCH carried only the flag and is idempotent
    assert suspended["enabled"] is False and again["enabled"] is False
    assert fake.subscribers[SUBSCRIBER]["enabled"] is False
    patch = fake.requests[1]
    assert (patch.method, patch.path, patch.body) == (
        "PATCH",
        f"/v1/subscriber/{SUBSCRIBER}",
        {"enabled": False},
    )

    # And reactivating turns it back on
    assert client.set_subscriber_enabled(SUBSCRIBER, True)["enabled"] is True


@pytest.mark.parametrize("action", ["get", "patch", "usage"])
def test_unknown_subscriber_is_subscriber_not_found(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient, action: str
) -> None:
    # Given an id Interstellio does not know
    missing = "00000000-0000-0000-0000-000000000000"

    # When it is used
    with pytest.raises(ProviderError) as caught:
        if action == "get":
            client.get_subscriber(missing)
        elif action == "patch":
            client.set_subscriber_enabled(missing, False)
        else:
            client.daily_usage(missing, date(2026, 1, 1), date(2026, 1, 2))

    # Then it is a provider error with a stable code and Interstellio's request id
    assert caught.value.extra["code"] == "subscriber_not_found"
    assert caught.value.extra["provider_request_id"]
    _assert_no_secrets(caught.value, fake)


def test_client_satisfies_the_subscriber_provider_protocol(client: InterstellioClient) -> None:
    # Given / When the client is used through the protocol
    provider: SubscriberProvider = client

    # Then it works as one
    assert provider.get_subscriber(SUBSCRIBER)["username"] == "thandi@isp.example"


# -- Daily usage ---------------------------------------------------------------------------------------------


def test_daily_usage_converts_kb_to_mb_per_sast_day(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient
) -> None:
    # Given usage seeded in KB on two days and one day outside the range
    fake.set_daily_usage(SUBSCRIBER, date(2026, 1, 1), download_kb=1_048_576, upload_kb=1)
    fake.set_daily_usage(SUBSCRIBER, date(2026, 1, 31), download_kb=1536, upload_kb=2047)
    fake.set_daily_usage(SUBSCRIBER, date(2026, 2, 1), download_kb=9, upload_kb=9)

    # When January is read
    usage = client.daily_usage(SUBSCRIBER, date(2026, 1, 1), date(2026, 1, 31))

    # Then each SAST day has MB = KB / 1024, rounded half-up to 0.001
    assert usage == [
        DailyUsage(date(2026, 1, 1), upload_mb=Decimal("0.001"), download_mb=Decimal("1024.000")),
        DailyUsage(date(2026, 1, 31), upload_mb=Decimal("1.999"), download_mb=Decimal("1.500")),
    ]
    assert all(isinstance(u.upload_mb, Decimal) for u in usage)
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", f"/v1/subscriber/{SUBSCRIBER}/data/daily")
    assert request.body == {"start": "2026-01-01T00:00:00+02:00", "end": "2026-01-31T23:59:59+02:00"}


def test_daily_usage_accepts_a_bare_array(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient
) -> None:
    # Given the telemetry service answers a bare array
    fake.usage_shape = "array"
    fake.set_daily_usage(SUBSCRIBER, date(2026, 3, 5), download_kb=2048, upload_kb=512)

    # When / Then
    assert client.daily_usage(SUBSCRIBER, date(2026, 3, 1), date(2026, 3, 31)) == [
        DailyUsage(date(2026, 3, 5), upload_mb=Decimal("0.500"), download_mb=Decimal("2.000"))
    ]


def test_daily_usage_over_128_days_is_split(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient
) -> None:
    # Given usage on the first and last day of a 300-day range
    start = date(2025, 1, 1)
    end = start + timedelta(days=299)
    fake.set_daily_usage(SUBSCRIBER, start, download_kb=1024, upload_kb=0)
    fake.set_daily_usage(SUBSCRIBER, end, download_kb=0, upload_kb=1024)

    # When it is read
    usage = client.daily_usage(SUBSCRIBER, start, end)

    # Then three calls of at most 128 days covered it without gaps or overlaps
    calls = [c.body for c in fake.requests if c.path.endswith("/data/daily")]
    assert len(calls) == 3
    windows = [(datetime.fromisoformat(c["start"]), datetime.fromisoformat(c["end"])) for c in calls]
    assert all(last - first <= timedelta(days=128) for first, last in windows)
    assert windows[0][0].date() == start and windows[-1][1].date() == end
    assert all(b[0] - a[1] == timedelta(seconds=1) for a, b in itertools.pairwise(windows))
    assert [u.usage_date for u in usage] == [start, end]


def test_daily_usage_rejects_an_inverted_range(client: InterstellioClient) -> None:
    # Given / When / Then
    with pytest.raises(ValidationFailed):
        client.daily_usage(SUBSCRIBER, date(2026, 2, 1), date(2026, 1, 1))


def test_fake_refuses_ranges_over_128_days(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient
) -> None:
    # Given a raw request spanning 200 days (bypassing the client's split)
    import httpx

    client.get_subscriber(SUBSCRIBER)
    token = _token(fake)

    # When it is sent
    response = httpx.post(
        f"{fake.url}/v1/subscriber/{SUBSCRIBER}/data/daily",
        json={"start": "2026-01-01T00:00:00+02:00", "end": "2026-07-20T00:00:00+02:00"},
        headers={"X-Auth-Token": token},
    )

    # Then the fake answers 400 with the error envelope
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"title", "description", "request_id"}


# -- Retries and failures ------------------------------------------------------------------------------------


def test_429_is_retried_then_succeeds(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient, sleeps: list[float]
) -> None:
    # Given an authenticated client and a rate limit on the next call
    client.get_subscriber(SUBSCRIBER)
    fake.fail_next("http_429")

    # When it calls
    subscriber = client.set_subscriber_enabled(SUBSCRIBER, False)

    # Then it waited the Retry-After (0 s) and succeeded on the second attempt
    assert subscriber["enabled"] is False
    assert sleeps == [0.0]
    assert _paths(fake)[-2:] == [f"PATCH /v1/subscriber/{SUBSCRIBER}"] * 2


def test_5xx_is_retried_with_backoff_then_exhausted(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient, sleeps: list[float]
) -> None:
    # Given an authenticated client and three server errors in a row
    client.get_subscriber(SUBSCRIBER)
    fake.fail_next("http_500", times=2)
    fake.fail_next("http_500", status=503)

    # When it calls
    with pytest.raises(ProviderError) as caught:
        client.get_subscriber(SUBSCRIBER)

    # Then it tried three times with growing jittered delays, then gave up
    assert caught.value.extra["code"] == "unavailable"
    assert caught.value.extra["http_status"] == 503
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0
    assert _paths(fake).count(f"GET /v1/subscriber/{SUBSCRIBER}") == 4
    _assert_no_secrets(caught.value, fake)


def test_timeouts_are_retried_then_exhausted(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient, sleeps: list[float]
) -> None:
    # Given an authenticated client and a server that hangs three times
    client.get_subscriber(SUBSCRIBER)
    fake.fail_next("timeout", times=3, seconds=0.6)

    # When it calls
    with pytest.raises(ProviderError) as caught:
        client.get_subscriber(SUBSCRIBER)

    # Then it gave up after three attempts
    assert caught.value.extra["code"] == "timeout"
    assert len(sleeps) == 2
    _assert_no_secrets(caught.value, fake)


def test_timeout_then_success(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient, sleeps: list[float]
) -> None:
    # Given one hang
    fake.fail_next("timeout", seconds=0.6)

    # When the first call (the token) hangs once
    subscriber = client.get_subscriber(SUBSCRIBER)

    # Then the retry succeeded
    assert subscriber["id"] == SUBSCRIBER
    assert len(sleeps) == 1


def test_malformed_reply_is_a_provider_error_without_retry(
    fake: fake_interstellio.FakeInterstellio, client: InterstellioClient, sleeps: list[float]
) -> None:
    # Given an authenticated client and a garbage reply
    client.get_subscriber(SUBSCRIBER)
    fake.fail_next("malformed")

    # When / Then
    with pytest.raises(ProviderError) as caught:
        client.get_subscriber(SUBSCRIBER)
    assert caught.value.extra["code"] == "malformed"
    assert sleeps == []
    _assert_no_secrets(caught.value, fake)


def test_connection_refused_is_a_provider_error(fake: fake_interstellio.FakeInterstellio) -> None:
    # Given a server that is gone
    settings = _settings(fake)
    fake.stop()

    # When / Then
    with interstellio_client_from_settings(settings) as client, pytest.raises(ProviderError) as caught:
        client.get_subscriber(SUBSCRIBER)
    assert caught.value.extra["code"] in {"unreachable", "timeout"}
