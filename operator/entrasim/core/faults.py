"""Injected faults: answer matching requests with an error status, a delay or a dropped connection."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from .errors import BadRequest

FAULT_STATUSES = {429, 500, 502, 503, 504}
MAX_DELAY_SECONDS = 300.0


@dataclass
class Fault:
    path: re.Pattern[str]  # searched in the request path, e.g. "/synchronization/jobs/[^/]+/start$"
    method: str | None = None
    status: int | None = None  # None with delay only: the request proceeds after the delay
    retry_after: int | None = None
    retry_after_date: bool = False  # Retry-After as an HTTP date (wall clock) instead of seconds
    delay: float = 0.0
    drop: bool = False
    times: int | None = None  # None = until cleared
    probability: float = 1.0
    hits: int = 0
    spec: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> Fault:
        allowed = {"path", "method", "status", "retryAfter", "retryAfterDate", "delay", "drop", "times", "probability"}
        unknown = set(spec) - allowed
        if unknown:
            raise BadRequest(f"Unknown fault properties: {sorted(unknown)}.")
        status = _optional_int(spec, "status", 0)
        if status is not None and status not in FAULT_STATUSES:
            raise BadRequest(f"Fault status must be one of {sorted(FAULT_STATUSES)}.")
        delay = _number(spec, "delay", 0.0, high=MAX_DELAY_SECONDS)
        drop = spec.get("drop", False)
        if not isinstance(drop, bool):
            raise BadRequest("Fault 'drop' must be true or false.")
        retry_after_date = spec.get("retryAfterDate", False)
        if not isinstance(retry_after_date, bool):
            raise BadRequest("Fault 'retryAfterDate' must be true or false.")
        if retry_after_date and spec.get("retryAfter") is None:
            raise BadRequest("Fault 'retryAfterDate' needs 'retryAfter'.")
        if status is None and not drop and not delay:
            raise BadRequest("A fault needs a status, a delay or drop=true.")
        probability = _number(spec, "probability", 1.0, high=1.0)
        if probability == 0:
            raise BadRequest("Fault probability must be in (0, 1].")
        return cls(
            path=_path(spec.get("path", "")),
            method=_method(spec.get("method")),
            status=status,
            retry_after=_optional_int(spec, "retryAfter", 0),
            retry_after_date=retry_after_date,
            delay=delay,
            drop=drop,
            times=_optional_int(spec, "times", 1),
            probability=probability,
            spec=spec,
        )

    def describe(self) -> dict[str, Any]:
        return {**self.spec, "hits": self.hits}

    def retry_after_header(self) -> dict[str, str]:
        """Retry-After in seconds, or as the HTTP date that many seconds from now (real time: the header
        speaks of the client's clock, not the simulated one)."""
        if self.retry_after is None:
            return {}
        if self.retry_after_date:
            moment = datetime.now(UTC) + timedelta(seconds=self.retry_after)
            return {"Retry-After": format_datetime(moment, usegmt=True)}
        return {"Retry-After": str(self.retry_after)}


class FaultTable:
    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self.faults.append(fault)

    def clear(self) -> None:
        self.faults.clear()

    def pick(self, method: str, path: str) -> Fault | None:
        """The first active fault that matches, counted as hit; exhausted faults are removed."""
        for fault in self.faults:
            if fault.method not in (None, method) or not fault.path.search(path):
                continue
            if fault.probability < 1.0 and random.random() >= fault.probability:
                continue
            fault.hits += 1
            if fault.times is not None and fault.hits >= fault.times:
                self.faults.remove(fault)
            return fault
        return None


def _path(value: object) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise BadRequest("Fault 'path' must be a regular expression (a string).")
    try:
        return re.compile(value)
    except re.error as exc:
        raise BadRequest(f"Invalid fault path regex: {exc}.") from None


def _method(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise BadRequest("Fault 'method' must be an HTTP method.")
    return value.upper() if value else None


def _optional_int(spec: dict[str, Any], key: str, low: int) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise BadRequest(f"Fault '{key}' must be an integer of at least {low}.")
    return value


def _number(spec: dict[str, Any], key: str, default: float, *, high: float) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise BadRequest(f"Fault '{key}' must be a number from 0 to {high:,g}.")
    return float(value)
