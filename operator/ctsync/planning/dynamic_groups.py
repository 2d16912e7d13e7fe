"""Which dynamic groups of the target tenant the synced users would join: each in-scope source user is
projected through the job's user mappings into the user the provisioning service makes of them, and each
group's rule is evaluated once per user.

The projection evaluates direct attribute mappings and constants. A mapping through a function is not
evaluated: a rule that reads its target attribute is reported as not evaluated, as is a rule ctsync cannot
parse; neither is ever reported as safe."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ctsync.api import userschema
from ctsync.api.userschema import GRAPH_PROPERTY
from ctsync.planning import expressions
from ctsync.planning.membership_rules import PROPERTIES, RuleNotEvaluated, parse_rule
from ctsync.planning.schema import user_object_mappings

Json = Mapping[str, Any]
SAMPLE_SIZE: Final = 5

_EXTENSION_PREFIX: Final = "extensionattribute"
# What the service writes itself, whatever the mapping says: the external UPN in the target's domain.
_REWRITTEN: Final = {"userprincipalname": "the service rewrites it into an #EXT# name in the target's domain"}
_NEW_OBJECT: Final = "(assigned by the target)"  # a new user's objectId: not null, not known in advance


def graph_select(attribute: str) -> str:
    """The Graph user property to $select for a schema attribute."""
    if attribute.lower().startswith(_EXTENSION_PREFIX):
        return "onPremisesExtensionAttributes"
    return GRAPH_PROPERTY.get(attribute, attribute)


def graph_value(user: Json, attribute: str) -> Any:
    """A schema attribute's value in a user as Graph returns it."""
    lower = attribute.lower()
    if lower.startswith(_EXTENSION_PREFIX):
        extensions = user.get("onPremisesExtensionAttributes") or {}
        return next((v for k, v in extensions.items() if k.lower() == lower), None)
    return userschema.graph_value(user, attribute)


@dataclass(frozen=True)
class Projection:
    """The job's user mappings as they shape a new user in the target."""

    sources: Mapping[str, str | None]  # target attribute (lower case) -> source attribute, or None: a constant
    constants: Mapping[str, str]
    defaults: Mapping[str, str]
    unknown: Mapping[str, str]  # target attribute (lower case) -> why ctsync cannot compute it

    def source_attributes(self, targets: Iterable[str]) -> set[str]:
        """The source attributes that feed these target attributes."""
        return {s for t in targets if (s := self.sources.get(t)) is not None}

    def guest(self, user: Json) -> dict[str, Any]:
        """The user the service would create in the target from this source user (rule properties only)."""
        made: dict[str, Any] = {"objectid": _NEW_OBJECT, "usertype": "Member"}  # CTS creates members by default
        for target, source in self.sources.items():
            value = self.constants.get(target) if source is None else graph_value(user, source)
            made[target] = self.defaults.get(target) if value in (None, "", []) else value
        return made


def projection_of(schema: Json) -> Projection:
    """The projection the job's schema makes (every User -> User object mapping; CTS has one)."""
    sources: dict[str, str | None] = {}
    constants: dict[str, str] = {}
    defaults: dict[str, str] = {}
    unknown: dict[str, str] = dict(_REWRITTEN)
    for object_mapping in user_object_mappings(schema):
        for mapping in object_mapping.get("attributeMappings") or ():
            target = str(mapping.get("targetAttributeName", "")).lower()
            if target not in PROPERTIES or target in _REWRITTEN:
                continue
            node = _parsed(mapping.get("source"))
            if mapping.get("defaultValue"):
                defaults[target] = str(mapping["defaultValue"])
            if isinstance(node, expressions.Attribute):
                sources[target] = node.name
            elif isinstance(node, expressions.Constant):
                sources[target], constants[target] = None, node.value
            else:
                what = expressions.render(node) if node is not None else "an expression ctsync cannot parse"
                unknown[target] = f"it is mapped from {what}, which ctsync does not evaluate"
    return Projection(sources, constants, defaults, unknown)


