"""Eventual consistency: a new object reaches every directory replica only after a delay.

Entra accepts a write on one replica and copies it to the others asynchronously; each read is served by
some nearby replica. So for a while after a create, a read may not find the object: a GET by id answers
404, a list leaves it out, and a write that references it fails. The writer's own reads usually land on
the replica that took its write and see it at once, but not always.

Model: an object created through Graph gets `visible_at` = now + a delay drawn per object (simulated
clock, seeded RNG; see `delay`). A Graph request reads "as" its caller: before `visible_at` the object is
hidden from every other app, and from the writing app (same app, same tenant) unless that request was
served by the writer's replica, which happens with the profile's `own_write_visibility`, drawn once per
request. Code running outside a Graph request (seeds, the provisioning engine's cycles, the control API)
sees everything. Backends ask `hidden(id)` / `visible_only(items)` on their read paths."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from .clock import SimClock
from .errors import BadRequest
from .profile import Profile

T = TypeVar("T")

# The median delay is this fraction of the profile's maximum, and 99 % of draws fall under the maximum.
MEDIAN_SHARE = 0.2
PRUNE_AT = 1024
_SIGMA = math.log(1 / MEDIAN_SHARE) / 2.326  # 2.326: the standard normal's 99th percentile


@dataclass(frozen=True)
class _Pending:
    visible_at: float  # simulated time
    writer: tuple[str, str]  # (tenant id, app id) of the caller that created it


class Replication:
    def __init__(self, clock: SimClock, profile: Callable[[], Profile], rng: random.Random) -> None:
        self._clock = clock
        self._profile = profile
        self._rng = rng
        self.pending: dict[str, _Pending] = {}  # object id -> not yet on every replica

    def delay(self) -> float:
        """Seconds until a new object is on every replica: lognormal, median a fifth of the maximum, capped."""
        longest = self._profile().replication_delay
        if longest <= 0:
            return 0.0
        return min(longest, self._rng.lognormvariate(math.log(longest * MEDIAN_SHARE), _SIGMA))

    def written(self, object_id: str) -> None:
        """Records a create by the current Graph caller; no-op outside a Graph request or with no delay."""
        reader = _reader.get()
        delay = self.delay() if reader is not None else 0.0
        if reader is None or delay <= 0:
            return
        now = self._clock.now()
        if len(self.pending) >= PRUNE_AT:  # entries otherwise go only when read: bound a write-only run
            self.pending = {i: p for i, p in self.pending.items() if p.visible_at > now}
        self.pending[object_id] = _Pending(now + delay, reader.caller)

    @contextmanager
    def reading_as(self, tenant_id: str, app_id: str) -> Iterator[None]:
        """Serves the reads inside the block to this caller, from a replica of its own (one per request)."""
        token = _reader.set(_Reader(self, (tenant_id, app_id)))
        try:
            yield
        finally:
            _reader.reset(token)

    def hides(self, object_id: str, reader: _Reader) -> bool:
        pending = self.pending.get(object_id)
        if pending is None:
            return False
        if pending.visible_at <= self._clock.now():
            del self.pending[object_id]
            return False
        if pending.writer != reader.caller:
            return True
        if reader.on_writer_replica is None:
            reader.on_writer_replica = self._rng.random() < self._profile().own_write_visibility
        return not reader.on_writer_replica

    def clear(self) -> None:
        self.pending.clear()


class _Reader:
    """One Graph request's view: its caller, and whether it landed on the replica its caller wrote to."""

    def __init__(self, replication: Replication, caller: tuple[str, str]) -> None:
        self.replication = replication
        self.caller = caller
        self.on_writer_replica: bool | None = None  # drawn at the first read that needs it

    def hides(self, object_id: str) -> bool:
        return self.replication.hides(object_id, self)


_reader: ContextVar[_Reader | None] = ContextVar("entrasim_reader", default=None)


def hidden(object_id: str) -> bool:
    """Whether the current Graph request's replica does not have this object yet."""
    reader = _reader.get()
    return reader is not None and reader.hides(object_id)


def visible_only(items: list[T]) -> list[T]:
    """The objects (mappings with an "id") the current request's replica has; the same list when all are."""
    reader = _reader.get()
    if reader is None or not reader.replication.pending:
        return items
    unseen = {object_id for object_id in list(reader.replication.pending) if reader.hides(object_id)}
    return [o for o in items if _id(o) not in unseen] if unseen else items


def unreplicated_reference() -> BadRequest:
    """What Graph answers when a member being added, or the group, is not on the serving replica yet."""
    return BadRequest("The source resource object or one of the objects being referenced don't exist.")


def _id(obj: Any) -> str:
    return str(obj["id"])
