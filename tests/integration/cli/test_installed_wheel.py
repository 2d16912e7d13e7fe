"""ctsync installed from its wheel, away from any checkout: `ctsync validate` finds its CRDs and `ctsync demo`
its example in the package, not in a source tree.

The wheel is built from a copy of the sources (so no stale build/ of the checkout can leak in) and installed
without dependencies into a fresh virtualenv outside the checkout; that virtualenv reaches the project's
installed dependencies through a .pth line, which adds their directory without processing the .pth files
in it, so the checkout's editable ctsync stays out of sight."""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from support.cli import REPO, cli_env

SOURCES = ("pyproject.toml", "README.md", "operator", "crds", "examples/tenants/contoso-to-fabrikam")
SKIP = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.py[cod]")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ of a fresh virtualenv with only ctsync's wheel installed in it."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, symlinks=True, ignore=SKIP)
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(root / "dist"), str(source)], check=True, timeout=300)
    (wheel,) = (root / "dist").glob("ctsync-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "ctsync-test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv / "bin"


def run(installed: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(tmp_path)
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(installed / "ctsync"), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path):
    where = subprocess.run(
        [str(installed / "python"), "-c", "import ctsync; print(ctsync.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert where.startswith(str(installed.parent)) and str(REPO) not in where


def test_validate_uses_the_crds_the_package_ships(installed: Path, tmp_path: Path):
    example = shutil.copytree(REPO / "examples" / "tenants" / "contoso-to-fabrikam", tmp_path / "manifests")
    result = run(installed, tmp_path, "validate", str(example))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("valid: 3 ctsync object(s) in 4 file(s)"), result.stdout


@pytest.mark.timeout(300)
def test_the_demo_runs_on_the_example_the_package_ships(installed: Path, tmp_path: Path):
    result = run(installed, tmp_path, "demo", "--users", "20")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ctsync/data/demo: valid" in result.stdout
    assert "✓ equal to entrasim's own state and request log" in result.stdout
