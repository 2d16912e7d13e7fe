"""Injected faults: answer matching requests with an error status, a delay or a dropped connection."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import BadRequest

FAULT_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Fault:
    path: re.Pattern[str]  # searched in the request path, e.g. "/synchronization/jobs/[^/]+/start$"
    method: str | None = None
    status: int | None = None  # None with delay only: the request proceeds after the delay
    retry_after: int | None = None
    delay: float = 0.0
    drop: bool = False
    times: int | None = None  # None = until cleared
    probability: float = 1.0
    hits: int = 0
    spec: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> Fault:
        allowed = {"path", "method", "status", "retryAfter", "delay", "drop", "times", "probability"}
        unknown = set(spec) - allowed
        if unknown:
            raise BadRequest(f"Unknown fault properties: {sorted(unknown)}.")
        try:
            path = re.compile(str(spec.get("path", "")))
        except re.error as exc:
            raise BadRequest(f"Invalid fault path regex: {exc}.") from None
        status = spec.get("status")
        if status is not None and status not in FAULT_STATUSES:
            raise BadRequest(f"Fault status must be one of {sorted(FAULT_STATUSES)}.")
        if status is None and not spec.get("drop") and not spec.get("delay"):
            raise BadRequest("A fault needs a status, a delay or drop=true.")
        probability = float(spec.get("probability", 1.0))
        if not 0 < probability <= 1:
            raise BadRequest("Fault probability must be in (0, 1].")
        return cls(
            path=path,
            method=(spec.get("method") or "").upper() or None,
            status=status,
            retry_after=spec.get("retryAfter"),
            delay=float(spec.get("delay", 0.0)),
            drop=bool(spec.get("drop", False)),
            times=spec.get("times"),
            probability=probability,
            spec=spec,
        )

    def describe(self) -> dict[str, Any]:
        return {**self.spec, "hits": self.hits}


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
