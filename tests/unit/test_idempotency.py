"""Idempotency-Key rules without a database (issue 10, section 6): which keys are accepted, the request
fingerprint (stable across releases: keys stored before a deploy must still match after it), the replayed
response. Each test pins a rule a mutant of idempotency.py would break."""

import dataclasses
import json
from uuid import UUID

import pytest

from isp_billing.errors import ValidationFailed
from isp_billing.idempotency import REPLAYED_HEADER, IdempotentRequest, Outcome, fingerprint, response

CUSTOMER = UUID("c0000000-0000-4000-8000-000000000001")
ROUTE = "POST /api/customer/payment-methods"
PATH = "/api/customer/payment-methods"
BODY = {"method_type": "eft", "display_name": "Rent", "amount": 1}


def _request(key, body=BODY, path=PATH, customer_id=CUSTOMER):
    return IdempotentRequest.for_customer(route=ROUTE, path=path, body=body, key=key, customer_id=customer_id)


def test_without_a_key_the_request_is_scoped_but_carries_no_fingerprint():
    request = _request(None)
    assert request == IdempotentRequest(f"{ROUTE}:{CUSTOMER}", None, "", CUSTOMER)


def test_an_admin_request_is_scoped_to_the_admin_and_carries_no_customer():
    # Given two admins using the same key on the same route
    admin, other = UUID(int=1), UUID(int=2)
    mine = IdempotentRequest.for_admin(route=ROUTE, path=PATH, body=BODY, key="k", admin_id=admin)
    theirs = IdempotentRequest.for_admin(route=ROUTE, path=PATH, body=BODY, key="k", admin_id=other)
    # When their requests are built / Then the scopes differ (their keys never meet) and no customer is named
    assert mine.scope == f"{ROUTE}:admin:{admin}" and theirs.scope == f"{ROUTE}:admin:{other}"
    assert mine.customer_id is None and mine.request_hash != theirs.request_hash
    assert mine.request_hash == fingerprint(mine.scope, "k", PATH, BODY)


def test_an_admin_request_without_a_key_carries_no_fingerprint_and_a_bad_key_is_refused():
    admin = UUID(int=1)
    request = IdempotentRequest.for_admin(route=ROUTE, path=PATH, body=BODY, key=None, admin_id=admin)
    assert request == IdempotentRequest(f"{ROUTE}:admin:{admin}", None, "", None)
    with pytest.raises(ValidationFailed):
        IdempotentRequest.for_admin(route=ROUTE, path=PATH, body=BODY, key="bad key", admin_id=admin)


@pytest.mark.parametrize("key", ["k", "!", "~", "k" * 255, "550e8400-e29b-41d4-a716-446655440000", "a!b~c{}"])
def test_keys_of_1_to_255_visible_ascii_characters_are_accepted(key):
    request = _request(key)
    assert request.key == key and request.request_hash.startswith("scrypt$")


@pytest.mark.parametrize(
    "key", ["", "k" * 256, "with space", "tab\tkey", "new\nline", "del\x7f", "caf\u00e9", "nul\x00"]
)
def test_other_keys_are_refused_naming_the_header(key):
    # Given an empty, too long, spaced, control-character or non-ASCII key
    # When a request is built / Then 422 naming the header, never the key
    with pytest.raises(ValidationFailed) as refused:
        _request(key)
    assert refused.value.extra == {"field": "idempotency-key"}
    assert "255 visible ASCII" in refused.value.detail


def test_the_fingerprint_of_a_fixed_request_never_changes():
    # Given a request fingerprinted by an earlier release (its hash may sit in idempotency_keys for 24 h)
    # When fingerprinted now / Then it is the same scrypt hash, so a retry across a deploy still replays
    scope = f"{ROUTE}:{CUSTOMER}"
    assert fingerprint(scope, "key-1", PATH, BODY) == (
        "scrypt$47d790dfa717fd139eb1b8b4160c55922f74c4a402d4dffe16197bd7e6399072"
    )


