"""A fake Interstellio (NebularStack) API + telemetry server, per providers-interstellio.md §8.

Both base URLs (API and telemetry) point at `fake.url`. Endpoints:

- `POST /v3/token` `{"domain", "username", "password"}` → `{"token", "context": {"domain", "tenant_id"},
  ...}`; wrong credentials → 401.
- Every other endpoint needs a valid `X-Auth-Token` (401 otherwise).
- `GET /v1/subscribers?username=&l=&p=` → `{"payload": [...], "metadata": {...}}`; `l` > 50 → 400.
- `GET /v1/subscriber/{id}`, `PATCH /v1/subscriber/{id}` (JSON body merged, `profile_id` included;
  `enabled` must be a boolean); unknown id → 404.
- `POST /v1/subscriber` (§4.3): `virtual_id`, `service_id`, `profile_id`, `username` required (400), a
  username already held → 409, a `profile_id` starting `unknown-` → 400 (a profile Interstellio does not
  have); returns the new subscriber with a fresh `id`.
- `POST /v1/subscriber/{id}/data/daily` `{"start", "end"}` (ISO datetimes with offset) → one entry per seeded
  SAST day in range: `{"time": "<day>T00:00:00+02:00", "download_kb", "upload_kb", "combined_kb"}`, wrapped in
  `{"payload": [...]}` or bare when `usage_shape = "array"`. Range over 128 days → 400; unknown id → 404.
  With an `X-Timezone` other than Africa/Johannesburg the bucket times are written in UTC.
- Errors use the envelope `{"error": {"title", "description", "request_id"}}`.

Test hooks (besides `requests`, `fail_next`, `reset_faults`): `add_subscriber(id, username, enabled=True)`,
`time_out_next_creations(times, applied=)` (a POST /v1/subscriber outlasts the client, created or not),
`subscribers`, `set_daily_usage(subscriber_id, day, download_kb=, upload_kb=)`, `expire_tokens()`,
`usage_shape`. Fault kinds for `fail_next`: `http_500` (option `status` for 502/503/504), `http_429`
(`Retry-After: 0`, option `retry_after`), `timeout` (option `seconds`, default 1.0), `malformed` (200,
non-JSON).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from isp_billing_cli.fakes import FakeRequestHandler, FakeServer, Fault

SAST = timezone(timedelta(hours=2), "SAST")
DEFAULT_DOMAIN = "isp.example"
DEFAULT_USERNAME = "api@isp.example"
DEFAULT_PASSWORD = "fake-interstellio-password"  # noqa: S105 (a local fake's fixed credential)
MAX_DAILY_RANGE = timedelta(days=128)


@dataclass
class HttpCall:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any

    def __repr__(self) -> str:
        headers = {k: ("<redacted>" if k.lower() == "x-auth-token" else v) for k, v in self.headers.items()}
        body = (
            {**self.body, "password": "<redacted>"}
            if isinstance(self.body, dict) and "password" in self.body
            else self.body
        )
        return f"HttpCall({self.method} {self.path}, headers={headers!r}, body={body!r})"


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = headers or {}


def _error(status: int, title: str, description: str) -> _Reply:
    return _Reply(
        status, {"error": {"title": title, "description": description, "request_id": str(uuid.uuid4())}}
    )


class FakeInterstellio(FakeServer):
    fault_kinds = frozenset({"http_500", "http_429", "timeout", "malformed"})

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        domain: str = DEFAULT_DOMAIN,
        username: str = DEFAULT_USERNAME,
        password: str = DEFAULT_PASSWORD,
        tenant_id: str | None = None,
    ) -> None:
        self.handler_class = _InterstellioHandler
        super().__init__(host, port)
        self.domain = domain
        self.username = username
        self.password = password
        self.tenant_id = tenant_id or str(uuid.uuid4())
        self.usage_shape: Literal["payload", "array"] = "payload"
        self._tokens: set[str] = set()
        self._subscribers: dict[str, dict[str, Any]] = {}
        self._usage: dict[str, dict[date, tuple[int, int]]] = {}
        self._state_lock = threading.RLock()
        self._creation_timeouts: list[bool] = []

    # -- hooks -----------------------------------------------------------------------------------------------

    def add_subscriber(
        self, subscriber_id: str, username: str, enabled: bool = True, **extra: Any
    ) -> dict[str, Any]:
        now = datetime.now(SAST).isoformat(timespec="seconds")
        subscriber = {
            "id": subscriber_id,
            "username": username,
            "name": username.split("@", 1)[0],
            "enabled": enabled,
            "expire": None,
            "profile_id": str(uuid.uuid4()),
            "service_id": str(uuid.uuid4()),
            "virtual_id": str(uuid.uuid4()),
            "tenant_id": self.tenant_id,
            "domain": self.domain,
            "creation_time": now,
            "updated_time": now,
            "last_seen": None,
            "timezone": "Africa/Johannesburg",
            **extra,
        }
        with self._state_lock:
            self._subscribers[subscriber_id] = subscriber
            self._usage.setdefault(subscriber_id, {})
        return dict(subscriber)

    @property
    def subscribers(self) -> dict[str, dict[str, Any]]:
        with self._state_lock:
            return {k: dict(v) for k, v in self._subscribers.items()}

    def set_daily_usage(self, subscriber_id: str, day: date, *, download_kb: int, upload_kb: int) -> None:
        with self._state_lock:
            if subscriber_id not in self._subscribers:
                raise KeyError(subscriber_id)
            self._usage[subscriber_id][day] = (download_kb, upload_kb)

    def time_out_next_creations(self, times: int = 1, *, applied: bool) -> None:
        """The next `times` POST /v1/subscriber calls outlast the client's timeout; with `applied` the
        subscriber is created all the same (the answer is lost, not the work)."""
        with self._state_lock:
            self._creation_timeouts.extend([applied] * times)

    def take_creation_timeout(self) -> bool | None:
        with self._state_lock:
            return self._creation_timeouts.pop(0) if self._creation_timeouts else None

    def expire_tokens(self) -> None:
        """Every issued token becomes invalid: the next call with one gets 401."""
        with self._state_lock:
            self._tokens.clear()

    # -- endpoints -------------------------------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: Any
    ) -> Any:
        if method == "POST" and path == "/v3/token":
            return self._token(body)
        with self._state_lock:
            if headers.get("x-auth-token") not in self._tokens:
                raise _error(401, "Unauthorized", "Missing or invalid X-Auth-Token")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "GET" and parts == ["v1", "subscribers"]:
            return self._list(query)
        if method == "POST" and parts == ["v1", "subscriber"]:
            return self._create(body)
        if len(parts) == 3 and parts[:2] == ["v1", "subscriber"]:
            if method == "GET":
                return self._subscriber(parts[2])
            if method == "PATCH":
                return self._patch(parts[2], body)
        if method == "POST" and len(parts) == 5 and parts[:2] == ["v1", "subscriber"] and parts[3] == "data":
            return self._daily(parts[2], parts[4], body, headers.get("x-timezone"))
        raise _error(404, "Not Found", "No such endpoint")

    def _token(self, body: Any) -> Any:
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) for k in ("domain", "username", "password")
        ):
            raise _error(400, "Bad Request", "domain, username and password are required")
        if (body["domain"], body["username"], body["password"]) != (
            self.domain,
            self.username,
            self.password,
        ):
            raise _error(401, "Unauthorized", "Invalid credentials")
        token = secrets.token_urlsafe(32)
        with self._state_lock:
            self._tokens.add(token)
        return {
            "token": token,
            "token_id": str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()),
            "username": self.username,
            "name": "API User",
            "roles": ["Subscriber Accounts"],
            "domain": self.domain,
            "creation_time": datetime.now(SAST).isoformat(timespec="seconds"),
            "token_app": None,
            "context": {"domain": self.domain, "tenant_id": self.tenant_id},
        }

    def _list(self, query: dict[str, list[str]]) -> Any:
        try:
            limit = int(query.get("l", ["10"])[0])
            page = int(query.get("p", ["1"])[0])
        except ValueError:
            raise _error(400, "Bad Request", "l and p must be integers") from None
        if limit > 50 or limit < 1 or page < 1:
            raise _error(400, "Bad Request", "l must be 1 to 50 and p at least 1")
        username = query.get("username", [None])[0]
        with self._state_lock:
            matches = [
                dict(s)
                for s in self._subscribers.values()
                if username is None
                or (
                    s["username"].startswith(username[:-1])
                    if username.endswith("*")
                    else s["username"] == username
                )
            ]
        pages = max(1, -(-len(matches) // limit))
        return {
            "payload": matches[(page - 1) * limit : page * limit],
            "metadata": {"records": len(matches), "page": page, "pages": pages, "per_page": limit},
        }

    def _subscriber(self, subscriber_id: str) -> Any:
        with self._state_lock:
            subscriber = self._subscribers.get(subscriber_id)
            if subscriber is None:
                raise _error(404, "Not Found", "Subscriber not found")
            return dict(subscriber)

    def _create(self, body: Any) -> Any:
        required = ("virtual_id", "service_id", "profile_id", "username")
        if not isinstance(body, dict) or not all(
            isinstance(body.get(k), str) and body[k].strip() for k in required
        ):
            raise _error(400, "Bad Request", "virtual_id, service_id, profile_id and username are required")
        if "enabled" in body and not isinstance(body["enabled"], bool):
            raise _error(400, "Bad Request", "enabled must be a boolean")
        if body["profile_id"].startswith("unknown-"):
            raise _error(400, "Bad Request", "Profile not found")
        with self._state_lock:
            if any(s["username"] == body["username"] for s in self._subscribers.values()):
                raise _error(409, "Conflict", "Username already exists")
            extra = {
                k: v
                for k, v in body.items()
                if k not in {"id", "tenant_id", "domain", "password", "username", "enabled"}
            }
            return self.add_subscriber(
                str(uuid.uuid4()), body["username"], bool(body.get("enabled", True)), **extra
            )

    def _patch(self, subscriber_id: str, body: Any) -> Any:
        if not isinstance(body, dict) or ("enabled" in body and not isinstance(body["enabled"], bool)):
            raise _error(400, "Bad Request", "enabled must be a boolean")
        with self._state_lock:
            subscriber = self._subscribers.get(subscriber_id)
            if subscriber is None:
                raise _error(404, "Not Found", "Subscriber not found")
            subscriber.update({k: v for k, v in body.items() if k not in {"id", "tenant_id", "domain"}})
            subscriber["updated_time"] = datetime.now(SAST).isoformat(timespec="seconds")
            return dict(subscriber)

    def _daily(self, subscriber_id: str, aggregation: str, body: Any, timezone_name: str | None) -> Any:
        if aggregation != "daily":
            raise _error(400, "Bad Request", "Only daily aggregation is implemented by the fake")
        try:
            start = datetime.fromisoformat(str(body["start"]))
            end = datetime.fromisoformat(str(body["end"]))
        except (KeyError, TypeError, ValueError):
            raise _error(400, "Bad Request", "start and end must be ISO 8601 datetimes") from None
        if start.tzinfo is None or end.tzinfo is None or end < start:
            raise _error(400, "Bad Request", "start and end need an offset and end must not precede start")
        if end - start > MAX_DAILY_RANGE:
            raise _error(400, "Bad Request", "Maximum range for daily aggregation is 128 days")
        with self._state_lock:
            if subscriber_id not in self._subscribers:
                raise _error(404, "Not Found", "Subscriber not found")
            usage = dict(self._usage.get(subscriber_id, {}))
        first, last = start.astimezone(SAST).date(), end.astimezone(SAST).date()
        output_zone = SAST if timezone_name == "Africa/Johannesburg" else UTC
        entries = []
        for day in sorted(d for d in usage if first <= d <= last):
            download_kb, upload_kb = usage[day]
            bucket = datetime(day.year, day.month, day.day, tzinfo=SAST).astimezone(output_zone)
            entries.append(
                {
                    "time": bucket.isoformat(),
                    "download_kb": download_kb,
                    "upload_kb": upload_kb,
                    "combined_kb": download_kb + upload_kb,
                    "download_kbps": 0,
                    "upload_kbps": 0,
                }
            )
        return entries if self.usage_shape == "array" else {"payload": entries}


class _InterstellioHandler(FakeRequestHandler):
    def _dispatch(self, method: str) -> None:
        fake: FakeInterstellio = self.fake
        split = urlsplit(self.path)
        raw = self.read_body()
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            malformed_request = True
        else:
            malformed_request = False
        query = parse_qs(split.query)
        fake.record(HttpCall(method, split.path, query, headers, body))
        if method == "POST" and split.path.rstrip("/") == "/v1/subscriber":
            applied = fake.take_creation_timeout()
            if applied is not None:
                if applied:
                    with contextlib.suppress(_Reply):
                        fake.handle(method, split.path, query, headers, body)
                fake.wait_out_client(Fault("timeout"))
                self._json(_error(504, "Gateway Timeout", "Injected timeout"))
                return
        fault = fake.take_fault()
        if fault is not None:
            if fault.kind == "http_500":
                status = int(fault.options.get("status", 500))
                self._json(_error(status, "Service Unavailable", "Injected failure"))
                return
            if fault.kind == "http_429":
                reply = _error(429, "Too Many Requests", "Your Rate Limited")
                reply.headers["Retry-After"] = str(fault.options.get("retry_after", "0"))
                self._json(reply)
                return
            if fault.kind == "timeout":
                fake.wait_out_client(fault)
                self._json(_error(504, "Gateway Timeout", "Injected timeout"))
                return
            if fault.kind == "malformed":
                self.send(200, b"<html>upstream error</html>", "application/json")
                return
        try:
            if malformed_request:
                raise _error(400, "Bad Request", "Body is not JSON")
            result = fake.handle(method, split.path, query, headers, body)
        except _Reply as reply:
            self._json(reply)
            return
        self._json(_Reply(200, result))

    def _json(self, reply: _Reply) -> None:
        self.send(reply.status, json.dumps(reply.body).encode(), "application/json", reply.headers)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")


def start(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    domain: str = DEFAULT_DOMAIN,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
    tenant_id: str | None = None,
) -> FakeInterstellio:
    """Start a fake Interstellio on a daemon thread; `stop()` it when done."""
    return FakeInterstellio(
        host, port, domain=domain, username=username, password=password, tenant_id=tenant_id
    ).start()
