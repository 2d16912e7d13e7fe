"""Handing the memory a scope audit freed back to the system. An audit of a large scope frees tens of MiB
at once; glibc keeps freed heap pages for reuse until asked (malloc_trim), so the process would stay at
its peak. Where the C library is not glibc this does nothing."""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim  # the process's own C library
    except (OSError, AttributeError):
        return None
    return trim


def release_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)  # 0: keep no free pages at the top of the heap either
