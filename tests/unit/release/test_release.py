"""The release: one version everywhere (hack/release.py version), one REGISTRY for the image and the chart
(hack/release.py image-repository, the Makefile, the release workflow), and the workflows as actionlint reads them."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from support.hack_binaries import built

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "charts" / "ctsync"
WORKFLOWS = ROOT / ".github" / "workflows"
VERSION_FILES = ["pyproject.toml", "operator/ctsync/__init__.py", "charts/ctsync/Chart.yaml"]


def load_release() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release", ROOT / "hack" / "release.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release = load_release()


def values(chart: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((chart / "values.yaml").read_text())
    return loaded


# ---------------------------------------------------------------------------------------------------
# One version


def test_package_chart_and_app_versions_agree() -> None:
    found = release.versions()
    assert len(set(found.values())) == 1, found
    # The image tag defaults to the appVersion (tests/e2e/test_helm_chart.py checks the rendered image).
    assert values(CHART)["image"]["tag"] == ""


@pytest.mark.parametrize(
    ("file", "old", "new", "named"),
    [
        ("pyproject.toml", 'version = "{v}"', 'version = "9.9.9"', "pyproject.toml version: 9.9.9"),
        ("operator/ctsync/__init__.py", '__version__ = "{v}"', '__version__ = "9.9.9"', "ctsync.__version__: 9.9.9"),
        ("charts/ctsync/Chart.yaml", "\nversion: {v}", "\nversion: 9.9.9", "Chart.yaml version: 9.9.9"),
        ("charts/ctsync/Chart.yaml", 'appVersion: "{v}"', 'appVersion: "9.9.9"', "Chart.yaml appVersion: 9.9.9"),
    ],
    ids=["pyproject", "dunder", "chart-version", "app-version"],
)
def test_a_version_that_disagrees_fails_naming_it(tmp_path: Path, file: str, old: str, new: str, named: str) -> None:
    current = release.check_version(None)
    for name in VERSION_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    path = tmp_path / file
    text = path.read_text()
    assert old.format(v=current) in text
    path.write_text(text.replace(old.format(v=current), new, 1))
    with pytest.raises(SystemExit, match=re.escape(named)):
        release.check_version(None, root=tmp_path)


def test_the_release_tag_must_name_the_version() -> None:
    version = release.check_version(None)
    assert release.check_version(f"v{version}") == version
    with pytest.raises(SystemExit, match=r"release tag \(without its v\): 0\.0\.1"):
        release.check_version("v0.0.1")


# ---------------------------------------------------------------------------------------------------
# One REGISTRY


def makefile_registry() -> str:
    match = re.search(r"^REGISTRY \?= (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, "the Makefile sets no default REGISTRY"
    return match.group(1)


def test_the_chart_defaults_to_the_image_of_the_default_registry() -> None:
    assert values(CHART)["image"]["repository"] == f"{makefile_registry()}/ctsync"


def test_image_repository_rewrites_only_that_value(tmp_path: Path) -> None:
    chart = tmp_path / "ctsync"
    shutil.copytree(CHART, chart)
    assert (
        release.set_image_repository("registry.example.org/platform", chart) == "registry.example.org/platform/ctsync"
    )
    expected = values(CHART)
    expected["image"]["repository"] = "registry.example.org/platform/ctsync"
    assert values(chart) == expected
    # Only that line changed: the comments that document each value stay.
    changed = set((chart / "values.yaml").read_text().splitlines()) ^ set(
        (CHART / "values.yaml").read_text().splitlines()
    )
    assert len(changed) == 2


@pytest.mark.parametrize("registry", ["GHCR.io/Org", "ghcr.io/org/", "ghcr.io/o rg", ""])
def test_image_repository_refuses_a_registry_no_registry_accepts(tmp_path: Path, registry: str) -> None:
    shutil.copytree(CHART, tmp_path / "ctsync")
    with pytest.raises(SystemExit, match="is not a lowercase registry/namespace"):
        release.set_image_repository(registry, tmp_path / "ctsync")


def test_install_docs_describe_registry() -> None:
    docs = (ROOT / "docs" / "install.md").read_text()
    assert "`REGISTRY`" in docs and "make chart REGISTRY=" in docs


# ---------------------------------------------------------------------------------------------------
# The workflows


def workflow(name: str) -> dict[Any, Any]:
    loaded: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    return loaded


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@")]


def test_ci_runs_the_ci_entry_point() -> None:
    ci = workflow("ci.yml")
    assert set(ci[True]) == {"push", "pull_request", "workflow_call"}  # PyYAML reads the key `on` as True
    (job,) = ci["jobs"].values()
    assert [step["run"] for step in job["steps"] if "run" in step][-1] == ".ci/run"


def test_release_publishes_a_signed_multi_arch_image_and_the_chart_on_a_tag() -> None:
    flow = workflow("release.yml")
    assert flow[True] == {"push": {"tags": ["v*"]}}
    assert flow["jobs"]["ci"]["uses"] == "./.github/workflows/ci.yml"
    publish = flow["jobs"]["publish"]
    assert publish["needs"] == "ci"
    assert publish["permissions"]["id-token"] == "write"  # keyless signing
    assert "vars.REGISTRY" in publish["env"]["REGISTRY"]
    (build,) = steps_using(publish, "docker/build-push-action")
    assert build["with"]["platforms"] == "linux/amd64,linux/arm64"
    assert build["with"]["push"] is True and build["with"]["sbom"] is True
    assert build["with"]["provenance"] == "mode=max"
    runs = "\n".join(step.get("run", "") for step in publish["steps"])
    assert 'hack/release.py version --tag "$GITHUB_REF_NAME"' in runs
    assert 'cosign sign --yes "$REGISTRY/ctsync@$DIGEST"' in runs
    assert 'make chart REGISTRY="$REGISTRY"' in runs
    assert 'helm push "dist/ctsync-$VERSION.tgz" "oci://$REGISTRY/charts"' in runs


@pytest.fixture(scope="module")
def actionlint() -> str:
    return built("actionlint.sh", "the workflow check needs actionlint")


def run_actionlint(actionlint: str, *files: Path) -> subprocess.CompletedProcess[str]:
    # Without shellcheck and pyflakes, which actionlint uses only when installed: the verdict must not depend
    # on the machine.
    return subprocess.run(
        [actionlint, "-no-color", "-shellcheck=", "-pyflakes=", *map(str, files)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip


def test_workflows_pass_actionlint(actionlint: str) -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"ci.yml", "release.yml"}
    result = run_actionlint(actionlint, *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_a_misspelt_action_input(actionlint: str, tmp_path: Path) -> None:
    # The check can fail: an input docker/build-push-action does not have.
    broken = tmp_path / "release.yml"
    broken.write_text((WORKFLOWS / "release.yml").read_text().replace("sbom: true", "sbomm: true"))
    result = run_actionlint(actionlint, broken)
    assert result.returncode == 1
    assert 'input "sbomm" is not defined in action "docker/build-push-action@v6"' in result.stdout
