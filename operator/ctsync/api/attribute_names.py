"""The one check of an attribute name against the names a schema knows, with the closest ones suggested,
so that a typo fails before a tenant sees it."""

import difflib
from collections.abc import Collection

from ctsync.api.attributemapping import attribute_key
from ctsync.errors import InvalidSpec


def unknown_attribute(
    path: str, name: str, known: Collection[str], what: str, *, exact_case: bool = False
) -> InvalidSpec | None:
    """None when `name` is one of `known`; otherwise an error at `path` saying it is not `what`, with up to
    three close names. Mapping names compare case-insensitively (attribute_key); scoping-filter names
    must match exactly (`exact_case`, docs/guardrails.md "Attribute names" says why)."""
    by_key = {attribute_key(k): k for k in sorted(known)}
    key = attribute_key(name)
    if (name in known) if exact_case else (key in by_key):
        return None
    close = difflib.get_close_matches(key, by_key, n=3, cutoff=0.75)
    hint = f"; did you mean {' or '.join(by_key[c] for c in close)}?" if close else ""
    if exact_case and key in by_key:
        hint += " (names are case-sensitive)"
    return InvalidSpec(path, f"{name!r} is not {what}{hint}")
