#!/usr/bin/env python3
"""What a release needs from the repository, for the Makefile and the release workflow (standard library only).

    hack/release.py version [--tag vX.Y.Z]   the one version of the package, the chart and the image; fails
                                              when pyproject.toml, ctsync.__version__, the chart's version and
                                              appVersion, or the release tag disagree
    hack/release.py image-repository REGISTRY CHART_DIR
                                              sets the image the chart defaults to (values.yaml image.repository)
                                              to REGISTRY/ctsync, in a copy of the chart about to be packaged

One version for everything: release tag vX.Y.Z publishes image REGISTRY/ctsync:X.Y.Z and chart X.Y.Z with
appVersion X.Y.Z, and the chart's image.tag defaults to its appVersion.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE_NAME = "ctsync"


def chart_field(chart_yaml: str, key: str) -> str:
    """A top-level scalar of Chart.yaml (its keys are plain `key: value` lines)."""
    match = re.search(rf"^{key}:\s*\"?([^\"\s#]+)\"?", chart_yaml, re.MULTILINE)
    if not match:
        raise SystemExit(f"hack/release.py: Chart.yaml has no {key}")
    return match.group(1)


def versions(root: Path = ROOT) -> dict[str, str]:
    """Each place that names the version, and the version it names."""
    chart_yaml = (root / "charts" / "ctsync" / "Chart.yaml").read_text()
    package_init = (root / "operator" / "ctsync" / "__init__.py").read_text()
    dunder = re.search(r'^__version__ = "([^"]+)"', package_init, re.MULTILINE)
    return {
        "pyproject.toml version": tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"],
        "ctsync.__version__": dunder.group(1) if dunder else "(missing)",
        "Chart.yaml version": chart_field(chart_yaml, "version"),
        "Chart.yaml appVersion": chart_field(chart_yaml, "appVersion"),
    }


def check_version(tag: str | None, root: Path = ROOT) -> str:
    found = versions(root)
    if tag is not None:
        found["release tag (without its v)"] = tag.removeprefix("v")
    if len(set(found.values())) != 1:
        listed = "\n".join(f"  {where}: {version}" for where, version in found.items())
        raise SystemExit(f"hack/release.py: the versions disagree; make them one version:\n{listed}")
    return next(iter(found.values()))


def set_image_repository(registry: str, chart_dir: Path) -> str:
    """Rewrites image.repository in chart_dir/values.yaml, keeping its comments; returns the repository."""
    if not re.fullmatch(r"[a-z0-9.:-]+(/[a-z0-9._-]+)*", registry):
        raise SystemExit(
            f"hack/release.py: REGISTRY {registry!r} is not a lowercase registry/namespace, e.g. ghcr.io/ctsync"
        )
    repository = f"{registry}/{IMAGE_NAME}"
    values = chart_dir / "values.yaml"
    # `repository:` indented under the top-level `image:` block, before the next top-level key.
    pattern = re.compile(r"^(image:\n(?:(?:  .*|\s*)\n)*?  repository: ).*$", re.MULTILINE)
    text, count = pattern.subn(lambda m: m.group(1) + repository, values.read_text(), count=1)
    if count != 1:
        raise SystemExit(f"hack/release.py: found no image.repository in {values}")
    values.write_text(text)
    return repository


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    version = commands.add_parser("version")
    version.add_argument("--tag", help="the release tag, vX.Y.Z")
    image = commands.add_parser("image-repository")
    image.add_argument("registry")
    image.add_argument("chart_dir", type=Path)
    args = parser.parse_args()
    if args.command == "version":
        print(check_version(args.tag))
    else:
        print(set_image_repository(args.registry, args.chart_dir))


if __name__ == "__main__":
    sys.exit(main())
