"""Attribute names checked against the job schema's user attributes, so a typo fails before a tenant sees it.

Offline, the names are those of the Azure2Azure template (ctsync.api.userschema); once a job exists, the
attributes its schema's directories declare. The check itself is ctsync.api.attribute_names.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from ctsync.api.attribute_names import unknown_attribute
from ctsync.api.attributemapping import AttributeMapping, attribute_key
from ctsync.api.syncscope import ScopingFilter
from ctsync.api.userschema import DIRECTORY_EXTENSION_PREFIX, SOURCE_USER_ATTRIBUTES, TARGET_USER_ATTRIBUTES
from ctsync.errors import InvalidSpec, ReadIncomplete
from ctsync.planning import expressions

_USER: Final = "user"


@dataclass(frozen=True)
class UserAttributes:
    """The user attribute names of the source and target directories, and where they come from."""

    source: frozenset[str]
    target: frozenset[str]
    origin: str  # "the Azure2Azure template" or "the job's schema", for messages
    open_extensions: bool = False  # offline: directory extensions are tenant-specific, so let them pass

    def unknown(self, path: str, name: str, side: str, *, exact_case: bool = False) -> InvalidSpec | None:
        """An error naming `path` when `name` is not a `side` ("source", "target", "source or target") user
        attribute."""
        if self.open_extensions and attribute_key(name).startswith(DIRECTORY_EXTENSION_PREFIX):
            return None
        names = {"source": self.source, "target": self.target}.get(side, self.source | self.target)
        what = f"a {side} user attribute of {self.origin}"
        return unknown_attribute(path, name, names, what, exact_case=exact_case)

    def spelled(self, name: str, side: str) -> str:
        """`name` as the schema spells it: names compare case-insensitively, but the service holds a schema
        PUT to the exact spelling. A name the schema does not know is left as it is."""
        names = self.source if side == "source" else self.target
        key = attribute_key(name)
        return next((known for known in sorted(names) if attribute_key(known) == key), name)


AZURE2AZURE: Final = UserAttributes(
    frozenset(SOURCE_USER_ATTRIBUTES),
    frozenset(TARGET_USER_ATTRIBUTES),
    "the Azure2Azure template",
    open_extensions=True,
)


def from_job_schema(schema: Mapping[str, Any]) -> UserAttributes:
    """The user attributes a live job schema declares for its rule's source and target directories."""
    rules = schema.get("synchronizationRules") or ()
    directories = {str(d.get("name")): d for d in schema.get("directories") or ()}
    if not rules or not directories:
        raise ReadIncomplete("the job schema (it lists no rule or no directories)")
    rule = rules[0]
    return UserAttributes(
        _user_attributes(directories, rule.get("sourceDirectoryName")),
        _user_attributes(directories, rule.get("targetDirectoryName")),
        "the job's schema",
    )


def schema_or_template(schema: Mapping[str, Any]) -> UserAttributes:
    """The job schema's user attributes, or the template's when the schema does not declare its directories."""
    try:
        return from_job_schema(schema)
    except ReadIncomplete:
        return AZURE2AZURE


def _user_attributes(directories: Mapping[str, Mapping[str, Any]], name: object) -> frozenset[str]:
    directory = directories.get(str(name))
    users = [o for o in (directory or {}).get("objects") or () if str(o.get("name", "")).lower() == _USER]
    if not users:
        raise ReadIncomplete(f"the job schema (directory {name!r} has no User object)")
    return frozenset(str(a.get("name")) for user in users for a in user.get("attributes") or ())


def mapping_name_errors(
    spec: AttributeMapping, sources: Sequence[expressions.Node], known: UserAttributes
) -> list[InvalidSpec]:
    """Unknown target attributes (mappings, remove, denyAttributes) and unknown [attributes] in sources;
    `sources` are the parsed spec.mappings[].source, in order."""
    found = [known.unknown(f"spec.mappings[{i}].target", m.target, "target") for i, m in enumerate(spec.mappings)]
    for i, node in enumerate(sources):
        found += [known.unknown(f"spec.mappings[{i}].source", name, "source") for name in _sorted_refs(node)]
    found += [known.unknown(f"spec.remove[{i}]", name, "target") for i, name in enumerate(spec.remove)]
    # A misspelt denied attribute would deny nothing.
    found += [
        known.unknown(f"spec.denyAttributes[{i}]", name, "source or target")
        for i, name in enumerate(spec.deny_attributes)
    ]
    return [error for error in found if error is not None]


def scoping_filter_name_errors(filters: Iterable[ScopingFilter], known: UserAttributes) -> list[InvalidSpec]:
    """Unknown source attributes read by scoping-filter clauses, whose names must match exactly."""
    found = [
        known.unknown(f"spec.scopingFilters[{i}].clauses[{j}].attribute", clause.attribute, "source", exact_case=True)
        for i, scoping_filter in enumerate(filters)
        for j, clause in enumerate(scoping_filter.clauses)
    ]
    return [error for error in found if error is not None]


def _sorted_refs(node: expressions.Node) -> list[str]:
    return sorted(expressions.attribute_refs(node))
