"""The Dockerfile's install steps, run outside Docker: they must give a working `ctsync operator`.

No Docker engine is needed. The builder stage's COPY instructions are replayed from the repository
(honouring .dockerignore), its ENV and RUN instructions run in a temporary directory, with the
virtualenv the final stage copies mapped to a temporary path. So a file the install needs but the
Dockerfile does not copy, or a broken install command, fails here as it would in `docker build`.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stage:
    image: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse(text: str) -> list[Stage]:
    """The Dockerfile's stages with their (INSTRUCTION, arguments); comments dropped, continuations joined."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    stages: list[Stage] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        instruction, _, rest = line.strip().partition(" ")
        instruction, rest = instruction.upper(), rest.strip()
        if instruction == "FROM":
            image, _, name = rest.partition(" AS ")
            stages.append(Stage(image.strip(), name.strip()))
        else:
            stages[-1].instructions.append((instruction, rest))
    return stages


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore excludes a path: the last pattern matching it or a parent directory wins."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
            excluded = not negated
    return excluded


def copy_from_context(sources: list[str], dest: Path, patterns: list[str]) -> None:
    """COPY src... dest: a directory's contents go into dest, files into dest/ (Docker's rules)."""
    for source in sources:
        path = ROOT / source
        assert path.exists() and not ignored(source.rstrip("/"), patterns), (
            f"COPY {source}: not in the build context (missing or excluded by .dockerignore)"
        )
        if path.is_dir():
            for file in path.rglob("*"):
                relative = file.relative_to(ROOT).as_posix()
                if ignored(relative, patterns) or not (file.is_file() or file.is_symlink()):
                    continue
                target = dest / file.relative_to(path)
                target.parent.mkdir(parents=True, exist_ok=True)
                if file.is_symlink():  # Docker copies a link as a link
                    target.symlink_to(os.readlink(file))
                else:
                    shutil.copy2(file, target)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / path.name)


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse((ROOT / "Dockerfile").read_text())


def test_final_stage_runs_the_operator_as_non_root(stages: list[Stage]) -> None:
    builder, final = stages
    assert builder.image == final.image == "python:3.11-slim"
    runtime = dict(final.instructions)  # the last USER, ENTRYPOINT, CMD count, as in Docker
    assert runtime["USER"] == "65532:65532"
    assert json.loads(runtime["ENTRYPOINT"]) == ["ctsync"]
    assert json.loads(runtime["CMD"]) == ["operator"]
    assert ("COPY", "--from=builder /opt/venv /opt/venv") in final.instructions
    # Only the virtualenv comes from the builder: no compilers, caches or sources.
    assert [i for i, _ in final.instructions if i == "COPY"] == ["COPY"]


@pytest.mark.timeout(600)
def test_builder_install_gives_a_working_operator_command(stages: list[Stage], tmp_path: Path) -> None:
    if sys.version_info[:2] != (3, 11):
        pytest.skip(f"the image runs Python 3.11; this interpreter is {sys.version.split()[0]}")
    builder = next(stage for stage in stages if stage.name == "builder")
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    venv = tmp_path / "venv"  # stands for /opt/venv, which the final stage copies
    workdir = tmp_path / "root"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `python` in a RUN is the image's interpreter: here the one this test's virtualenv was made from.
    (bin_dir / "python").symlink_to(Path(sys.base_prefix) / "bin" / "python3.11")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    cwd = workdir
    for instruction, rest in builder.instructions:
        if instruction == "WORKDIR":
            cwd = workdir / rest.lstrip("/")
            cwd.mkdir(parents=True, exist_ok=True)
        elif instruction == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
        elif instruction == "COPY":
            *sources, dest = shlex.split(rest)
            copy_from_context(sources, cwd / dest, patterns)
        elif instruction == "RUN":
            command = rest.replace("/opt/venv", str(venv))
            result = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
            assert result.returncode == 0, f"RUN {rest} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        else:
            pytest.fail(f"the builder stage uses {instruction}, which this test cannot replay")

    ran = subprocess.run(
        [str(venv / "bin" / "ctsync"), "operator", "--help"],
        capture_output=True,
        text=True,
        env={"PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)},
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert "--metrics-port" in ran.stdout
    # The image's ctsync validates manifests against the CRDs it ships.
    example = shutil.copytree(ROOT / "examples" / "tenants" / "contoso-to-fabrikam", tmp_path / "manifests")
    checked = subprocess.run(
        [str(venv / "bin" / "ctsync"), "validate", str(example)],
        capture_output=True,
        text=True,
        env={"PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
