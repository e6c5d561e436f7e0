"""Who is calling: Supabase JWTs (HS256 with the project secret, RS256/ES256 through a JWKS URL).

A token only proves an identity (`sub`). What the caller may do comes from the database: a customer is the
`customers` row with that `auth_user_id`; an admin is an active `admin_users` row, whose `role` column is
the only role that counts (a token's own `role` claim grants nothing).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal
from uuid import UUID

import jwt

from isp_billing.errors import ConfigurationError, Forbidden, Unauthenticated
from isp_billing.settings import Settings, get_settings

AdminRole = Literal["super_admin", "billing_admin", "support"]
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")


@dataclass(frozen=True)
class CustomerPrincipal:
    customer_id: UUID
    auth_user_id: UUID


@dataclass(frozen=True)
class AdminPrincipal:
    admin_id: UUID
    auth_user_id: UUID
    role: AdminRole
    email: str
    full_name: str

    def require(self, *roles: AdminRole) -> None:
        if self.role not in roles:
            raise Forbidden(f"The {self.role} role may not do this.")

    @property
    def is_system(self) -> bool:
        """The system actor (the overdue job): audit rows say `system` and name no admin."""
        return self.admin_id == SYSTEM_ACTOR_ID

    @property
    def audited_admin_id(self) -> UUID | None:
        """The admin to record as the actor (None for the system actor)."""
        return None if self.is_system else self.admin_id


# The system actor acts with billing_admin's permissions (suspend for non_payment and reactivate what it
# suspended); the code that uses it (the enforce-overdue job) restricts it to exactly that.
SYSTEM_ACTOR_ID = UUID(int=0)
SYSTEM_ACTOR = AdminPrincipal(
    admin_id=SYSTEM_ACTOR_ID, auth_user_id=SYSTEM_ACTOR_ID, role="billing_admin", email="", full_name="System"
)


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("An Authorization: Bearer <token> header is required.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def verify_token(token: str, settings: Settings | None = None) -> dict[str, Any]:
    """The token's claims when its signature, expiry and audience check out; Unauthenticated otherwise."""
    settings = settings or get_settings()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise Unauthenticated("The token is malformed.") from None
    algorithm = header.get("alg")
    key: Any
    if algorithm == "HS256" and settings.jwt_secret is not None:
        key = settings.jwt_secret.get_secret_value()
    elif algorithm in ASYMMETRIC_ALGORITHMS and settings.jwt_jwks_url:
        try:
            key = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientError:
            raise Unauthenticated("The token's signing key is unknown.") from None
    elif settings.jwt_secret is None and not settings.jwt_jwks_url:
        raise ConfigurationError("invalid configuration: JWT_SECRET or JWT_JWKS_URL is required")
    else:
        # Includes alg=none and any algorithm we were not configured for.
        raise Unauthenticated("The token's algorithm is not accepted.")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub"]},
            leeway=30,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The token has expired.") from None
    except jwt.PyJWTError:
        raise Unauthenticated("The token is not valid.") from None
    try:
        UUID(str(claims["sub"]))
    except ValueError:
        raise Unauthenticated("The token's subject is not a user id.") from None
    return claims


def is_cron_secret(token: str, settings: Settings | None = None) -> bool:
    settings = settings or get_settings()
    if settings.cron_secret is None:
        return False
    return hmac.compare_digest(token.encode(), settings.cron_secret.get_secret_value().encode())
