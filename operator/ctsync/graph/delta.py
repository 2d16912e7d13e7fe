"""Delta queries of the source tenant: one round follows @odata.nextLink to the page that carries
@odata.deltaLink, the link the next round starts from. A round is read whole or not at all: a failed page
raises, and the caller keeps its earlier link (a replay of changes already handled is harmless)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import errors as domain
from .client import GraphClient
from .errors import DeltaExpired


@dataclass(frozen=True)
class DeltaRound:
    items: list[dict[str, Any]]
    link: str  # the @odata.deltaLink the next round starts from
    full: bool  # a full read (no link yet, or Graph no longer honoured it): the scope as it is, not changes


def users_start(attributes: Iterable[str]) -> tuple[str, dict[str, str]]:
    """/users/delta tracking only the attributes the mappings read, and whether the user is enabled."""
    return "/users/delta", {"$select": ",".join(sorted({"id", "accountEnabled", *attributes}))}


def groups_start() -> tuple[str, dict[str, str]]:
    return "/groups/delta", {"$select": "id,members"}


async def delta_round(client: GraphClient, start: tuple[str, dict[str, str]], link: str | None) -> DeltaRound:
    """The next round from `link`, or a full round from `start` when there is none or Graph says it has
    expired (syncStateNotFound, or 410 Gone whose Location is the start again)."""
    if link is not None:
        try:
            return DeltaRound(*await _read(client, link), full=False)
        except DeltaExpired:
            pass
    path, query = start
    return DeltaRound(*await _read(client, client.url(path, query)), full=True)


async def _read(client: GraphClient, url: str) -> tuple[list[dict[str, Any]], str]:
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        try:
            doc = await client.request("GET", url) or {}
        except (domain.Throttled, DeltaExpired):
            raise
        except domain.CtsyncError as exc:
            if pages == 0:
                raise
            raise domain.ReadIncomplete(f"source tenant delta round after {pages} pages: {exc}") from exc
        pages += 1
        items.extend(doc.get("value", []))
        if "@odata.deltaLink" in doc:
            return items, doc["@odata.deltaLink"]
        url = doc.get("@odata.nextLink") or ""
        if not url:
            raise domain.ReadIncomplete("source tenant delta round: a page without nextLink or deltaLink")
