"""How the operator's log reads for a person: a resource that stalls says so once, at WARNING, with its reason
and message (kopf itself logs that the handler "succeeded", since a Stalled outcome is not a handler
failure); waiting for another resource is INFO, not the ERROR kopf logs for every retried handler."""

from __future__ import annotations

import logging
from typing import Final

from ..api import conditions
from ..api.conditions import Health
from ..reconcile.outcome import Outcome

log = logging.getLogger("ctsync")

Resource = tuple[str, str, str]  # kind, namespace, name
# kopf's lines for a handler that raised kopf.TemporaryError; the bridge words the error "<reason>: <message>".
# Waiting for another resource, or for Graph to show what ctsync just created, is expected, not a failure.
WAITING: Final = tuple(
    f"failed temporarily: {reason}: " for reason in (conditions.DEPENDENCY_NOT_READY, conditions.AWAITING_REPLICATION)
)


class StallLog:
    """Logs a Stalled outcome once per resource, reason and generation. In memory: a restarted operator logs
    each Stalled resource once more."""

    def __init__(self) -> None:
        self._logged: dict[Resource, tuple[str, int]] = {}

    def record(self, resource: Resource, outcome: Outcome) -> None:
        if outcome.health is not Health.STALLED:
            self._logged.pop(resource, None)  # a later stall is news again
            return
        seen = (outcome.reason, outcome.generation)
        if self._logged.get(resource) == seen:
            return
        self._logged[resource] = seen
        kind, namespace, name = resource
        log.warning(
            "%s %s/%s is Stalled at generation %d: %s: %s",
            kind,
            namespace,
            name,
            outcome.generation,
            outcome.reason,
            outcome.message,
        )

    def forget(self, resource: Resource) -> None:
        self._logged.pop(resource, None)


class WaitingIsInfo(logging.Filter):
    """On kopf's object logger: a handler retried because a dependency is not ready, or a create is not visible
    in Graph yet, is INFO, worded as such."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.levelno == logging.ERROR and any(line in message for line in WAITING):
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.msg, record.args = message.replace("failed temporarily", "waits", 1), None
        return True


def install() -> None:
    """Once per process, before kopf runs."""
    objects = logging.getLogger("kopf.objects")
    if not any(isinstance(f, WaitingIsInfo) for f in objects.filters):
        objects.addFilter(WaitingIsInfo())
