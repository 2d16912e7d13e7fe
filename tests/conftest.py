"""Hooks for the whole test suite."""

import os
from pathlib import Path

import pytest

from support import prometheus

E2E_DIR = Path(__file__).parent / "e2e"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    # Under CI a skipped e2e test means the real API server never ran: that must fail the run.
    ci = os.environ.get("CI", "").lower() == "true"
    if ci and report.skipped and not hasattr(report, "wasxfail") and E2E_DIR in item.path.parents:
        reason = report.longrepr[2].removeprefix("Skipped: ") if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"e2e tests must not be skipped under CI=true: {reason}"
    # Every test skipped for want of the prometheus package gets one location, so -ra lists them on one line.
    elif report.skipped and isinstance(report.longrepr, tuple) and report.longrepr[2].endswith(prometheus.HINT):
        report.longrepr = (prometheus.__file__, None, report.longrepr[2])
    return report
