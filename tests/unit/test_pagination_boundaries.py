"""Pagination at its edges (issue 10, section 6): the smallest and largest page sizes, the longest cursor,
cursors of every padding length, the last and the empty page. Each test pins a rule a mutant of
pagination.py would break."""

import base64
import json
from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from isp_billing.errors import ValidationFailed
from isp_billing.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Cursor,
    Page,
    PageSize,
    decode_cursor,
    encode_cursor,
    page_of,
)


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()

    @app.get("/items")
    async def items(limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None) -> dict:
        return {"limit": limit, "cursor": cursor}

    return TestClient(app)


def test_the_default_page_size_is_50_and_the_largest_200():
    assert (DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) == (50, 200)


@pytest.mark.parametrize(
    ("limit", "status"), [("1", 200), ("200", 200), ("0", 422), ("201", 422), ("-1", 422)]
)
def test_a_page_size_is_1_to_200(client, limit, status):
    # Given the smallest and largest valid sizes and their neighbours outside
    # When asked for / Then only 1..200 are accepted
    response = client.get("/items", params={"limit": limit})
    assert response.status_code == status
    if status == 200:
        assert response.json()["limit"] == int(limit)


def test_without_a_limit_the_page_has_the_default_size(client):
    assert client.get("/items").json() == {"limit": 50, "cursor": None}


def test_a_cursor_of_one_character_is_accepted_and_an_empty_one_refused(client):
    # The shortest cursor reaches decode_cursor (which judges its content); an empty one is refused up front
    assert client.get("/items", params={"cursor": "a"}).json() == {"limit": 50, "cursor": "a"}
    assert client.get("/items", params={"cursor": ""}).status_code == 422


def test_a_cursor_of_512_characters_is_accepted_and_of_513_refused(client):
    assert client.get("/items", params={"cursor": "a" * 512}).status_code == 200
    assert client.get("/items", params={"cursor": "a" * 513}).status_code == 422


@pytest.mark.parametrize("text", ["", "a", "ab", "abc", "abcd", "abcde"])
def test_cursors_of_every_padding_length_round_trip(text):
    # Given keys whose encodings need 0, 1 or 2 padding characters (which the cursor leaves out)
    cursor = encode_cursor(text)
    # When decoded / Then the key comes back, and the cursor itself carries no padding
    assert "=" not in cursor
    assert decode_cursor(cursor, str) == (text,)


def test_dates_datetimes_and_uuids_travel_as_text_other_values_as_they_are():
    key = (date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), UUID(int=7), 42, None)
    raw = decode_cursor(encode_cursor(*key), str, str, str, int, lambda value: value)
    assert raw == (
        "2026-01-02",
        "2026-01-02T03:04:05+00:00",
        "00000000-0000-0000-0000-000000000007",
        42,
        None,
    )


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor("only-one"),  # one part where two are expected
        encode_cursor("a", "b", "c"),  # three parts
        "eyJhIjogMX0",  # {"a": 1}: not a list
        "NDI",  # 42: not a list
        "eyJhIjogMSwgImIiOiAyfQ",  # {"a": 1, "b": 2}: two members, still not a list
    ],
)
def test_a_cursor_of_the_wrong_shape_is_refused(cursor):
    with pytest.raises(ValidationFailed, match="cursor is not valid"):
        decode_cursor(cursor, str, str)


@pytest.mark.parametrize("part", [True, False, 1.5, [1], {"a": 1}])
def test_a_cursor_part_that_is_not_text_an_integer_or_null_is_refused(part):
    # Given a forged cursor whose part is a boolean, a float, a list or an object (encode_cursor writes none)
    forged = base64.urlsafe_b64encode(json.dumps([part]).encode()).decode().rstrip("=")
    # When decoded, even with a parser that would take anything / Then 422 naming the cursor
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(forged, lambda value: value)
    assert refused.value.extra == {"field": "cursor"}


@pytest.mark.parametrize("part", [None, 0, -7, "x"])
def test_cursor_parts_of_text_integers_or_null_reach_their_parser(part):
    assert decode_cursor(encode_cursor(part), lambda value: value) == (part,)


def test_whatever_a_parser_raises_on_a_forged_part_is_the_same_refusal():
    def exploding(value):
        raise AttributeError("no such thing")

    with pytest.raises(ValidationFailed, match="cursor is not valid"):
        decode_cursor(encode_cursor("x"), exploding)


def test_a_part_its_parser_rejects_is_refused():
    with pytest.raises(ValidationFailed):
        decode_cursor(encode_cursor("not-a-date", "x"), datetime.fromisoformat, str)


def test_exactly_a_full_page_is_the_last_page():
    # Given exactly `limit` rows (no extra row) / When paged / Then no cursor
    assert page_of([1, 2, 3], 3, key=lambda n: (n,)) == ([1, 2, 3], None)


def test_one_row_more_than_the_limit_gives_the_cursor_of_the_last_row_shown():
    items, cursor = page_of([10, 20, 30, 40], 3, key=lambda n: (n,))
    assert items == [10, 20, 30]
    assert decode_cursor(cursor, int) == (30,)


def test_a_short_last_page_offers_no_cursor():
    # Given fewer rows than the limit / When paged / Then they are the last page
    assert page_of([1, 2], 3, key=lambda n: (n,)) == ([1, 2], None)


def test_an_empty_result_is_an_empty_last_page():
    assert page_of([], 50, key=lambda n: (n,)) == ([], None)


def test_a_zero_limit_shows_nothing_and_offers_no_cursor():
    assert page_of([1], 0, key=lambda n: (n,)) == ([], None)


def test_a_page_must_say_whether_there_is_a_next_one():
    with pytest.raises(ValidationError):
        Page[int](items=[1])  # type: ignore[call-arg]
    assert Page[int](items=[], next_cursor=None).model_dump() == {"items": [], "next_cursor": None}
