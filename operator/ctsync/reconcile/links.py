"""Which target user the provisioning service made of which source user, as the service itself records it.

The service links the two by a hidden alternative security id that Graph does not expose, and the target
user's name follows whatever the mappings make of it (a mapping that changes userPrincipalName renames
every user). What Graph does expose is the provisioning log: every create, update and match it writes
names the source user's and the target user's object ids, which never change. So a target user is linked
to a source user by the latest successful log entry that names both; the log reaches back as far as the
tenant keeps it (30 days), and a user the service has not touched since is recognised by its external name.

The operator keeps each job's links between audits (`LinkCache`) with a watermark of the log, so an audit
reads only what the log gained since the last one, not the whole log again: at 100k users that was about
200 pages per audit. The ids are kept compact (api/object_ids.py): the cache holds every synced user of
every job for as long as the operator runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..api.object_ids import CompactId, IdMap, compact, expand
from ..graph.cts import SourceTenant
from .log_reader import Watermark, advance, parse_time

Json = Mapping[str, Any]
LINKING_ACTIONS = frozenset({"create", "update", "disable", "other"})  # "other": a match, or no change


@dataclass(frozen=True)
class _Entry:
    id: str
    time: datetime
    link: tuple[str, str] | None

    @classmethod
    def from_graph(cls, doc: Json) -> _Entry:
        return cls(str(doc["id"]), parse_time(doc["activityDateTime"]), link_of(doc))


class Links(Mapping[str, str]):
    """Target user id -> source user id, read and written as lower-case text. The links of the log read so
    far are held in a compact table; those the last reads added, in a dict, until they are a fair share of
    the table and it is built again with them."""

    def __init__(self) -> None:
        self._table = IdMap({})
        self._recent: dict[CompactId, CompactId] = {}

    def link(self, target_id: str, source_id: str) -> None:
        self._recent[compact(target_id)] = compact(source_id)

    def settle(self) -> None:
        """Builds the table again with the recent links once they are an eighth of it (a later link wins)."""
        if len(self._recent) > len(self._table) // 8:
            self._table = IdMap({**dict(self._table.items()), **self._recent})
            self._recent = {}

    def _source(self, target_id: str) -> CompactId | None:
        target = compact(target_id)
        source = self._recent.get(target)
        return source if source is not None else self._table.get(target)

    def __getitem__(self, target_id: str) -> str:
        source = self._source(target_id)
        if source is None:
            raise KeyError(target_id)
        return expand(source)

    def __contains__(self, target_id: object) -> bool:
        return isinstance(target_id, str) and self._source(target_id) is not None

    def __iter__(self) -> Iterator[str]:
        older = (target for target, _ in self._table.items() if target not in self._recent)
        return (expand(target) for target in (*older, *self._recent))

    def __len__(self) -> int:
        return len(self._table) + sum(1 for target in self._recent if self._table.get(target) is None)


@dataclass
class _JobLinks:
    links: Links = field(default_factory=Links)  # from a prefix of the log: correct, maybe not all
    read_to: Watermark = field(default_factory=Watermark)


class LinkCache:
    """Each job's links and how far its log was read, in memory: a restarted operator reads each log once."""

    def __init__(self) -> None:
        self._jobs: dict[str, _JobLinks] = {}

    async def links(self, source: SourceTenant, job_id: str) -> Links:
        """Target user id -> source user id (both lower-case), the log read on from where the last call
        stopped. A failed read raises: counting from part of the log would call synced users missing."""
        known = self._jobs.setdefault(job_id, _JobLinks())
        mark = known.read_to
        async for page in source.provisioning_events(job_id, mark.time):
            fresh, mark = advance(mark, (_Entry.from_graph(doc) for doc in page))
            for entry in fresh:
                if entry.link is not None:
                    known.links.link(*entry.link)  # oldest first: a later entry wins
        known.read_to = mark  # only once the whole read succeeded; a retry re-reads what it added
        known.links.settle()
        return known.links

    def forget(self, job_id: str | None) -> None:
        self._jobs.pop(job_id or "", None)


def link_of(entry: Json) -> tuple[str, str] | None:
    """(target id, source id) of a log entry that shows the service writing or matching a target user."""
    if str((entry.get("provisioningStatusInfo") or {}).get("status") or "").lower() != "success":
        return None
    if str(entry.get("provisioningAction") or "").lower() not in LINKING_ACTIONS:
        return None
    source_id = str((entry.get("sourceIdentity") or {}).get("id") or "").lower()
    target_id = str((entry.get("targetIdentity") or {}).get("id") or "").lower()
    return (target_id, source_id) if source_id and target_id else None
