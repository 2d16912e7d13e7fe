"""A bounded log of the requests the emulator answered, for tests and the demo."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

MAX_ENTRIES = 50_000


@dataclass
class LoggedRequest:
    seq: int
    time: str
    method: str
    path: str
    route: str | None
    status: int
    tenant: str | None
    app_id: str | None
    request_id: str


class RequestLog:
    def __init__(self) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=MAX_ENTRIES)
        self._seq = 0

    def add(self, **fields: Any) -> None:
        self._seq += 1
        self._entries.append(LoggedRequest(seq=self._seq, **fields))

    def since(self, seq: int) -> list[dict[str, Any]]:
        return [asdict(e) for e in self._entries if e.seq > seq]

    def clear(self) -> None:
        self._entries.clear()
