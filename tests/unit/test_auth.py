"""Token verification: HS256 with the project secret, RS256/ES256 through a JWKS URL, and every refusal."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from isp_billing.auth import bearer_token, verify_token
from isp_billing.errors import Unauthenticated
from isp_billing.settings import Settings

SECRET = "unit-test-secret-long-enough-for-every-hmac-algorithm-0123456789abcdef"
SUB = "a0000000-0000-4000-8000-0000000000aa"


def _claims(**extra):
    now = int(time.time())
    return {"sub": SUB, "aud": "authenticated", "iat": now, "exp": now + 600, **extra}


def _hs256(**extra):
    return jwt.encode(_claims(**extra), SECRET, algorithm="HS256")


def test_a_valid_hs256_token_gives_its_claims():
    # Given a token signed with the project secret / When verified / Then its subject comes back
    claims = verify_token(_hs256(), Settings(jwt_secret=SECRET))
    assert claims["sub"] == SUB


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            jwt.encode(_claims(exp=int(time.time()) - 3600), SECRET, algorithm="HS256"), id="expired"
        ),
        pytest.param(
            jwt.encode(_claims(), "another-secret-entirely-0123456789", algorithm="HS256"), id="forged"
        ),
        pytest.param(jwt.encode(_claims(), None, algorithm="none"), id="alg-none"),
        pytest.param(jwt.encode(_claims(aud="anon"), SECRET, algorithm="HS256"), id="wrong-audience"),
        pytest.param(
            jwt.encode({"aud": "authenticated", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"),
            id="no-subject",
        ),
        pytest.param(jwt.encode(_claims(sub="not-a-uuid"), SECRET, algorithm="HS256"), id="subject-not-uuid"),
        pytest.param("not.a.token", id="garbage"),
        pytest.param(jwt.encode(_claims(), SECRET, algorithm="HS512"), id="unexpected-algorithm"),
    ],
)
def test_bad_tokens_are_unauthenticated(token):
    # Given a token that is expired, forged, unsigned, for another audience or malformed
    # When verified / Then it is refused as unauthenticated
    with pytest.raises(Unauthenticated):
        verify_token(token, Settings(jwt_secret=SECRET))


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Token abc"])
def test_the_header_must_be_a_bearer_token(header):
    with pytest.raises(Unauthenticated):
        bearer_token(header)


@pytest.fixture
def jwks_server():
    """A local JWKS endpoint serving one ES256 public key, as Supabase's asymmetric keys do."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key.public_key()))
    jwk.update(kid="test-key", alg="ES256", use="sig")
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield private_key, f"http://127.0.0.1:{server.server_address[1]}/auth/v1/.well-known/jwks.json"
    server.shutdown()


def test_an_es256_token_is_verified_through_the_jwks_url(jwks_server):
    # Given an ES256 token whose key is published at a JWKS URL
    private_key, url = jwks_server
    token = jwt.encode(_claims(), private_key, algorithm="ES256", headers={"kid": "test-key"})
    # When verified with that URL configured / Then its claims come back
    assert verify_token(token, Settings(jwt_jwks_url=url))["sub"] == SUB


def test_an_es256_token_with_an_unknown_key_is_refused(jwks_server):
    _, url = jwks_server
    stranger = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(_claims(), stranger, algorithm="ES256", headers={"kid": "other-key"})
    with pytest.raises(Unauthenticated):
        verify_token(token, Settings(jwt_jwks_url=url))


def test_an_hs256_token_is_refused_when_only_a_jwks_url_is_configured(jwks_server):
    # Given only asymmetric keys are configured / When an HS256 token arrives / Then it is refused
    # (no algorithm confusion: a public key is never used as an HMAC secret)
    _, url = jwks_server
    with pytest.raises(Unauthenticated):
        verify_token(_hs256(), Settings(jwt_jwks_url=url))
