from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from isp_billing.errors import ValidationFailed
from isp_billing.pagination import decode_cursor, encode_cursor, page_of


def test_a_cursor_round_trips_its_sort_key():
    # Given a (created_at, id) sort key
    key = (datetime(2026, 11, 25, 8, 30, tzinfo=UTC), uuid4())
    # When it is encoded and decoded / Then the same key comes back
    assert decode_cursor(encode_cursor(*key), datetime.fromisoformat, UUID) == key


@pytest.mark.parametrize("cursor", ["", "!!!", "bm90IGpzb24", encode_cursor(1), encode_cursor("x", "y")])
def test_a_tampered_cursor_is_a_validation_error(cursor):
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor, datetime.fromisoformat, UUID)


def test_page_of_uses_the_extra_row_only_to_know_there_is_more():
    # Given limit + 1 rows fetched / When paged / Then limit rows and a cursor from the last shown row
    items, cursor = page_of([1, 2, 3], 2, key=lambda n: (n,))
    assert items == [1, 2] and decode_cursor(cursor, int) == (2,)
    # And the last page has no cursor
    assert page_of([1, 2], 2, key=lambda n: (n,)) == ([1, 2], None)


SOME_ID = "3f2c9a1e-5b7d-4c8e-9a0b-123456789012"


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor("2026-11-25T08:30:00+00:00", 123),  # the fuzzer's ["...", 123]: was AttributeError
        encode_cursor("2026-11-25T08:30:00+00:00", ["a"]),
        encode_cursor("2026-11-25T08:30:00+00:00", {"a": 1}),
        encode_cursor(True, SOME_ID),
        encode_cursor(1.5, SOME_ID),
        encode_cursor("2026-11-25T08:30:00+00:00", SOME_ID, "extra"),  # wrong length
        encode_cursor("2026-11-25T08:30:00+00:00"),
        "eyJh",  # base64 of a truncated JSON document
        "_w",  # base64 of a byte that is not UTF-8
        "a",  # impossible base64 length
    ],
)
def test_any_malformed_or_forged_cursor_is_a_validation_error(cursor):
    # Given a cursor a client forged / When decoded / Then a ValidationFailed (422), never another exception
    with pytest.raises(ValidationFailed):
        decode_cursor(cursor, datetime.fromisoformat, UUID)
