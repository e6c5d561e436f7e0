"""Idempotent POSTs: the `Idempotency-Key` header, for any endpoint.

    outcome = idempotency.run(conn, IdempotentRequest.for_customer(...), effect)
    return idempotency.response(outcome)

- The key is optional: a request without it simply runs. With it, the first request runs the effect and its
  response is stored; a retry with the same key and the same request gets that response again (header
  `Idempotent-Replayed: true`) and causes nothing; the same key with a different request is 422.
- Insert first, in the effect's own transaction: the key row is inserted before the effect and completed
  with the response after it, and both commit (or roll back) together. A concurrent duplicate blocks on the
  unique index until the first commits, then replays its response: never a second effect. If the effect
  fails (any error), the key goes with the rollback and a retry runs afresh.
- Scope = route template + the caller's id, so keys of different endpoints and customers never meet; the
  database functions behind `repositories.idempotency` refuse a customer session another customer's scope
  and refuse every role but the API's own (a customer's JWT through Supabase's Data API cannot call them). The
  request fingerprint covers the concrete path and the body; it is a salted scrypt hash, because a body can
  carry a bank account number (a plain SHA-256 of a few known fields and 10^11 account numbers is
  brute-forceable; scrypt at this cost is not).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Header
from fastapi.responses import JSONResponse, Response

from isp_billing import idempotency_sql as repository
from isp_billing.db import Connection
from isp_billing.errors import Conflict, ValidationFailed
from isp_billing.observability import logger

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# scrypt cost: ~15 ms, 16 MiB: brute-forcing an account number out of a stored hash is futile.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32, "maxmem": 64 * 1024 * 1024}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        # Declared for clients and checked in _check_key (a bad key is the same 422 problem either way).
        json_schema_extra={"minLength": 1, "maxLength": 255, "pattern": _KEY.pattern},
        description="Optional. A unique key per intended operation (e.g. a UUID). A retry with the same key "
        "and request returns the first response and changes nothing; the same key with a different request "
        "is refused with 422. Keys are kept for 24 hours.",
    ),
]


@dataclass(frozen=True)
class IdempotentRequest:
    scope: str
    key: str | None
    request_hash: str
    customer_id: UUID | None

    @classmethod
    def for_customer(
        cls, *, route: str, path: str, body: Any, key: str | None, customer_id: UUID
    ) -> IdempotentRequest:
        scope = f"{route}:{customer_id}"
        if key is None:
            return cls(scope, None, "", customer_id)
        _check_key(key)
        return cls(scope, key, fingerprint(scope, key, path, body), customer_id)

    @classmethod
    def for_admin(
        cls, *, route: str, path: str, body: Any, key: str | None, admin_id: UUID
    ) -> IdempotentRequest:
        """An admin's request: scoped to the admin, so two admins' keys never meet; no customer."""
        scope = f"{route}:admin:{admin_id}"
        if key is None:
            return cls(scope, None, "", None)
        _check_key(key)
        return cls(scope, key, fingerprint(scope, key, path, body), None)


def _check_key(key: str) -> None:
    if not _KEY.match(key):
        raise ValidationFailed(f"{HEADER}: must be 1 to 255 visible ASCII characters", field=HEADER.lower())


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool = False


def fingerprint(scope: str, key: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        {"path": path, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    salt = f"{scope}\x1f{key}".encode()
    return "scrypt$" + hashlib.scrypt(canonical.encode(), salt=salt, **_SCRYPT).hex()


def begin(conn: Connection, request: IdempotentRequest) -> Outcome | None:
    """Claim the key in `conn`'s transaction: None means "run the effect, then `finish`"; an Outcome is the
    first request's response to replay (nothing may run)."""
    if request.key is None:
        return None
    stored = repository.claim(conn, request.scope, request.key, request.request_hash, request.customer_id)
    if stored["claimed"]:
        return None
    if stored["request_hash"] != request.request_hash:
        raise ValidationFailed(
            f"This {HEADER} was already used for a different request; use a new key.", field=HEADER.lower()
        )
    if stored["status"] != "completed":
        # Only possible if a holder committed without completing (a bug): never run a second effect.
        raise Conflict(f"A request with this {HEADER} is still in progress; retry shortly.")
    logger.info("idempotent replay", extra={"scope": request.scope.split(":", 1)[0]})
    return Outcome(stored["response_status"], stored["response_body"], replayed=True)


def finish(conn: Connection, request: IdempotentRequest, status: int, body: Any) -> Outcome:
    """Store the effect's response under the claimed key, in the effect's own transaction."""
    if request.key is not None:
        repository.complete(conn, request.scope, request.key, status, body)
    return Outcome(status, body)


def run(conn: Connection, request: IdempotentRequest, effect: Callable[[], tuple[int, Any]]) -> Outcome:
    """Run `effect` (returning status and a JSON-able body) at most once per key, in `conn`'s transaction."""
    replay = begin(conn, request)
    if replay is not None:
        return replay
    status, body = effect()
    return finish(conn, request, status, body)


def response(outcome: Outcome) -> Response:
    headers = {REPLAYED_HEADER: "true"} if outcome.replayed else None
    if outcome.body is None:
        return Response(status_code=outcome.status, headers=headers)
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
