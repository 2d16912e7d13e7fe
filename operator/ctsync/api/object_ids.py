"""Directory object ids held in bulk for as long as the operator runs (each job's links, each scope's
members for the latency metrics): a GUID kept as a 128-bit int takes 44 bytes of memory, as text 85. Any
other id stays text. Both forms are lower case, so Graph's upper-case spelling of an id is the same id."""

from __future__ import annotations

import bisect
import re
from array import array
from collections.abc import Collection, Iterator, Mapping
from typing import Final

CompactId = int | str
_LOW: Final = (1 << 64) - 1
_GUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def compact(object_id: str) -> CompactId:
    text = object_id.lower()
    return int(text.replace("-", ""), 16) if _GUID.fullmatch(text) else text


def expand(value: CompactId) -> str:
    """The id as lower-case text again, as `compact` was given it."""
    if isinstance(value, str):
        return value
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class IdSet:
    """GUIDs in 16 bytes each, against about 80 as ints in a set: sorted arrays of their two halves, built
    in one go, then only read. Ids that are not GUIDs are kept beside them as text."""

    def __init__(self, ids: Collection[CompactId]) -> None:
        self._text = frozenset(i for i in ids if isinstance(i, str))
        guids = sorted(i for i in ids if isinstance(i, int))
        self._high = array("Q", (g >> 64 for g in guids))
        self._low = array("Q", (g & _LOW for g in guids))

    def index(self, guid: int) -> int | None:
        """Where the GUID is in the sorted order, if it is here."""
        high, low = guid >> 64, guid & _LOW
        at = bisect.bisect_left(self._high, high)
        while at < len(self._high) and self._high[at] == high:
            if self._low[at] == low:
                return at
            at += 1
        return None

    def __contains__(self, object_id: CompactId) -> bool:
        return object_id in self._text if isinstance(object_id, str) else self.index(object_id) is not None

    def __iter__(self) -> Iterator[CompactId]:
        yield from ((high << 64) | low for high, low in zip(self._high, self._low, strict=True))
        yield from self._text

    def __len__(self) -> int:
        return len(self._high) + len(self._text)


class IdMap:
    """GUID -> GUID in 32 bytes an entry, against about 180 as ints in a dict (see IdSet); any other pair
    is kept beside them in a dict."""

    def __init__(self, pairs: Mapping[CompactId, CompactId]) -> None:
        guids = sorted((k, v) for k, v in pairs.items() if isinstance(k, int) and isinstance(v, int))
        self._keys = IdSet([k for k, _ in guids])
        self._high = array("Q", (v >> 64 for _, v in guids))
        self._low = array("Q", (v & _LOW for _, v in guids))
        self._other = {k: v for k, v in pairs.items() if not (isinstance(k, int) and isinstance(v, int))}

    def get(self, key: CompactId) -> CompactId | None:
        if isinstance(key, str) or key in self._other:
            return self._other.get(key)
        at = self._keys.index(key)
        return None if at is None else (self._high[at] << 64) | self._low[at]

    def items(self) -> Iterator[tuple[CompactId, CompactId]]:
        values = ((high << 64) | low for high, low in zip(self._high, self._low, strict=True))
        yield from zip(self._keys, values, strict=True)
        yield from self._other.items()

    def __len__(self) -> int:
        return len(self._keys) + len(self._other)
