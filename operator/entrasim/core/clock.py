"""The simulated clock. Provisioning cycles run on it; tests move it forward instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SimClock:
    """Simulated time = start + scale * elapsed wall time + explicit advances."""

    def __init__(self, *, time_scale: float = 1.0, start: float | None = None) -> None:
        self.time_scale = time_scale
        self._start = time.time() if start is None else start
        self._wall_start = time.monotonic()
        self._advanced = 0.0

    def now(self) -> float:
        return self._start + (time.monotonic() - self._wall_start) * self.time_scale + self._advanced

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def iso_now(self) -> str:
        return iso(self.now())

    def set_time_scale(self, time_scale: float) -> None:
        """Changes the speed from now on without moving the current simulated time."""
        now = self.now()
        self._start, self._wall_start, self._advanced = now, time.monotonic(), 0.0
        self.time_scale = time_scale

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._advanced += seconds


def iso(timestamp: float) -> str:
    """Graph's timestamp format: ISO 8601 in UTC with a Z suffix, to the millisecond."""
    millis = int(timestamp * 1000)
    cached = _last_iso[0]
    if cached[0] == millis:  # bulk writes stamp many objects within one millisecond
        return cached[1]
    text = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"
    _last_iso[0] = (millis, text)  # one reference swap: safe to share between threads
    return text


_last_iso: list[tuple[int, str]] = [(-1, "")]


NEVER = "0001-01-01T00:00:00Z"
