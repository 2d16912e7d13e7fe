"""Reading a Graph log incrementally, so that every entry is returned exactly once however polls overlap and
however often the operator restarts: a job's provisioning log (provisioning.py) and the target tenant's
directory audits of the sync service (target_audit.py).

Graph pages these logs by time, not by position. The reader keeps a watermark: the whole second of the
newest entry it returned, and the ids of the entries of that second it returned. The next read asks for
`activityDateTime ge <that second>`, which returns that second again (it may have gained entries since)
and skips the ids already returned. A second, not the exact timestamp, is the unit because Graph may
compare times more coarsely than it prints them. Each watermark is kept in the SyncScope's status, so a
restarted operator continues where the last one stopped."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from ..errors import CtsyncError

Json = Mapping[str, Any]
# A backlog (the first poll, a long outage) drains over several polls instead of one large read.
MAX_NEW_ENTRIES_PER_POLL = 5000

log = logging.getLogger(__name__)


class Stamped(Protocol):
    """A log entry as the reader needs it: its id and its activityDateTime."""

    @property
    def id(self) -> str: ...

    @property
    def time(self) -> datetime: ...


S = TypeVar("S", bound=Stamped)
# Pages of a log, oldest first, from a second (ISO 8601, inclusive; None: from the beginning) on.
Pages = Callable[[str | None], AsyncIterator[list[dict[str, Any]]]]


def parse_time(text: str) -> datetime:
    """An ISO 8601 time from Graph (seven fractional digits and a Z suffix allowed), as aware UTC."""
    moment = datetime.fromisoformat(text)
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class Watermark:
    """How far a log has been read: a whole second (ISO 8601, UTC) and the ids of the entries of that second
    already returned. An empty watermark reads the log from its beginning."""

    time: str | None = None
    ids: frozenset[str] = frozenset()

    @classmethod
    def from_status(cls, status: Json, field: str = "provisioningWatermark") -> Watermark:
        doc = status.get(field) or {}
        return cls(doc.get("time"), frozenset(doc.get("ids") or ()))

    def to_status(self) -> dict[str, Any]:
        return {"time": self.time, "ids": sorted(self.ids)}


def advance(watermark: Watermark, read: Iterable[S]) -> tuple[list[S], Watermark]:
    """The entries of `read` (a read from the watermark's second on, oldest first) not returned before, and
    the watermark after them."""
    floor = parse_time(watermark.time) if watermark.time else None
    known = set(watermark.ids)
    fresh: list[S] = []
    for entry in read:
        # Before the watermark's second: an earlier read returned it (Graph filtered more coarsely).
        if (floor is not None and _second(entry.time) < floor) or entry.id in known:
            continue
        known.add(entry.id)
        fresh.append(entry)
    if not fresh:
        return [], watermark
    latest = max(_second(e.time) for e in fresh)
    ids = {e.id for e in fresh if _second(e.time) == latest}
    if latest == floor:
        ids.update(watermark.ids)
    return fresh, Watermark(latest.strftime("%Y-%m-%dT%H:%M:%SZ"), frozenset(ids))


async def read_new(
    pages: Pages, parse: Callable[[Json], S], watermark: Watermark, what: str, limit: int = MAX_NEW_ENTRIES_PER_POLL
) -> tuple[list[S], Watermark]:
    """The log's entries not returned before, oldest first, and the watermark to keep for the next poll.
    A failed read returns nothing and the old watermark: entries are never counted from a partial read."""
    entries: list[S] = []
    mark = watermark
    try:
        async for page in pages(watermark.time):
            fresh, mark = advance(mark, (parse(doc) for doc in page))
            entries.extend(fresh)
            if len(entries) >= limit:
                break  # the watermark covers exactly what is returned; the next poll goes on from there
    except CtsyncError as error:
        log.warning("%s not read, retried at the next poll: %s", what, error.message)
        return [], watermark
    return entries, mark
