"""Memory a piece of code leaves allocated, as CPython's tracemalloc counts it."""

from __future__ import annotations

import tracemalloc
from types import TracebackType


class Held:
    """Bytes still allocated when the block ends (what it keeps in variables included): `with Held() as
    held: kept = build()`, then `held.bytes`."""

    bytes = 0

    def __enter__(self) -> Held:
        tracemalloc.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
