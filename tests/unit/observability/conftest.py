"""Fixtures of the observability tests: promtool, and a real scrape of the operator's metrics."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

import pytest
from observability_support import base_name, recorded_metrics
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

Promtool = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """promtool(*args, stdin=None) runs promtool from Debian's prometheus package. Missing, it fails the
    test under CI=true (CI installs it) and skips it elsewhere."""
    path = shutil.which("promtool")
    if path is None:
        message = "promtool not found: install Debian's prometheus package (apt-get install prometheus)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [path, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
        )

    return run


@pytest.fixture(scope="session")
def exposition() -> str:
    """What GET /metrics returns after a realistic mix of recordings."""
    return generate_latest(recorded_metrics().registry).decode()


@pytest.fixture(scope="session")
def exported_names(exposition: str) -> set[str]:
    """Every series name in the scrape, histogram suffixes stripped."""
    return {
        base_name(s.name) for family in text_string_to_metric_families(exposition) for s in family.samples
    }
