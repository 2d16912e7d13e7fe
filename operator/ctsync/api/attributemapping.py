"""AttributeMapping: attribute flows for one SyncScope's job schema, parsed with the CRD defaults.

The syntax of the source expressions, attribute names and risky mappings are checked in
ctsync.planning.mappings (the parser and the job schema's attribute lists live there); everything else
about an AttributeMapping is checked here.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from ctsync.api import constants, fields
from ctsync.errors import InvalidSpec

APPLY_MODES: Final = ("Always", "OnCreate")
# Attributes whose default mapping an AttributeMapping changes only if spec.acknowledgeRisks lists them
# (ctsync.planning.risky_mappings says why).
RISKY_ATTRIBUTES: Final = ("userPrincipalName", "accountEnabled")


def attribute_key(name: str) -> str:
    """Entra attribute names are case-insensitive: compare them by this key."""
    return name.casefold()


@dataclass(frozen=True)
class MappingEntry:
    target: str
    source: str  # an expression in the provisioning service's syntax
    apply: str = "Always"
    default: str | None = None


@dataclass(frozen=True)
class AttributeMapping(fields.Resource):
    kind: ClassVar[str] = constants.KIND_ATTRIBUTE_MAPPING
    sync_scope_name: str
    mappings: tuple[MappingEntry, ...] = ()
    remove: tuple[str, ...] = ()
    # Omitting denyAttributes means the default list; an explicit [] opts out.
    deny_attributes: tuple[str, ...] = constants.DEFAULT_DENY_ATTRIBUTES
    acknowledge_risks: tuple[str, ...] = ()
    management_policy: str = "Manage"

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> "AttributeMapping":
        identity, _ = fields.metadata(body)
        spec = fields.spec(body)
        deny = spec.strings("denyAttributes")
        return cls(
            *identity,
            sync_scope_name=spec.req_child("syncScopeRef").req_str("name"),
            mappings=tuple(
                MappingEntry(
                    target=m.req_str("target"),
                    source=m.req_str("source"),
                    apply=m.opt_str("apply") or "Always",
                    default=m.opt_str("default"),
                )
                for m in spec.children("mappings")
            ),
            remove=spec.strings("remove") or (),
            deny_attributes=constants.DEFAULT_DENY_ATTRIBUTES if deny is None else deny,
            acknowledge_risks=spec.strings("acknowledgeRisks") or (),
            management_policy=spec.opt_str("managementPolicy") or "Manage",
        )

    def validate(self) -> None:
        """Every AttributeMapping rule but expression syntax (see the module docstring)."""
        fields.require_non_empty("spec.syncScopeRef.name", self.sync_scope_name)
        fields.require_one_of("spec.managementPolicy", self.management_policy, constants.MANAGEMENT_POLICIES)
        denied = _index("spec.denyAttributes", self.deny_attributes)
        mapped = _index("spec.mappings", [m.target for m in self.mappings], suffix=".target")
        for i, entry in enumerate(self.mappings):
            at = f"spec.mappings[{i}]"
            fields.require_non_empty(f"{at}.source", entry.source)
            fields.require_one_of(f"{at}.apply", entry.apply, APPLY_MODES)
            if attribute_key(entry.target) in denied:
                raise InvalidSpec(f"{at}.target", f"{entry.target} is listed in spec.denyAttributes")
        for i, name in enumerate(self.acknowledge_risks):
            fields.require_one_of(f"spec.acknowledgeRisks[{i}]", name, RISKY_ATTRIBUTES)
        removed = _index("spec.remove", self.remove)
        for key, i in removed.items():
            if key in mapped:
                raise InvalidSpec(
                    f"spec.remove[{i}]",
                    f"is also mapped by spec.mappings[{mapped[key]}]; either map it or remove it",
                )


def _index(path: str, names: Sequence[str], suffix: str = "") -> dict[str, int]:
    """Key -> position of attribute names, refusing blanks, duplicates and the matching attribute."""
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        at = f"{path}[{i}]{suffix}"
        fields.require_non_empty(at, name)
        key = attribute_key(name)
        if key == attribute_key(constants.MATCHING_ATTRIBUTE):
            raise InvalidSpec(
                at,
                f"{constants.MATCHING_ATTRIBUTE} links each target user to its source user; "
                "its mapping cannot be changed, removed or denied",
            )
        if key in index:
            raise InvalidSpec(at, f"{name} is listed twice (also at {path}[{index[key]}]{suffix})")
        index[key] = i
    return index
