"""The fast lane of one SyncScope: follow the source's delta rounds and provision what changed on demand,
within the job's limit, while the provisioning cycle stays the backstop.

`FastLane.step` is one round: decide whether the fast lane may run, read the groups and users rounds,
queue what the planner counts as changes, and provision them as the job's token bucket allows. The caller
(a daemon in the handler layer, or a test) keeps the FastLane between rounds, persists `links` and shows
`report`. A full round (the first, or after Graph dropped the links) is a baseline: nobody is provisioned
from it, so a restart without links, or a reset, never provisions the scope again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import errors as domain
from ..api import conditions
from ..api.syncscope import SyncScope
from ..api.tenantpair import TenantPair
from ..graph.cts import SourceTenant
from ..graph.delta import delta_round, groups_start, users_start
from ..graph.on_demand import OnDemandResult, provision_on_demand, rule_id
from ..planning.cycle_estimate import left_to_the_cycle
from ..planning.fast_lane import Change, OnDemandQueue, ScopeView, TokenBucket, followed_properties
from .gate import may_write

Json = dict[str, Any]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Record = Callable[[Change, OnDemandResult, float], None]  # the change, its outcome, seconds since it was seen

# One bucket per job, shared by every caller of provisionOnDemand on that job in this process.
_BUCKETS: dict[str, TokenBucket] = {}


def bucket_for(job_id: str, max_per_minute: int) -> TokenBucket:
    bucket = _BUCKETS.get(job_id)
    if bucket is None or bucket.rate != TokenBucket.per_minute(max_per_minute).rate:
        bucket = _BUCKETS[job_id] = TokenBucket.per_minute(max_per_minute)
    return bucket


def held_because(scope: SyncScope, pair: TenantPair | None, pair_ready: bool, status: Mapping[str, Any]) -> str | None:
    """Why the fast lane may not run now, or None. It writes only where a reconcile may write (the shared
    gate: Observe, a suspended pair), and only while the job runs normally: not while the SyncScope is
    suspended, the job is quarantined or its deletion threshold holds deletions, or the first cycle runs."""
    if not scope.fast_lane.enabled:
        return "not enabled"
    decision = may_write(scope, pair, pair_ready)
    if not decision.writes_all:
        return decision.message
    if scope.suspend:
        return "the SyncScope is suspended"
    synced = next((c for c in status.get("conditions") or () if c.get("type") == conditions.SYNCED), None)
    if synced is None or synced.get("status") != "True":
        why = synced.get("reason") if synced else "not observed yet"
        return f"the job is not running normally (Synced: {why})"
    if not status.get("jobId") or not status.get("servicePrincipalId"):
        return "the job does not exist yet"
    return None


@dataclass(frozen=True)
class Links:
    users: str | None = None
    groups: str | None = None
    # The user properties the users link selects (Graph keeps its $select in the link); None: not known.
    user_properties: frozenset[str] | None = None


@dataclass(frozen=True)
class Report:
    state: str  # Active, Bulk or Off
    message: str
    queued_for_cycle: int = 0

    def status(self, links: Links) -> Json:
        return {
            "state": self.state,
            "message": self.message,
            "queuedForCycle": self.queued_for_cycle,
            "usersDeltaLink": links.users,
            "usersDeltaProperties": None if links.user_properties is None else sorted(links.user_properties),
            "groupsDeltaLink": links.groups,
        }


def links_of(status: Mapping[str, Any]) -> Links:
    """The links a restarted operator resumes from: those Report.status wrote into status.fastLane."""
    shown = status.get("fastLane") or {}
    properties = shown.get("usersDeltaProperties")
    users, groups = shown.get("usersDeltaLink"), shown.get("groupsDeltaLink")
    return Links(users, groups, None if properties is None else frozenset(properties))


class FastLane:
    def __init__(self, scope: SyncScope, links: Links) -> None:
        self.scope = scope
        self.links = links
        self.queue = OnDemandQueue(scope.fast_lane.burst_size)
        self.view: ScopeView | None = None  # built on the first round of this process
        self.rule: str | None = None  # the job schema's rule, and the user properties it reads
        self.attributes: frozenset[str] = frozenset()
        self.mappings: tuple[str, ...] | None = None  # status.appliedMappings when the schema was read

    async def step(
        self, source: SourceTenant, status: Mapping[str, Any], now: Clock, sleep: Sleep, record: Record
    ) -> Report:
        sp_id, job_id = str(status["servicePrincipalId"]), str(status["jobId"])
        await self._follow_schema(source, sp_id, job_id, tuple(status.get("appliedMappings") or ()))
        view = self.view or await self._view(source, status)
        groups = await delta_round(source.client, groups_start(), self.links.groups)
        users = await delta_round(source.client, users_start(self.attributes), self.links.users)
        if groups.full or users.full:
            view.baseline(groups.items, users.items)
        else:
            self.queue.offer(view.changes(groups.items, users.items, now()), now())
        if groups.items or users.items or groups.full or users.full:
            # An earlier link with nothing after it reads the same changes as a newer one: status is written
            # only when a round moved on.
            self.links = Links(users.link, groups.link, self.attributes)
        self.view = view
        self.queue.settle(now())
        if self.queue.state == "Bulk":
            count = len(self.queue.bulk_users)
            return Report("Bulk", f"Bulk, {left_to_the_cycle(count)}", count)
        await self._drain(source, sp_id, job_id, now, sleep, record)
        return Report("Active", "provisioning changes on demand")

    async def _follow_schema(self, source: SourceTenant, sp_id: str, job_id: str, mappings: tuple[str, ...]) -> None:
        """Reads the job schema at the first round and again once other AttributeMappings were applied to it.
        When the users link selects other properties than the job now reads (a mapping changed, while the
        lane ran or the operator was stopped), the users rounds start over with the new ones: a new baseline
        (nobody provisioned; after a schema change the service re-evaluates everyone at its next cycle)."""
        if self.rule is not None and mappings == self.mappings:
            return
        schema = await source.schema(sp_id, job_id)
        self.rule, self.attributes, self.mappings = rule_id(schema), followed_properties(schema), mappings
        known = self.links.user_properties
        if self.links.users is not None and known is not None and known != self.attributes:
            self.links = Links(None, self.links.groups)

    async def _view(self, source: SourceTenant, status: Mapping[str, Any]) -> ScopeView:
        """The assignments from status; with links to resume from, the assigned groups' members now (a
        restart resumes the rounds, it does not read them whole)."""
        assigned = status.get("assignments") or []
        groups = frozenset(a["principalId"] for a in assigned if a.get("principalType") == "Group")
        users = frozenset(a["principalId"] for a in assigned if a.get("principalType") == "User")
        view = ScopeView(groups, users, self.scope.scope.sync_all)
        if self.links.groups is not None:
            for group_id in groups:
                view.members[group_id] = {u["id"] for u in await source.direct_member_users(group_id)}
        return view

    async def _drain(
        self, source: SourceTenant, sp_id: str, job_id: str, now: Clock, sleep: Sleep, record: Record
    ) -> None:
        bucket = bucket_for(job_id, self.scope.fast_lane.max_per_minute)
        while self.rule is not None and (change := self.queue.take()) is not None:
            while (wait := bucket.wait(now())) > 0:
                await sleep(wait)
            try:
                result = await provision_on_demand(source.client, sp_id, job_id, self.rule, change.user_id)
            except domain.Throttled as exc:
                bucket.throttled(now(), exc.retry_after or 1.0)
                self.queue.pending = {change.user_id: change, **self.queue.pending}  # first again
                continue
            except domain.GraphRequestFailed as exc:
                result = OnDemandResult("failed", str(exc))
            record(change, result, now() - change.seen_at)
