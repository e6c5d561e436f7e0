"""Time-ordered ids (isp_billing.ids): RFC 9562 version 7 layout, unique, and growing with time."""

from __future__ import annotations

import time
from uuid import UUID

from isp_billing.ids import time_ordered_uuids


def test_ids_are_version_7_with_the_current_millisecond_and_distinct():
    # Given the time before and after
    before = time.time_ns() // 1_000_000
    # When a batch of ids is made
    ids = [UUID(value) for value in time_ordered_uuids(1000)]
    after = time.time_ns() // 1_000_000
    # Then each is a version-7, RFC-variant UUID carrying a millisecond of that interval, and all differ
    assert {(u.version, u.variant) for u in ids} == {(7, "specified in RFC 4122")}
    assert all(before <= u.int >> 80 <= after for u in ids)
    assert len(set(ids)) == 1000


def test_a_later_batch_sorts_after_an_earlier_one():
    # Given a batch, then another a few milliseconds later
    first = time_ordered_uuids(50)
    time.sleep(0.003)
    second = time_ordered_uuids(50)
    # Then every id of the later batch sorts after every id of the earlier one (as text and as uuid)
    assert max(first) < min(second)
    assert max(UUID(value) for value in first) < min(UUID(value) for value in second)
    # And none is made when none is asked for
    assert time_ordered_uuids(0) == []
