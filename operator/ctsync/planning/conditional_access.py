"""Which of the target's Conditional Access policies rely on the inbound trust a TenantPair sets.

Users that cross-tenant synchronization creates are external users who authenticate in the source tenant.
A policy that requires MFA (or an authentication strength) from them is met with the source's MFA only
while the target's inbound trust accepts it; otherwise every synced user must register MFA again in the
target. A policy that requires a compliant or hybrid-joined device blocks them outright unless the target
trusts the source's device claims. This module reads the policies as Graph returns them and says which
apply to synced users and which trust settings they need. Pure: the caller reads the policies.

What counts as applying (conservative, from the policy alone):
- state `enabled`, or `enabledForReportingButNotEnforced` (reported as report-only); `disabled` never applies;
- users: `includeUsers` "All" or "GuestsOrExternalUsers", or `includeGuestsOrExternalUsers` naming B2B
  collaboration members (what synced users are) or guests (synced users mapped to userType Guest), for all
  external tenants or an enumerated list holding the source tenant;
- not excluded for the same users by `excludeUsers` or `excludeGuestsOrExternalUsers` (an exclusion that
  names the source tenant removes the risk);
- policies that reach synced users only through specific users, groups or roles are not counted: their
  membership is not in the policy. Application, platform, location and client conditions may narrow a
  policy further; ctsync does not narrow it (it warns rather than misses).
A policy whose shape cannot be read is "not evaluated", with the field named, never "safe".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ctsync.planning.plan import Action, Json, Plan

MFA = "isMfaAccepted"
COMPLIANT_DEVICE = "isCompliantDeviceAccepted"
HYBRID_JOINED_DEVICE = "isHybridAzureADJoinedDeviceAccepted"
TRUST_KEYS = (MFA, COMPLIANT_DEVICE, HYBRID_JOINED_DEVICE)

# Grant controls met in the source tenant only while the target trusts the matching claim.
_TRUSTED_CONTROLS = {"mfa": MFA, "compliantDevice": COMPLIANT_DEVICE, "domainJoinedDevice": HYBRID_JOINED_DEVICE}
_CONTROL_NAMES = {MFA: "MFA", COMPLIANT_DEVICE: "a compliant device", HYBRID_JOINED_DEVICE: "a hybrid-joined device"}
_STATES = {"enabled": "enabled", "enabledForReportingButNotEnforced": "report-only"}
# The guestOrExternalUserTypes flags synced users carry: members by default, guests when mapped so.
_SYNCED_KINDS = {
    "b2bCollaborationMember": "B2B collaboration members",
    "b2bCollaborationGuest": "B2B collaboration guests",
}
_ALL_KINDS = frozenset(_SYNCED_KINDS)


class Unreadable(ValueError):
    """A policy field ctsync cannot interpret; the message names the field."""


@dataclass(frozen=True)
class Finding:
    """A policy that applies to synced users and needs trust settings to be met from the source tenant.
    `any_of`: the grant is an OR, so it is exposed only when every trust it could use is off."""

    policy_id: str
    name: str
    state: str  # "enabled" or "report-only"
    why: str  # which users it reaches
    needs: tuple[str, ...]  # inboundTrust keys
    any_of: bool = False

    def exposed_by(self, trust: Mapping[str, bool]) -> tuple[str, ...]:
        """The needed trust keys that are off, when that leaves the policy unmet from the source."""
        off = tuple(key for key in self.needs if not trust.get(key))
        if self.any_of and len(off) < len(self.needs):
            return ()
        return off

    def describe(self, off: Sequence[str]) -> str:
        required = " or ".join(_CONTROL_NAMES[key] for key in off)
        state = "" if self.state == "enabled" else f", {self.state}"
        return f"'{self.name}' ({self.policy_id}{state}) requires {required} from {self.why}"


@dataclass(frozen=True)
class NotEvaluated:
    name: str
    reason: str

    def describe(self) -> str:
        return f"'{self.name}' not evaluated: {self.reason}"


@dataclass(frozen=True)
class Evaluation:
    findings: tuple[Finding, ...] = ()
    not_evaluated: tuple[NotEvaluated, ...] = ()

    def exposed(self, trust: Mapping[str, bool], turned_off: Iterable[str] = TRUST_KEYS) -> list[str]:
        """One line per policy that the trust settings leave unmet for synced users (only those that a key
        of `turned_off` is among the reasons for)."""
        lines = []
        for finding in self.findings:
            off = finding.exposed_by(trust)
            if set(off).intersection(turned_off):
                lines.append(finding.describe(off))
        return lines


def evaluate(policies: Iterable[Any], source_tenant_id: str) -> Evaluation:
    findings, unreadable = [], []
    for policy in policies:
        name = _name(policy)
        try:
            finding = _evaluate(policy, name, source_tenant_id.lower())
        except Unreadable as error:
            unreadable.append(NotEvaluated(name, str(error)))
            continue
        if finding is not None:
            findings.append(finding)
    return Evaluation(tuple(findings), tuple(unreadable))


def mark_trust_risks(plan: Plan, evaluation: Evaluation, trust: Mapping[str, bool]) -> Plan:
    """Marks the plan's actions that turn an inbound trust off with the policies that change exposes."""
    return Plan(tuple(_marked(action, evaluation, trust) for action in plan.actions))


