"""Fixtures of the CLI tests: `ctsync` in a subprocess, and manifests for the emulated tenants."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from support.cli import cli_env, run_ctsync

Ctsync = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def ctsync(tmp_path: Path) -> Ctsync:
    """ctsync(*args) -> the finished process, run from a scratch directory."""
    env = cli_env(tmp_path)
    return lambda *args, timeout=120: run_ctsync(*args, env=env, timeout=timeout)