def _parsed(source: Json | None) -> expressions.Node | None:
    text = expressions.canonical_source(source)
    try:
        return expressions.parse(text) if text else None
    except expressions.ExpressionSyntaxError:
        return None


@dataclass(frozen=True)
class GroupMatch:
    """A dynamic group and the synced users its rule takes in (ids, in the order given)."""

    group_id: str
    name: str
    rule: str
    state: str  # membershipRuleProcessingState: On, or Paused (joins once processing resumes)
    members: tuple[str, ...]


@dataclass(frozen=True)
class NotEvaluated:
    group_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class Collisions:
    matches: tuple[GroupMatch, ...] = ()  # groups at least one synced user joins
    not_evaluated: tuple[NotEvaluated, ...] = ()
    evaluations: int = 0  # rule evaluations made (one per group per user)
    names: Mapping[str, str] = field(default_factory=dict)  # user id -> display name, for samples

    def sample(self, match: GroupMatch) -> list[str]:
        return [self.names.get(i) or i for i in match.members[:SAMPLE_SIZE]]


def rules_properties(groups: Sequence[Json]) -> set[str]:
    """Every rule property the parseable rules read (lower case)."""
    found: set[str] = set()
    for group in groups:
        try:
            found |= parse_rule(group.get("membershipRule")).properties
        except RuleNotEvaluated:
            continue
    return found


def find_collisions(groups: Sequence[Json], users: Mapping[str, Json], projection: Projection) -> Collisions:
    """Each group's rule against each user's projection: one evaluation per group per user."""
    guests = {uid: projection.guest(user) for uid, user in users.items()}
    matches, skipped, evaluations = [], [], 0
    for group in sorted(groups, key=lambda g: (str(g.get("displayName")), str(g.get("id")))):
        name, gid = str(group.get("displayName") or group.get("id")), str(group.get("id"))
        try:
            rule = parse_rule(group.get("membershipRule"))
        except RuleNotEvaluated as exc:
            skipped.append(NotEvaluated(gid, name, f"its rule is not evaluated: {exc}"))
            continue
        blind = sorted(p for p in rule.properties if p in projection.unknown)
        if blind:
            skipped.append(NotEvaluated(gid, name, f"the rule reads {blind[0]}: {projection.unknown[blind[0]]}"))
            continue
        members = tuple(uid for uid, guest in guests.items() if rule.matches(guest))
        evaluations += len(guests)
        if members:
            state = str(group.get("membershipRuleProcessingState") or "On")
            matches.append(GroupMatch(gid, name, rule.text, state, members))
    names = {uid: str(u.get("displayName") or u.get("userPrincipalName") or uid) for uid, u in users.items()}
    return Collisions(tuple(matches), tuple(skipped), evaluations, names)


def membership_changes(before: Collisions, after: Collisions) -> list[str]:
    """Lines for a plan: the groups a change makes synced users join or leave."""
    old = {m.group_id: set(m.members) for m in before.matches}
    new = {m.group_id: set(m.members) for m in after.matches}
    names = {m.group_id: m.name for m in (*before.matches, *after.matches)}
    lines = []
    for gid in sorted(names, key=lambda g: names[g]):
        joins, leaves = len(new.get(gid, set()) - old.get(gid, set())), len(old.get(gid, set()) - new.get(gid, set()))
        if joins:
            lines.append(f"{joins} synced user(s) would join dynamic group {names[gid]!r}")
        if leaves:
            lines.append(f"{leaves} synced user(s) would leave dynamic group {names[gid]!r}")
    return lines


def describe(collisions: Collisions) -> str:
    """The condition message: each group, its rule, how many synced users match and a few of them."""
    parts = [
        f"{m.name!r} ({m.rule}): {len(m.members)} synced user(s) match, e.g. {', '.join(collisions.sample(m))}"
        + ("; processing is Paused, they join when it resumes" if m.state == "Paused" else "")
        for m in collisions.matches
    ]
    parts += [f"{n.name!r} not evaluated: {n.reason}" for n in collisions.not_evaluated]
    return "; ".join(parts)
