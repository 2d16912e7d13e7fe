"""Object ids kept compactly: a GUID as an int, anything else as lower-case text, and back unchanged."""

from __future__ import annotations

import sys

import pytest

from ctsync.api.object_ids import compact, expand

GUID = "5d1c3b2a-0f4e-4a8b-9c7d-6e5f4a3b2c1d"


@pytest.mark.parametrize(
    "object_id",
    [GUID, "00000000-0000-0000-0000-000000000001", "user-1", "{5d1c3b2a-0f4e-4a8b-9c7d-6e5f4a3b2c1d}", ""],
)
def test_an_id_comes_back_as_lower_case_text(object_id: str) -> None:
    assert expand(compact(object_id)) == object_id.lower()
    assert expand(compact(object_id.upper())) == object_id.lower()


def test_a_guid_is_kept_as_an_int_that_takes_about_half_the_memory_of_its_text() -> None:
    held = compact(GUID.upper())
    assert held == compact(GUID) and isinstance(held, int)
    assert sys.getsizeof(held) * 1.8 < sys.getsizeof(GUID)
    assert compact("5d1c3b2a0f4e4a8b9c7d6e5f4a3b2c1d") == "5d1c3b2a0f4e4a8b9c7d6e5f4a3b2c1d"  # not a GUID's text
