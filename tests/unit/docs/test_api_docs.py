"""The API reference cannot rot: it is generated from the CRDs and names every condition reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ctsync.api import conditions

ROOT = Path(__file__).resolve().parents[3]


def test_generated_reference_matches_the_crds():
    result = subprocess.run(
        [sys.executable, "hack/gen_api_docs.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_condition_type_and_reason_is_documented():
    text = (ROOT / "docs" / "api" / "README.md").read_text()
    names = {value for name, value in vars(conditions).items() if name.isupper() and isinstance(value, str)}
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert not missing, f"docs/api/README.md does not describe: {missing}"
