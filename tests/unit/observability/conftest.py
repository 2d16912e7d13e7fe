"""Fixtures of the observability tests: promtool, and a real scrape of the operator's metrics."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest
from observability_support import base_name, recorded_metrics
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from support import prometheus

Promtool = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def promtool() -> Promtool:
    """promtool(*args, stdin=None) runs promtool from Debian's prometheus package (see support.prometheus)."""
    path = prometheus.binary("promtool")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([path, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False)

    return run


@pytest.fixture(scope="session")
def exposition() -> str:
    """What GET /metrics returns after a realistic mix of recordings."""
    return generate_latest(recorded_metrics().registry).decode()


@pytest.fixture(scope="session")
def exported_labels(exposition: str) -> dict[str, set[str]]:
    """Every series name in the scrape, histogram suffixes stripped, with the label names it carries."""
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            labels.setdefault(base_name(sample.name), set()).update(sample.labels)
    return labels


@pytest.fixture(scope="session")
def exported_names(exported_labels: dict[str, set[str]]) -> set[str]:
    """Every series name in the scrape, histogram suffixes stripped."""
    return set(exported_labels)