def _marked(action: Action, evaluation: Evaluation, trust: Mapping[str, bool]) -> Action:
    turned_off = [
        key
        for key in TRUST_KEYS
        if (change := action.changes.get(f"inboundTrust.{key}")) and change[0] and not change[1]
    ]
    risks = evaluation.exposed(trust, turned_off) if turned_off else []
    return dataclasses.replace(action, risks=tuple(risks)) if risks else action


def _name(policy: Any) -> str:
    if isinstance(policy, Mapping):
        return str(policy.get("displayName") or policy.get("id") or "a policy without a name")
    return "a policy that is not an object"


def _evaluate(policy: Any, name: str, source: str) -> Finding | None:
    if not isinstance(policy, Mapping):
        raise Unreadable("not a JSON object")
    state = policy.get("state")
    if state == "disabled":
        return None
    if state not in _STATES:
        raise Unreadable(f"state {state!r} is not one ctsync knows")
    conditions = _object(policy, "conditions")
    users = _object(conditions, "users", "conditions.users")
    included, why = _included(users, source)
    kinds = included - _excluded(users, source)
    if kinds != included:
        why = _kinds(kinds)
    applications = _object(conditions, "applications", "conditions.applications", optional=True)
    if not kinds or _list(applications, "includeApplications", "conditions.applications") == ["None"]:
        return None
    needs, any_of = _needs(policy.get("grantControls"))
    if not needs:
        return None
    return Finding(str(policy.get("id")), name, _STATES[state], why, needs, any_of)


def _included(users: Json, source: str) -> tuple[set[str], str]:
    include = _list(users, "includeUsers", "conditions.users")
    if "All" in include:
        return set(_ALL_KINDS), "all users"
    if "GuestsOrExternalUsers" in include:
        return set(_ALL_KINDS), "all guests and external users"
    kinds = _guest_kinds(users.get("includeGuestsOrExternalUsers"), source, "includeGuestsOrExternalUsers")
    return kinds, _kinds(kinds)


def _kinds(kinds: set[str]) -> str:
    return " and ".join(_SYNCED_KINDS[kind] for kind in sorted(kinds, reverse=True))


def _excluded(users: Json, source: str) -> set[str]:
    exclude = _list(users, "excludeUsers", "conditions.users")
    if "All" in exclude or "GuestsOrExternalUsers" in exclude:
        return set(_ALL_KINDS)
    return _guest_kinds(users.get("excludeGuestsOrExternalUsers"), source, "excludeGuestsOrExternalUsers")


def _guest_kinds(value: Any, source: str, field: str) -> set[str]:
    """The synced-user kinds a conditionalAccessGuestsOrExternalUsers reaches from the source tenant."""
    path = f"conditions.users.{field}"
    if value is None:
        return set()
    if not isinstance(value, Mapping):
        raise Unreadable(f"{path} is not an object")
    types = value.get("guestOrExternalUserTypes")
    if not isinstance(types, str):
        raise Unreadable(f"{path}.guestOrExternalUserTypes is not a comma-separated string")
    kinds = {flag.strip() for flag in types.split(",")} & _ALL_KINDS
    tenants = value.get("externalTenants")
    if not kinds or tenants is None:  # no externalTenants: every external tenant
        return kinds
    if not isinstance(tenants, Mapping):
        raise Unreadable(f"{path}.externalTenants is not an object")
    kind = tenants.get("membershipKind")
    if kind == "all":
        return kinds
    if kind == "enumerated":
        members = tenants.get("members")
        if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise Unreadable(f"{path}.externalTenants.members is not a list of tenant ids")
        return kinds if source in {m.lower() for m in members} else set()
    raise Unreadable(f"{path}.externalTenants.membershipKind {kind!r} is not one ctsync knows")


def _needs(grant: Any) -> tuple[tuple[str, ...], bool]:
    """The trust keys a grant needs, and whether it is an OR over them. A grant that blocks, or that has
    an option met without trust (terms of use, a custom control), needs nothing from the trust settings."""
    if grant is None:
        return (), False
    if not isinstance(grant, Mapping):
        raise Unreadable("grantControls is not an object")
    controls = _list(grant, "builtInControls", "grantControls")
    if not all(isinstance(control, str) for control in controls):
        raise Unreadable("grantControls.builtInControls is not a list of names")
    operator = grant.get("operator") or "OR"
    if operator not in ("AND", "OR"):
        raise Unreadable(f"grantControls.operator {operator!r} is neither AND nor OR")
    if "block" in controls:
        return (), False
    needs = [_TRUSTED_CONTROLS[control] for control in controls if control in _TRUSTED_CONTROLS]
    if grant.get("authenticationStrength") is not None:
        needs.append(MFA)
    other_options = _list(grant, "termsOfUse", "grantControls") + _list(
        grant, "customAuthenticationFactors", "grantControls"
    )
    options = len(controls) + len(other_options) + (grant.get("authenticationStrength") is not None)
    any_of = operator == "OR" and options > 1
    if any_of and other_options:
        return (), False
    return tuple(dict.fromkeys(needs)), any_of


def _object(parent: Json, key: str, path: str | None = None, *, optional: bool = False) -> Json:
    value = parent.get(key)
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise Unreadable(f"{path or key} is not an object")
    return value


def _list(parent: Json, key: str, path: str) -> list[Any]:
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Unreadable(f"{path}.{key} is not a list")
    return value
