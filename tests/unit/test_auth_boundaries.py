"""Token and secret checks at their edges (issue 10, section 6): unset secrets, the leeway, which refusal
says what, the cron secret. Each test pins a rule a mutant of auth.py would break."""

import dataclasses
import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import UUID

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from isp_billing.auth import AdminPrincipal, CustomerPrincipal, bearer_token, is_cron_secret, verify_token
from isp_billing.errors import ConfigurationError, Forbidden, Unauthenticated
from isp_billing.settings import Settings
from tests.unit.test_auth import jwks_server  # noqa: F401  (the fixture)

SECRET = "unit-test-secret-long-enough-for-every-hmac-algorithm-0123456789abcdef"
SUB = "a0000000-0000-4000-8000-0000000000aa"
CRON = "a-cron-secret-long-enough-0123456789"


def _settings(**values):
    defaults = {"jwt_secret": None, "jwt_jwks_url": None, "jwt_issuer": None, "cron_secret": None}
    return Settings(**{**defaults, **values})


def _token(key=SECRET, algorithm="HS256", headers=None, **claims):
    now = int(time.time())
    body = {"sub": SUB, "aud": "authenticated", "iat": now, "exp": now + 600, **claims}
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None}, key, algorithm=algorithm, headers=headers
    )


def _refusal(token, settings):
    with pytest.raises(Unauthenticated) as refused:
        verify_token(token, settings)
    return refused.value.detail


def test_with_neither_a_secret_nor_a_jwks_url_verification_is_a_configuration_error():
    # Given no JWT secret and no JWKS URL / When any token is verified
    # Then it is the server's misconfiguration (500), not the caller's fault
    with pytest.raises(ConfigurationError, match="JWT_SECRET or JWT_JWKS_URL"):
        verify_token(_token(), _settings())


def test_an_asymmetric_token_with_only_a_secret_configured_is_refused_not_misconfigured():
    # Given only an HS256 secret / When an RS256 token arrives / Then the algorithm is refused (401)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert (
        _refusal(_token(key, "RS256"), _settings(jwt_secret=SECRET))
        == "The token's algorithm is not accepted."
    )


def test_each_refusal_says_what_is_wrong():
    settings = _settings(jwt_secret=SECRET)
    now = int(time.time())
    assert _refusal("not-a-token", settings) == "The token is malformed."
    assert _refusal(_token(exp=now - 3600), settings) == "The token has expired."
    assert (
        _refusal(_token(key="another-secret-entirely-0123456789abcdef"), settings)
        == "The token is not valid."
    )
    assert _refusal(_token(sub="user-42"), settings) == "The token's subject is not a user id."
    assert _refusal(_token(exp=None), settings) == "The token is not valid."
    assert _refusal(_token(sub=None), settings) == "The token is not valid."


def test_a_token_expired_within_the_30_second_leeway_is_still_accepted_and_beyond_it_is_not():
    # Given tokens that expired 10 s and 45 s ago / When verified
    settings = _settings(jwt_secret=SECRET)
    now = int(time.time())
    # Then the first passes (clock skew) and the second is expired
    assert verify_token(_token(exp=now - 10), settings)["sub"] == SUB
    assert _refusal(_token(exp=now - 45), settings) == "The token has expired."


def _verify_at(monkeypatch, token, moment: float):
    """Verify with PyJWT's clock stopped at `moment` (a POSIX timestamp)."""

    class StoppedClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(moment, tz)

    monkeypatch.setattr(jwt.api_jwt, "datetime", StoppedClock)
    return verify_token(token, _settings(jwt_secret=SECRET))


def test_the_leeway_is_exactly_30_seconds(monkeypatch):
    # Given a token that expires at E
    expires = int(time.time()) + 3600
    token = _token(iat=expires - 600, exp=expires)
    # When verified 29.5 s after E / Then it is still accepted (within the 30 s leeway)
    assert _verify_at(monkeypatch, token, expires + 29.5)["sub"] == SUB
    # And 30.5 s after E it has expired
    with pytest.raises(Unauthenticated, match="expired"):
        _verify_at(monkeypatch, token, expires + 30.5)


def test_the_audience_and_a_configured_issuer_must_match():
    # Given a configured issuer / When tokens from it, from another issuer, or for another audience arrive
    settings = _settings(jwt_secret=SECRET, jwt_issuer="https://project.supabase.co/auth/v1")
    good = _token(iss="https://project.supabase.co/auth/v1")
    # Then only the matching one passes
    assert verify_token(good, settings)["iss"] == "https://project.supabase.co/auth/v1"
    assert _refusal(_token(iss="https://evil.example/auth/v1"), settings) == "The token is not valid."
    assert _refusal(_token(aud="anon", iss="https://project.supabase.co/auth/v1"), settings) == (
        "The token is not valid."
    )


