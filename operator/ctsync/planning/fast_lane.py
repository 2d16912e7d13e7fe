"""The fast lane's decisions, pure: which source changes are worth a provisionOnDemand, the queue that
coalesces them and notices a burst, and the token bucket that keeps a job under the service's limit.
Time is passed in; nothing here reads a clock or calls Graph.

A change is seen in a delta round of the source tenant: groups (the assigned groups' `members@delta`) and
users (the attributes the mappings read). Provisioned on demand: a user entering scope, a change of a mapped
attribute, a user re-enabled. Left to the provisioning cycle: a user leaving scope and a user disabled.
Microsoft documents that provisioning on demand does not handle users disabled or deleted in the source,
and what it does with an unassigned user in cross-tenant sync is not documented; the cycle does both
under the deletion threshold and the scope-shrink gate, so the fast lane never makes removals faster or
less guarded than the cycle.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ..api.syncscope import ON_DEMAND_MAX_PER_MINUTE as MAX_PER_MINUTE
from ..api.syncscope import ON_DEMAND_REQUESTS, ON_DEMAND_WINDOW_SECONDS
from ..api.userschema import GRAPH_PROPERTY
from .schema import source_refs, user_object_mappings

BURST_WINDOW_SECONDS: Final = 60.0
USER_TYPE: Final = "#microsoft.graph.user"

Reason = Literal["EnteredScope", "AttributeChanged", "Reenabled", "Disabled", "LeftScope"]
ON_DEMAND_REASONS: Final[frozenset[str]] = frozenset({"EnteredScope", "AttributeChanged", "Reenabled"})


def followed_properties(schema: Mapping[str, Any]) -> frozenset[str]:
    """The Graph user properties whose change the job carries to the target: those its User mappings read
    and those its scoping filters compare (a change there can bring a user into scope). Attributes Graph
    does not expose on the user are left to the cycle."""
    names: set[str] = set()
    for mapping in user_object_mappings(dict(schema)):
        for attribute in mapping.get("attributeMappings") or ():
            names |= source_refs(attribute.get("source"))
        for group in (mapping.get("scope") or {}).get("groups") or ():
            names |= {str(c.get("sourceOperandName")) for c in group.get("clauses") or ()}
    return frozenset(GRAPH_PROPERTY[name] for name in names if name in GRAPH_PROPERTY)


@dataclass(frozen=True)
class Change:
    user_id: str
    reason: Reason
    seen_at: float  # when the delta round that carried it was read

    @property
    def on_demand(self) -> bool:
        return self.reason in ON_DEMAND_REASONS


@dataclass
class ScopeView:
    """What the follower knows of the scope between rounds: the assignments, the direct members of the
    assigned groups, and the last seen values of the attributes it follows."""

    groups: frozenset[str]
    users: frozenset[str] = frozenset()
    sync_all: bool = False
    members: dict[str, set[str]] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def in_scope(self, user_id: str) -> bool:
        return self.sync_all or user_id in self.users or any(user_id in m for m in self.members.values())

    def changes(
        self, groups: Iterable[Mapping[str, Any]], users: Iterable[Mapping[str, Any]], now: float
    ) -> list[Change]:
        """The changes one round carries, groups first (a new hire is usually created, then added), folding
        the round into the view. Graph may replay an item: a replay changes nothing and yields nothing."""
        found = self._membership(groups, now)
        found += self._users(users, now)
        return found

    def baseline(self, groups: Iterable[Mapping[str, Any]], users: Iterable[Mapping[str, Any]]) -> None:
        """A full round (the first, or after the service reset delta): what is there now, not changes."""
        self.changes(groups, users, 0.0)

    def _membership(self, groups: Iterable[Mapping[str, Any]], now: float) -> list[Change]:
        found: list[Change] = []
        for group in groups:
            if group.get("id") not in self.groups:
                continue
            members = self.members.setdefault(group["id"], set())
            for member in group.get("members@delta") or ():
                if member.get("@odata.type", USER_TYPE) != USER_TYPE:
                    continue
                user_id = member["id"]
                before = self.in_scope(user_id)
                if "@removed" in member:
                    members.discard(user_id)
                else:
                    members.add(user_id)
                after = self.in_scope(user_id)
                if before != after:
                    found.append(Change(user_id, "EnteredScope" if after else "LeftScope", now))
        return found

    def _users(self, users: Iterable[Mapping[str, Any]], now: float) -> list[Change]:
        found: list[Change] = []
        for user in users:
            user_id = user["id"]
            if "@removed" in user:
                if self.attributes.pop(user_id, None) is not None and self.in_scope(user_id):
                    found.append(Change(user_id, "LeftScope", now))
                continue
            seen = {k: v for k, v in user.items() if k != "id" and not k.startswith("@")}
            before = self.attributes.get(user_id)
            self.attributes[user_id] = {**(before or {}), **seen}
            reason = _user_change(before, seen)
            if reason is not None and self.in_scope(user_id):
                found.append(Change(user_id, reason, now))
        return found


def _user_change(before: Mapping[str, Any] | None, seen: Mapping[str, Any]) -> Reason | None:
    """Graph lists a user in a round only when a selected property changed; with the earlier values at
    hand, a replay (nothing different) is not a change."""
    if before is not None and all(before.get(k) == v for k, v in seen.items()):
        return None
    if "accountEnabled" in seen and (before is None or before.get("accountEnabled") != seen["accountEnabled"]):
        if seen["accountEnabled"] is False:
            return "Disabled"
        if before is not None:
            return "Reenabled"
    return "AttributeChanged"


FastLaneState = Literal["Active", "Bulk"]


class OnDemandQueue:
    """The users waiting for provisionOnDemand, one entry per user (a user changed twice is provisioned
    once, timed from the first change). More than `burst` users within a minute, or more waiting than
    `burst`, is a bulk change: the queue hands everything to the cycle and stays in Bulk until a whole
    minute stays at or under the burst size."""

    def __init__(self, burst: int) -> None:
        self.burst = burst
        self.pending: dict[str, Change] = {}
        self._recent: deque[tuple[float, str]] = deque()
        self.bulk_users: set[str] = set()

    @property
    def state(self) -> FastLaneState:
        return "Bulk" if self.bulk_users else "Active"

    def offer(self, changes: Iterable[Change], now: float) -> None:
        for change in changes:
            if not change.on_demand:
                self.pending.pop(change.user_id, None)  # the cycle carries it; a queued update is moot
                continue
            self._recent.append((now, change.user_id))
            if self.bulk_users:
                self.bulk_users.add(change.user_id)
            elif change.user_id not in self.pending:
                self.pending[change.user_id] = change
        self._expire(now)
        if not self.bulk_users and (len(self._distinct_recent()) > self.burst or len(self.pending) > self.burst):
            self.bulk_users = self._distinct_recent() | set(self.pending)
            self.pending.clear()

    def settle(self, now: float) -> None:
        """Leaves Bulk once the last minute's changes fit the burst size again."""
        self._expire(now)
        if self.bulk_users and len(self._distinct_recent()) <= self.burst:
            self.bulk_users = set()

    def take(self) -> Change | None:
        if self.bulk_users or not self.pending:
            return None
        user_id = next(iter(self.pending))
        return self.pending.pop(user_id)

    def _expire(self, now: float) -> None:
        while self._recent and now - self._recent[0][0] >= BURST_WINDOW_SECONDS:
            self._recent.popleft()

    def _distinct_recent(self) -> set[str]:
        return {user_id for _, user_id in self._recent}


