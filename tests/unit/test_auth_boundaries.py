"""Token and secret checks at their edges (issue 10, section 6): unset secrets, the leeway, which refusal
says what, the cron secret. Each test pins a rule a mutant of auth.py would break."""

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from isp_billing.auth import AdminPrincipal, bearer_token, is_cron_secret, verify_token
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
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm=algorithm, headers=headers)


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
    assert _refusal(_token(key, "RS256"), _settings(jwt_secret=SECRET)) == "The token's algorithm is not accepted."


def test_each_refusal_says_what_is_wrong():
    settings = _settings(jwt_secret=SECRET)
    now = int(time.time())
    assert _refusal("not-a-token", settings) == "The token is malformed."
    assert _refusal(_token(exp=now - 3600), settings) == "The token has expired."
    assert _refusal(_token(key="another-secret-entirely-0123456789abcdef"), settings) == "The token is not valid."
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
        admin_id=SUB, auth_user_id=SUB, role="support", email="a@example.test", full_name="A"  # type: ignore[arg-type]
    )
    admin.require("support", "super_admin")  # does not raise
    with pytest.raises(Forbidden, match="The support role may not do this."):
        admin.require("billing_admin", "super_admin")