def test_the_claims_come_back_whole():
    claims = verify_token(_token(role="authenticated", email_verified=True), _settings(jwt_secret=SECRET))
    assert claims["sub"] == SUB and claims["role"] == "authenticated" and claims["email_verified"] is True


def test_with_a_secret_and_a_jwks_url_both_kinds_of_token_are_verified(jwks_server):  # noqa: F811
    # Given both an HS256 secret and a JWKS URL (a project moving to asymmetric keys)
    private_key, url = jwks_server
    settings = _settings(jwt_secret=SECRET, jwt_jwks_url=url)
    asymmetric = _token(private_key, "ES256", headers={"kid": "test-key"})
    # When an HS256 and an ES256 token arrive / Then both are verified
    assert verify_token(_token(), settings)["sub"] == SUB
    assert verify_token(asymmetric, settings)["sub"] == SUB
    # And an ES256 token signed by a key the JWKS does not hold is refused as unknown
    stranger = ec.generate_private_key(ec.SECP256R1())
    unknown = _token(stranger, "ES256", headers={"kid": "other-key"})
    assert _refusal(unknown, settings) == "The token's signing key is unknown."


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc.def", "abc.def"), ("bearer abc.def", "abc.def"), ("BEARER  abc.def ", "abc.def")],
)
def test_the_bearer_scheme_is_case_insensitive_and_the_token_is_trimmed(header, token):
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "An Authorization: Bearer <token> header is required."),
        ("", "An Authorization: Bearer <token> header is required."),
        ("Bearer    ", "The Authorization header must be 'Bearer <token>'."),
        ("Basic abc", "The Authorization header must be 'Bearer <token>'."),
        ("Bearerabc", "The Authorization header must be 'Bearer <token>'."),
    ],
)
def test_a_missing_or_malformed_header_says_which(header, message):
    with pytest.raises(Unauthenticated) as refused:
        bearer_token(header)
    assert refused.value.detail == message


def test_with_no_cron_secret_configured_no_token_is_the_cron_secret():
    # Given no CRON_SECRET / When anything is offered, even an empty string / Then it is not the secret
    assert is_cron_secret("", _settings()) is False
    assert is_cron_secret("anything", _settings()) is False


def test_the_cron_secret_matches_exactly():
    settings = _settings(cron_secret=CRON)
    assert is_cron_secret(CRON, settings) is True
    assert is_cron_secret(CRON[:-1], settings) is False
    assert is_cron_secret(CRON + "x", settings) is False
    assert is_cron_secret(CRON.upper(), settings) is False


def test_an_admin_principal_requires_one_of_the_named_roles():
    admin = AdminPrincipal(
        admin_id=SUB,
        auth_user_id=SUB,
        role="support",
        email="a@example.test",
        full_name="A",  # type: ignore[arg-type]
    )
    admin.require("support", "super_admin")  # does not raise
    with pytest.raises(Forbidden, match=r"The support role may not do this\."):
        admin.require("billing_admin", "super_admin")


def test_principals_cannot_be_altered_after_authentication():
    # Given a customer and an admin principal, as the auth dependencies build them
    customer = CustomerPrincipal(customer_id=UUID(int=1), auth_user_id=UUID(SUB))
    admin = AdminPrincipal(
        admin_id=UUID(int=2), auth_user_id=UUID(SUB), role="support", email="a@example.test", full_name="A"
    )
    # When code tries to swap the customer or raise the role / Then it cannot
    with pytest.raises(dataclasses.FrozenInstanceError):
        customer.customer_id = UUID(int=3)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        admin.role = "super_admin"  # type: ignore[misc]
    assert customer == CustomerPrincipal(UUID(int=1), UUID(SUB)) and hash(customer) == hash(
        CustomerPrincipal(UUID(int=1), UUID(SUB))
    )


def test_the_jwks_is_fetched_once_for_many_verifications():
    # Given a JWKS endpoint that counts its fetches (a URL no other test uses, so nothing is cached yet)
    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key()))
    jwk.update(kid="counted-key", alg="ES256", use="sig")
    body = json.dumps({"keys": [jwk]}).encode()
    fetches = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/counted/jwks.json"
        # When three tokens are verified, each with fresh Settings (as after a settings reload)
        for _ in range(3):
            token = _token(private_key, "ES256", headers={"kid": "counted-key"})
            assert verify_token(token, _settings(jwt_jwks_url=url))["sub"] == SUB
        # Then the key set was fetched once: the client (and its cache) is kept per URL
        assert fetches == ["/counted/jwks.json"]
    finally:
        server.shutdown()