@dataclass
class TokenBucket:
    """Requests of one job, shared by every caller of it. Any window of 10 s admits at most the capacity
    plus what refills in 10 s, so capacity + 10 * rate stays within the documented 5 (a sliding window, as
    the service counts). A 429 empties the bucket until its Retry-After has passed."""

    rate: float  # requests per second
    capacity: float
    tokens: float
    updated: float | None = None

    @classmethod
    def per_minute(cls, max_per_minute: int) -> TokenBucket:
        rate = min(max_per_minute, MAX_PER_MINUTE) / 60.0
        capacity = max(1.0, ON_DEMAND_REQUESTS - ON_DEMAND_WINDOW_SECONDS * rate)
        return cls(rate, capacity, capacity)

    def _refill(self, now: float) -> None:
        if self.updated is not None and now > self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now if self.updated is None else max(self.updated, now)

    def wait(self, now: float) -> float:
        """Seconds until a request may go; 0 takes the token now."""
        if self.updated is not None and now < self.updated:
            return self.updated - now + max(0.0, 1.0 - self.tokens) / self.rate
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def throttled(self, now: float, retry_after: float) -> None:
        """The service answered 429: nothing goes before Retry-After, and then one at a time."""
        self.tokens = 1.0
        self.updated = max(self.updated or now, now + retry_after)
