"""Debian's prometheus package (promtool, prometheus), which the observability tests run. CI installs it
(.ci/run) and fails a test that finds it missing; elsewhere such tests skip, reported under one line."""

from __future__ import annotations

import os
import shutil

import pytest

HINT = "needs Debian's prometheus package (promtool, prometheus): apt-get install prometheus"


def binary(name: str) -> str:
    """The path of `name` from the package; fails the test under CI=true, skips it elsewhere."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{name} not found: {HINT}", pytrace=False)
        pytest.skip(HINT)
    return path
