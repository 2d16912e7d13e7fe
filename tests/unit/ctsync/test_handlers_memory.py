"""Freed heap memory goes back to the system after an audit (glibc keeps it otherwise)."""

from __future__ import annotations

import platform

import pytest

from ctsync.handlers.memory import release_freed_memory

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def test_memory_an_audit_freed_is_returned() -> None:
    # Objects of a few KiB come from glibc's heap (CPython's own allocator takes only small ones); the
    # last one, kept, holds the heap's top so that free() alone cannot shrink it.
    chunks = [bytes(4000) + bytes([i % 256]) for i in range(20_000)]
    kept = chunks[-1]
    del chunks
    before = rss_mib()
    release_freed_memory()
    assert rss_mib() < before - 40, "about 76 MiB were freed"
    assert kept
