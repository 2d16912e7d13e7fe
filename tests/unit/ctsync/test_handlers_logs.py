"""The operator's log as a person reads it: a stall once at WARNING, waiting for a dependency at INFO."""

from __future__ import annotations

import logging
from typing import Any

import kopf
import pytest

from ctsync.api import conditions
from ctsync.errors import DependencyNotReady, GraphUnavailable, PermissionMissing
from ctsync.handlers import bridge, logs
from ctsync.metrics import Metrics
from ctsync.reconcile.outcome import from_error


@pytest.fixture(autouse=True)
def no_events(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kopf, "event", lambda *_, **__: None)
    monkeypatch.setattr(bridge, "STALLS", logs.StallLog())  # what earlier tests logged is not news here


def body(generation: int) -> kopf.Body:
    metadata: Any = {"namespace": "tenants", "name": "pair", "generation": generation}
    return kopf.Body({"apiVersion": "ctsync.io/v1alpha1", "kind": "TenantPair", "metadata": metadata})


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "ctsync" and r.levelno == logging.WARNING]


def test_a_stall_is_logged_once_per_reason_and_generation(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    missing = from_error(PermissionMissing("source", ["Application.ReadWrite.All"]), 1)
    bridge.apply(missing, body(1), kopf.Patch())
    bridge.apply(missing, body(1), kopf.Patch())  # the drift timer's next pass: nothing new
    (line,) = warnings(caplog)
    assert line.startswith("TenantPair tenants/pair is Stalled at generation 1: PermissionMissing: source tenant")
    assert "Application.ReadWrite.All" in line

    bridge.apply(from_error(PermissionMissing("source", ["Application.ReadWrite.All"]), 2), body(2), kopf.Patch())
    assert len(warnings(caplog)) == 2  # a new generation that stalls again says so again
    with pytest.raises(kopf.TemporaryError):
        bridge.apply(from_error(GraphUnavailable("Graph answered 503"), 2), body(2), kopf.Patch())
    bridge.apply(from_error(PermissionMissing("source", ["Application.ReadWrite.All"]), 2), body(2), kopf.Patch())
    assert len(warnings(caplog)) == 3  # stalled again after it was not: news again
    bridge.forget(body(2), Metrics())


def kopf_line(message: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("kopf.objects", level, __file__, 1, message, None, None)


def test_waiting_for_a_dependency_is_info_and_other_retries_stay_errors() -> None:
    waiting = from_error(DependencyNotReady("TenantPair tenants/pair is not Ready yet"), 1)
    with pytest.raises(kopf.TemporaryError) as raised:
        bridge.apply(waiting, body(1), kopf.Patch())
    record = kopf_line(f"Handler 'syncscope.reconcile' failed temporarily: {raised.value}")
    assert logs.WaitingIsInfo().filter(record)
    assert (record.levelno, record.levelname) == (logging.INFO, "INFO")
    assert record.getMessage() == (
        f"Handler 'syncscope.reconcile' waits: {conditions.DEPENDENCY_NOT_READY}: "
        "TenantPair tenants/pair is not Ready yet"
    )
    replicating = kopf_line(
        f"Timer 'syncscope.drift' failed temporarily: {conditions.AWAITING_REPLICATION}: created, not visible yet"
    )
    assert logs.WaitingIsInfo().filter(replicating) and replicating.levelno == logging.INFO
    failing = kopf_line("Handler 'syncscope.reconcile' failed temporarily: GraphUnavailable: Graph answered 503")
    assert logs.WaitingIsInfo().filter(failing) and failing.levelno == logging.ERROR


def test_the_filter_is_installed_once_on_kopfs_object_logger() -> None:
    objects = logging.getLogger("kopf.objects")
    logs.install()
    logs.install()
    assert sum(isinstance(f, logs.WaitingIsInfo) for f in objects.filters) == 1
