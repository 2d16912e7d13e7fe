"""The `ctsync` command run as users run it: the virtualenv's console script, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

CTSYNC = Path(sys.executable).with_name("ctsync")
REPO = Path(__file__).resolve().parents[2]


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """No kubeconfig is reachable unless a test names one, and no colour: output is compared as text."""
    return {**os.environ, "KUBECONFIG": str(home / "no-kubeconfig"), "HOME": str(home), "NO_COLOR": "1", **extra}


def run_ctsync(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CTSYNC), *args], capture_output=True, text=True, env=env, timeout=timeout)


def write_yaml(path: Path, *documents: object) -> Path:
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return path


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """A command's error: exactly one line on stderr, and no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
