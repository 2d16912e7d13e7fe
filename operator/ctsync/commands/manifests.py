"""Manifests on disk: YAML files (multi-document) or directories of them, read with the line of every node so
that a problem can be reported as `file:line: message`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

import yaml

from ctsync.api import constants
from ctsync.commands import CommandError

YAML_SUFFIXES = (".yaml", ".yml")
FieldPath = Sequence[str | int]
# spec.mappings[0].source, metadata.annotations[ctsync.io/acknowledge-shrink]
_FIELD_TOKEN = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


@dataclass(frozen=True)
class Problem:
    """Something wrong with a manifest, at a line of a file."""

    path: str
    line: int
    message: str
    kind: str = ""
    name: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.path, "line": self.line, "kind": self.kind, "name": self.name, "message": self.message}


@dataclass
class Document:
    """One YAML document of a file: its data and its node tree (for line numbers)."""

    path: str
    node: yaml.Node
    body: Any

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    @property
    def api_version(self) -> str:
        return self._text("apiVersion")

    @property
    def kind(self) -> str:
        return self._text("kind")

    @property
    def name(self) -> str:
        return self._text("metadata", "name")

    @property
    def namespace(self) -> str:
        return self._text("metadata", "namespace")

    def _text(self, *keys: str) -> str:
        """A string field, "" when it or an object above it is missing or of another type."""
        value: Any = self.body
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        return value if isinstance(value, str) else ""

    @property
    def is_ctsync(self) -> bool:
        return self.api_version.split("/")[0] == constants.GROUP

    def line_of(self, field: str | FieldPath) -> int:
        """The line of a field (of its key, for a mapping entry), or of its closest ancestor present."""
        node, line = self.node, self.line
        for key in parse_field_path(field) if isinstance(field, str) else field:
            found = _child(node, key)
            if found is None:
                break
            node, line = found[1], found[0].start_mark.line + 1
        return line

    def problem(self, message: str, field: str | FieldPath = ()) -> Problem:
        return Problem(self.path, self.line_of(field), message, self.kind, self.name)


def shipped_dir(name: str, flag: str) -> Path:
    """A directory of files ctsync ships with its package: "crds" (the CRDs) or "demo" (the demo's example).
    In a source checkout, ctsync/data/ links to crds/ and examples/tenants/contoso-to-fabrikam/, the only
    copies there; a wheel carries the files themselves."""
    path = resources.files("ctsync") / "data" / name
    if not isinstance(path, Path) or not path.is_dir():
        raise CommandError(f"ctsync's {name} files are not installed at {path}", f"pass {flag} DIR")
    return path.resolve()


def parse_field_path(path: str) -> list[str | int]:
    keys: list[str | int] = []
    for match in _FIELD_TOKEN.finditer(path):
        name, index = match.groups()
        keys.append(name if name is not None else int(index) if index.isdigit() else index)
    return keys


def _child(node: yaml.Node, key: str | int) -> tuple[yaml.Node, yaml.Node] | None:
    """(the node that names the child, the child): its key in a mapping, itself in a sequence."""
    if isinstance(node, yaml.MappingNode):
        return next(((k, value) for k, value in node.value if k.value == key), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key], node.value[key]
    return None


def find_files(paths: Iterable[str]) -> tuple[list[Path], list[Problem]]:
    """The YAML files named or found (recursively, sorted) in the directories named."""
    files: list[Path] = []
    problems = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())
            if not found:
                problems.append(Problem(given, 0, "no .yaml or .yml files in this directory"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(given, 0, "no such file or directory"))
    return files, problems


def load(paths: Iterable[str]) -> tuple[list[Document], list[Problem]]:
    """Every non-empty document of the files; unreadable files and malformed YAML become problems."""
    files, problems = find_files(paths)
    documents: list[Document] = []
    for path in files:
        try:
            documents.extend(_read(path))
        except OSError as exc:
            problems.append(Problem(str(path), 0, f"cannot read: {exc.strerror or exc}"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            reason = getattr(exc, "problem", None) or str(exc)
            problems.append(Problem(str(path), mark.line + 1 if mark else 0, f"malformed YAML: {reason}"))
    return documents, problems


def _read(path: Path) -> list[Document]:
    """Parses every document before returning any, so a file with a YAML error contributes nothing."""
    loader = yaml.SafeLoader(path.read_text())
    documents = []
    try:
        while loader.check_node():
            node = cast(yaml.Node, loader.get_node())  # check_node() said there is one
            body = loader.construct_document(node)
            if body is not None:
                documents.append(Document(str(path), node, body))
    finally:
        loader.dispose()
    return documents
