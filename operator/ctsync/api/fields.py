"""Typed reads of a custom resource body that name the field path of whatever is missing or mistyped.

The API server enforces the CRD's structural schema, but offline manifests (`ctsync validate`) and older
servers let more through; a KeyError deep in the reconciler would name nothing.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from ctsync.errors import InvalidSpec


class Fields:
    """One JSON object of a CR body together with its path (e.g. "spec.source")."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise InvalidSpec(path, "must be an object")
        self._data: Mapping[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _typed(self, key: str, kind: type, kind_name: str) -> Any:
        value = self._data.get(key)
        # bool is an int subclass: a flag given where a number is expected is still a type error.
        if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
            raise InvalidSpec(self.at(key), f"must be {kind_name}")
        return value

    def opt_str(self, key: str) -> str | None:
        value: str | None = self._typed(key, str, "a string")
        return value

    def req_str(self, key: str) -> str:
        value = self.opt_str(key)
        if value is None:
            raise InvalidSpec(self.at(key), "is required")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value: bool | None = self._typed(key, bool, "true or false")
        return default if value is None else value

    def integer(self, key: str, default: int) -> int:
        value: int | None = self._typed(key, int, "an integer")
        return default if value is None else value

    def opt_child(self, key: str) -> "Fields | None":
        value = self._data.get(key)
        return None if value is None else Fields(value, self.at(key))

    def child(self, key: str) -> "Fields":
        """An object the CRD defaults to {} when omitted."""
        return self.opt_child(key) or Fields({}, self.at(key))

    def req_child(self, key: str) -> "Fields":
        found = self.opt_child(key)
        if found is None:
            raise InvalidSpec(self.at(key), "is required")
        return found

    def children(self, key: str) -> list["Fields"]:
        return [Fields(item, f"{self.at(key)}[{i}]") for i, item in enumerate(self._list(key))]

    def strings(self, key: str) -> tuple[str, ...] | None:
        """A list of strings, or None when the field is omitted (so callers can apply a default)."""
        if self._data.get(key) is None:
            return None
        items = self._list(key)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise InvalidSpec(f"{self.at(key)}[{i}]", "must be a string")
        return tuple(items)

    def _list(self, key: str) -> list[Any]:
        value: list[Any] | None = self._typed(key, list, "a list")
        return value or []


@dataclass(frozen=True)
class Resource:
    """Identity of a custom resource, shared by the kinds' models."""

    kind: ClassVar[str]
    namespace: str
    name: str
    generation: int  # 0 for an offline manifest, which has none

    @property
    def ref(self) -> str:
        """How messages name the resource, e.g. "AttributeMapping tenants/contoso"."""
        return f"{self.kind} {self.namespace}/{self.name}"


def metadata(body: Mapping[str, Any]) -> tuple[tuple[str, str, int], dict[str, str]]:
    """((namespace, name, generation), annotations) of a CR body."""
    meta = Fields(body.get("metadata") or {}, "metadata")
    annotations = meta.child("annotations")._data
    identity = (meta.opt_str("namespace") or "default", meta.req_str("name"), meta.integer("generation", 0))
    return identity, {str(k): str(v) for k, v in annotations.items()}


def spec(body: Mapping[str, Any]) -> Fields:
    if body.get("spec") is None:
        raise InvalidSpec("spec", "is required")
    return Fields(body["spec"], "spec")


# Checks shared by the kinds' validate() methods.

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_NIL_GUID = "00000000-0000-0000-0000-000000000000"


def require_guid(path: str, value: str) -> None:
    if not _GUID.match(value):
        raise InvalidSpec(path, f"{value!r} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    if value == _NIL_GUID:
        raise InvalidSpec(path, "the nil GUID names no object")


def require_one_of(path: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidSpec(path, f"{value!r} is not one of {', '.join(allowed)}")


def require_non_empty(path: str, value: str) -> None:
    if not value.strip():
        raise InvalidSpec(path, "must not be empty")


def require_https_url(path: str, value: str) -> None:
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - parses the port, raising ValueError when it is not a number
    except ValueError as exc:
        raise InvalidSpec(path, f"{value!r} is not a URL ({exc})") from None
    if url.scheme != "https" or not url.hostname or any(c.isspace() for c in value):
        raise InvalidSpec(path, f"{value!r} must be an https:// URL with a host")
