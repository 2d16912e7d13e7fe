"""Directory object ids held in bulk for as long as the operator runs (each job's links, each scope's
members for the latency metrics): a GUID kept as a 128-bit int takes 44 bytes of memory, as text 85. Any
other id stays text. Both forms are lower case, so Graph's upper-case spelling of an id is the same id."""

from __future__ import annotations

import re
from typing import Final

CompactId = int | str
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
