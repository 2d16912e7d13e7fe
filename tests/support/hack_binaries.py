"""Binaries a hack/ script builds from the Go module proxy the first time (helm, actionlint). CI (.ci/run,
through `make test`) builds them and fails a test that finds one missing; elsewhere such tests skip."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

HACK = Path(__file__).resolve().parents[2] / "hack"


def built(script: str, purpose: str) -> str:
    """The path hack/<script> prints, building the binary if needed; fails under CI=true, skips elsewhere."""
    result = subprocess.run([str(HACK / script)], capture_output=True, text=True)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or [f"hack/{script} failed"])[-1]
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and hack/{script} failed: {reason}", pytrace=False)
        pytest.skip(f"{purpose}: {reason}")
    return result.stdout.strip().splitlines()[-1]
