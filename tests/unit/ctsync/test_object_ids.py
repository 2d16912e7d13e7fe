"""Object ids kept compactly: a GUID as an int, anything else as lower-case text, and back unchanged."""

from __future__ import annotations

import sys

import pytest

from ctsync.api.object_ids import CompactId, IdMap, IdSet, compact, expand

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


def test_an_id_set_finds_guids_that_share_their_first_half_and_text_ids() -> None:
    high = 0x5D1C3B2A0F4E4A8B << 64
    ids = {high | 3, high | 1, 7, "user-1", compact(GUID)}
    held = IdSet(ids)
    assert all(i in held for i in ids) and len(held) == 5 and set(held) == ids
    assert high | 2 not in held and (1 << 64) | 3 not in held and "user-2" not in held and 0 not in held


def test_an_id_map_gives_each_id_its_value_whatever_the_kinds() -> None:
    high = 0x5D1C3B2A0F4E4A8B << 64
    pairs: dict[CompactId, CompactId] = {high | 3: 1, high | 1: high | 9, 5: "s-1", "t-1": 6, "t-2": "s-2"}
    held = IdMap(pairs)
    assert {key: held.get(key) for key in pairs} == pairs and dict(held.items()) == pairs and len(held) == 5
    assert held.get(high | 2) is None and held.get("t-3") is None and IdMap({}).get(1) is None
