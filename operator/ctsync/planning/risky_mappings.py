"""Mappings that change what a synced user is in a way nobody notices until it hurts, refused unless the
AttributeMapping acknowledges them in spec.acknowledgeRisks.

- userPrincipalName: the service builds the target UPN from the source UPN (`<UPN with @ as _>#EXT#@<target
  initial domain>`); changing or dropping its mapping renames users or breaks their creation.
- accountEnabled: its default mapping is what blocks a user in the target once the source disables them;
  removing, denying or overriding it (another source, or applying it only on create) stops that silently.
The matching attribute (alternativeSecurityIds) is not acknowledgeable: the service refuses any change to
it, so ctsync rejects it outright (ctsync.api.attributemapping).
"""

from collections.abc import Sequence
from typing import Final

from ctsync.api.attributemapping import RISKY_ATTRIBUTES, AttributeMapping, attribute_key
from ctsync.errors import InvalidSpec
from ctsync.planning import expressions

_CONSEQUENCE: Final = {
    "userPrincipalName": "changes the user principal name every synced user gets in the target",
    "accountEnabled": "stops users disabled in the source from being blocked in the target",
}


def risk_errors(spec: AttributeMapping, sources: Sequence[expressions.Node]) -> list[InvalidSpec]:
    """Each unacknowledged change to a risky attribute's default mapping; `sources` are the parsed
    spec.mappings[].source, in order."""
    acknowledged = {attribute_key(a) for a in spec.acknowledge_risks}
    risky = {attribute_key(a): a for a in RISKY_ATTRIBUTES if attribute_key(a) not in acknowledged}
    errors = []
    for i, (entry, node) in enumerate(zip(spec.mappings, sources, strict=True)):
        name = risky.get(attribute_key(entry.target))
        # The default mapping, [name] -> name applied Always, is no risk; OnCreate would stop updates.
        if name is not None and (node != expressions.Attribute(name) or entry.apply != "Always"):
            errors.append(_error(f"spec.mappings[{i}].target", "mapping", name))
    for field, names in (("remove", spec.remove), ("denyAttributes", spec.deny_attributes)):
        for i, given in enumerate(names):
            name = risky.get(attribute_key(given))
            if name is not None:
                errors.append(_error(f"spec.{field}[{i}]", "removing", name))
    return errors


def _error(path: str, verb: str, name: str) -> InvalidSpec:
    return InvalidSpec(
        path, f"{verb} {name} {_CONSEQUENCE[name]}; list {name} in spec.acknowledgeRisks if that is intended"
    )