def test_the_fingerprint_ignores_key_order_but_not_values_path_key_or_scope():
    scope = f"{ROUTE}:{CUSTOMER}"
    base = fingerprint(scope, "key-1", PATH, BODY)
    reordered = json.loads(json.dumps(dict(reversed(list(BODY.items())))))
    assert fingerprint(scope, "key-1", PATH, reordered) == base
    assert fingerprint(scope, "key-1", PATH, {**BODY, "amount": 2}) != base
    assert fingerprint(scope, "key-1", PATH + "/x", BODY) != base
    assert fingerprint(scope, "key-2", PATH, BODY) != base
    assert fingerprint(f"{ROUTE}:someone-else", "key-1", PATH, BODY) != base


def test_the_fingerprint_is_a_32_byte_hash_that_hides_the_body():
    value = fingerprint("s", "k", PATH, {"account_number": "62012345678"})
    prefix, _, digest = value.partition("$")
    assert prefix == "scrypt" and len(bytes.fromhex(digest)) == 32
    assert "62012345678" not in value


def test_the_fingerprint_covers_values_json_cannot_encode_by_their_text():
    # Given a body holding a UUID (not JSON) / When fingerprinted / Then it hashes like its string form
    as_uuid = fingerprint("s", "k", PATH, {"id": CUSTOMER})
    as_text = fingerprint("s", "k", PATH, {"id": str(CUSTOMER)})
    assert as_uuid == as_text


def test_the_fingerprint_of_non_ascii_text_never_changes_either():
    # Given a body with non-ASCII text, canonicalised as UTF-8 (not as JSON escapes)
    # When fingerprinted / Then the hash is the one earlier releases stored
    assert fingerprint("s", "k", "/p", {"n": "café"}) == (
        "scrypt$89389db0978d1437a07b6496da2c5e596cb785c3d4bac577c52cf15c42646259"
    )


def test_a_first_response_has_no_replay_header_and_a_replay_has_it():
    first = response(Outcome(201, {"id": "x"}))
    replay = response(Outcome(201, {"id": "x"}, replayed=True))
    assert first.status_code == replay.status_code == 201
    assert REPLAYED_HEADER.lower() not in first.headers
    assert replay.headers[REPLAYED_HEADER] == "true"
    assert json.loads(first.body) == json.loads(replay.body) == {"id": "x"}
    assert first.headers["content-type"] == "application/json"


def test_an_outcome_without_a_body_is_an_empty_response_with_its_status():
    empty = response(Outcome(204, None))
    assert empty.status_code == 204 and empty.body == b""
    replayed = response(Outcome(204, None, replayed=True))
    assert replayed.body == b"" and replayed.headers[REPLAYED_HEADER] == "true"


def test_an_outcome_is_not_a_replay_unless_it_says_so():
    assert Outcome(200, {}).replayed is False


def test_requests_are_built_from_named_arguments_only():
    # Given route, path, body, key and caller, easy to pass in the wrong order (two are paths)
    # When passed positionally / Then it is refused, so a swapped route and path cannot happen silently
    with pytest.raises(TypeError):
        IdempotentRequest.for_customer(ROUTE, PATH, BODY, "k", CUSTOMER)  # type: ignore[misc]
    with pytest.raises(TypeError):
        IdempotentRequest.for_admin(ROUTE, PATH, BODY, "k", UUID(int=1))  # type: ignore[misc]


def test_a_request_cannot_be_altered_once_built():
    # Given a request whose fingerprint covers its scope / When code tries to move it to another scope
    request = _request("k")
    # Then it cannot: the stored hash and the scope always belong together
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.scope = "elsewhere"  # type: ignore[misc]


def test_an_outcome_cannot_be_altered_once_decided():
    outcome = Outcome(201, {"id": "x"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.replayed = True  # type: ignore[misc]
