"""Creates Graph has answered but may not show yet (status.pendingCreates).

Graph copies a write to its other replicas within seconds: right after a create, a read of the new object can
answer 404 and a list can leave it out. ctsync records what each create returned before its next write, and
until a read shows the object it takes its absence for "not visible yet": the object is not created again,
and the actions on it (and on what lives under it) wait. One still invisible `bound` seconds after its create
stops the resource with CreateNotVisible instead of being created a second time.

Pure: the reconciler passes the time in.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from ctsync.api import conditions
from ctsync.errors import Blocked
from ctsync.planning.plan import Plan, short_id
from ctsync.planning.syncscope import SyncScopeObserved
from ctsync.planning.tenantpair import TenantPairObserved

STATUS_FIELD: Final = "pendingCreates"
DEFAULT_BOUND_SECONDS: Final = 120.0
# Steps whose objects live under another step's object: while that one is not visible, they wait too.
DEPENDENT_STEPS: Final[Mapping[str, tuple[str, ...]]] = {
    "source.configuration": (
        "source.secrets",
        "source.job",
        "source.assignments",
        "source.schema",
        "source.jobState",
    ),
    "source.job": ("source.schema", "source.jobState"),
    "target.partner": ("target.identitySync",),
}
_WHAT: Final = {
    "source.configuration": "source configuration",
    "source.job": "source synchronization job",
    "source.assignments": "source assignment",
    "target.partner": "target partner policy",
    "target.identitySync": "target identity synchronization",
    "source.partner": "source partner policy",
}

Visible = Collection[tuple[str, str]]  # (step, id) of every object a read showed


@dataclass(frozen=True)
class PendingCreate:
    """One create Graph answered: `step` made it, `key` says which one of that step's objects (configuration
    name, job template, principal id, partner tenant id), `id` is what Graph returned, `since` when. An empty
    `id`: the answer was lost (a timeout, a 5xx) and the object may or may not exist; it is then known by key."""

    step: str
    key: str
    id: str
    since: datetime

    def to_status(self) -> dict[str, str]:
        since = self.since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"step": self.step, "key": self.key, "id": self.id, "since": since}

    def describe(self) -> str:
        if not self.id:
            return f"{_WHAT.get(self.step, self.step)} {self.key!r} (its create's answer was lost)"
        if not self.key or self.key == self.id:
            named = ""
        else:  # a GUID (principal, tenant) shortened as in plan summaries; a name whole
            named = f" for {short_id(self.key)}" if len(self.key) == 36 else f' "{self.key}"'
        return f"{_WHAT.get(self.step, self.step)}{named} ({self.id})"


def from_status(status: Mapping[str, Any]) -> tuple[PendingCreate, ...]:
    """The pending creates a status records; an entry that cannot be read is left out (it protects nothing)."""
    out = []
    for entry in status.get(STATUS_FIELD) or ():
        try:
            since = datetime.fromisoformat(str(entry["since"]))
            out.append(PendingCreate(str(entry["step"]), str(entry["key"]), str(entry["id"]), since))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(out)


def to_status(pending: Iterable[PendingCreate]) -> list[dict[str, str]]:
    return [p.to_status() for p in pending]


def recorded(
    pending: Sequence[PendingCreate], step: str, key: str, object_id: str, now: datetime
) -> tuple[PendingCreate, ...]:
    """`pending` with one more create; a newer create of the same object replaces the older entry."""
    kept = tuple(p for p in pending if (p.step, p.key) != (step, key))
    return (*kept, PendingCreate(step, key, object_id, now))


@dataclass(frozen=True)
class Settled:
    waiting: tuple[PendingCreate, ...] = ()  # not visible yet, within the bound
    overdue: tuple[PendingCreate, ...] = ()  # still not visible past the bound

    def waits_for(self, step: str) -> bool:
        return any(p.step == step for p in self.waiting)

    def message(self) -> str:
        listed = "; ".join(p.describe() for p in self.waiting)
        return f"created, not visible in Graph yet (replication): {listed}"


def settle(pending: Iterable[PendingCreate], visible: Visible, now: datetime, bound: float) -> Settled:
    """Splits the creates a read has not shown yet into those still waited for and those past `bound` seconds;
    the ones `visible` shows (by id, or by key when the answer was lost) are done and dropped."""
    shown = {(step, object_id.lower()) for step, object_id in visible}
    unseen = [p for p in pending if (p.step, (p.id or p.key).lower()) not in shown]
    waiting = tuple(p for p in unseen if (now - p.since).total_seconds() < bound)
    # A create whose answer was lost and whose object no read showed within the bound did not happen.
    overdue = tuple(p for p in unseen if (now - p.since).total_seconds() >= bound and p.id)
    return Settled(waiting, overdue)


def require_no_overdue(settled: Settled, bound: float) -> None:
    """Blocked (CreateNotVisible) when a create stayed invisible past the bound: ctsync does not make a second
    object in its place, a human looks (it may have been deleted right after its create)."""
    if settled.overdue:
        named = "; ".join(f"{p.describe()}, created {p.to_status()['since']}" for p in settled.overdue)
        raise Blocked(
            conditions.CREATE_NOT_VISIBLE,
            f"not visible in Graph {bound:g} s after ctsync created it: {named}. ctsync will not create it again "
            f"while status.{STATUS_FIELD} lists it; if it was deleted, remove that entry",
        )


def hold(plan: Plan, waiting: Iterable[PendingCreate]) -> Plan:
    """The plan without the actions on objects not visible yet: on the object itself (keyed by its key or its
    id, or unkeyed when the step has one object) and on the objects under it."""
    waiting = tuple(waiting)

    def held(step: str, key: str) -> bool:
        return any(
            (step == p.step and key in ("", p.key, p.id)) or step in DEPENDENT_STEPS.get(p.step, ()) for p in waiting
        )

    return Plan(tuple(a for a in plan.actions if not held(a.step, a.key)))


def visible_in_sync_scope(observed: SyncScopeObserved) -> set[tuple[str, str]]:
    found = {("source.job", str(job.get("id"))) for job in observed.jobs}
    found |= {("source.assignments", str(a.get("id"))) for a in observed.assignments}
    if observed.configuration is not None:
        found.add(("source.configuration", str(observed.configuration.get("id"))))
        found.add(("source.configuration", str(observed.configuration.get("displayName"))))
    return found


def visible_in_tenant_pair(observed: TenantPairObserved, source_id: str, target_id: str) -> set[tuple[str, str]]:
    """Partner policies and identity synchronization are keyed, and recorded, by the partner's tenant id."""
    shown = (
        ("target.partner", observed.target_partner, source_id),
        ("target.identitySync", observed.target_identity_sync, source_id),
        ("source.partner", observed.source_partner, target_id),
    )
    return {(step, tenant_id) for step, found, tenant_id in shown if found is not None}
