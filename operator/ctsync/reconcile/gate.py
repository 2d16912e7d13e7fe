"""May a SyncScope write to its source tenant? The one rule that the operator, `ctsync plan` and `ctsync apply`
follow alike.

A SyncScope writes only while its TenantPair is Ready at its generation, says Manage and is not suspended,
and the SyncScope itself says Manage. Otherwise it still observes and plans, and reports why its writes are
held; an AttributeMapping in Observe holds only the job schema it feeds. Waiting for the pair is different:
without a Ready pair there is nothing to plan against yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..api import conditions
from ..api.attributemapping import AttributeMapping
from ..api.conditions import Condition
from ..api.syncscope import SyncScope
from ..api.tenantpair import TenantPair
from ..planning.plan import Plan

SCHEMA_STEP = "source.schema"


@dataclass(frozen=True)
class WriteDecision:
    reason: str  # conditions.MANAGED when everything may be written
    message: str
    held_steps: frozenset[str] | None = frozenset()  # plan steps not written; None: all of them

    @property
    def waiting(self) -> bool:
        """The TenantPair is not Ready: the SyncScope waits for it instead of planning."""
        return self.reason == conditions.DEPENDENCY_NOT_READY

    @property
    def writes_all(self) -> bool:
        return self.held_steps == frozenset()

    def holds(self, step: str) -> bool:
        return self.held_steps is None or step in self.held_steps

    def split(self, plan: Plan) -> tuple[Plan, Plan]:
        """(what may be written, what is held) of a plan."""
        if self.held_steps is None:
            return Plan(), plan
        held = self.held_steps
        return (
            Plan(tuple(a for a in plan.actions if a.step not in held)),
            Plan(tuple(a for a in plan.actions if a.step in held)),
        )

    def condition(self, generation: int) -> Condition:
        status: conditions.Status = "True" if self.writes_all else "False"
        return Condition(conditions.WRITES_ALLOWED, status, self.reason, self.message, generation)


def may_write(
    scope: SyncScope, pair: TenantPair | None, pair_ready: bool, mappings: Sequence[AttributeMapping] = ()
) -> WriteDecision:
    """`pair_ready`: the pair's Ready condition is True at its current generation (Observe and suspend
    leave a pair Ready, so they are checked here too)."""
    ref = f"TenantPair {scope.namespace}/{scope.tenant_pair_name}"
    if pair is None or not pair_ready:
        return WriteDecision(conditions.DEPENDENCY_NOT_READY, f"{ref} is not Ready yet", None)
    if pair.suspend:
        return WriteDecision(conditions.PAIR_SUSPENDED, f"writes held: {ref} is suspended", None)
    if pair.management_policy == "Observe":
        return WriteDecision(conditions.PAIR_OBSERVED, f"writes held: {ref} has managementPolicy Observe", None)
    if scope.management_policy == "Observe":
        return WriteDecision(conditions.OBSERVED, "writes held: managementPolicy Observe", None)
    observed = sorted(m.name for m in mappings if m.management_policy == "Observe")
    if observed:
        message = f"job schema held: AttributeMapping(s) {', '.join(observed)} have managementPolicy Observe"
        return WriteDecision(conditions.MAPPING_OBSERVED, message, frozenset({SCHEMA_STEP}))
    return WriteDecision(conditions.MANAGED, "the SyncScope and its TenantPair say Manage")
