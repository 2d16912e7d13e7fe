"""Plans: the ordered Graph writes that bring one resource's tenants to the spec, and their diff rendering."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Json = Mapping[str, Any]  # a Graph object as read or sent
Tenant = Literal["source", "target"]
Verb = Literal["create", "update", "delete", "start", "pause", "restart"]

_SYMBOLS: dict[Verb, str] = {
    "create": "+",
    "update": "~",
    "delete": "-",
    "start": "~",
    "pause": "~",
    "restart": "~",
}


@dataclass(frozen=True)
class Action:
    """One Graph write.

    `step` is a stable id ("target.partner", "source.assignments", ...) that the applier maps to a Graph
    call together with `verb`; `key` names the object within the step when there can be several (the
    principal id of an assignment to create, the assignment id of one to delete). `body` is the JSON to
    send; ids that exist only after an earlier action of the same plan (service principal, job, app role)
    are not in it: the applier supplies them from the objects it created or observed.
    """

    tenant: Tenant
    step: str
    verb: Verb
    summary: str
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    destructive: bool = False
    body: Mapping[str, Any] | None = None
    key: str = ""
    risks: tuple[str, ...] = ()  # what this write exposes (guardrails), shown with the plan


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.actions

    @property
    def destructive(self) -> bool:
        return any(a.destructive for a in self.actions)

    def by_tenant(self) -> dict[Tenant, tuple[Action, ...]]:
        """Actions per tenant, each in plan order; tenants in the order they first act."""
        grouped: dict[Tenant, list[Action]] = {}
        for action in self.actions:
            grouped.setdefault(action.tenant, []).append(action)
        return {tenant: tuple(actions) for tenant, actions in grouped.items()}

    def render(self) -> str:
        """Diff-style text for the CLI and Events: `+` create, `~` change, `-` remove."""
        if self.empty:
            return "No changes."
        counts = {verb: sum(a.verb == verb for a in self.actions) for verb in ("create", "delete")}
        changed = len(self.actions) - counts["create"] - counts["delete"]
        lines = [f"Plan: {counts['create']} to create, {changed} to change, {counts['delete']} to remove."]
        for tenant, actions in self.by_tenant().items():
            lines.append(f"{tenant} tenant:")
            for a in actions:
                lines.append(
                    f"  {a.summary}" + (" [destructive]" if a.destructive else "") + (" [risky]" if a.risks else "")
                )
                lines.extend(f"    risk: {risk}" for risk in a.risks)
        return "\n".join(lines)


def describe_drift(plan: Plan) -> list[str]:
    """What differs from the spec, one human line per pending write (for the Drifted condition and Events)."""
    return [action.summary for action in plan.actions]


def summary(verb: Verb, subject: str, changes: Mapping[str, tuple[Any, Any]] | None = None) -> str:
    """`~ subject: field old -> new, ...` with JSON-style values (true, null, "text")."""
    text = f"{_SYMBOLS[verb]} {subject}"
    if changes:
        text += ": " + ", ".join(f"{name} {show(old)} -> {show(new)}" for name, (old, new) in changes.items())
    return text


def show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def short_id(object_id: str) -> str:
    """Enough of a GUID to tell objects apart in a one-line summary."""
    return object_id if len(object_id) <= 9 else object_id[:8] + "…"
