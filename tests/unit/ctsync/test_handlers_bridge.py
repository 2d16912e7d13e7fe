"""The bridge from reconcile Outcomes to kopf: status patch, Events, retries, passes and finalizers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import kopf
import pytest

from ctsync.api import conditions
from ctsync.api.conditions import Condition, Health
from ctsync.errors import AuthenticationFailed, DependencyNotReady, InvalidSpec, Throttled
from ctsync.handlers import bridge
from ctsync.metrics import Metrics
from ctsync.planning.plan import Action, Plan
from ctsync.reconcile.converge import MAX_PASSES, converge
from ctsync.reconcile.outcome import Event, Outcome, from_error

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"
WRITE = Plan((Action("target", "target.partner", "create", "+ target partner"),))


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """kopf.event outside a running operator, recorded."""
    posted: list[tuple[str, str, str]] = []

    def record(body: kopf.Body, *, type: str, reason: str, message: str = "") -> None:
        posted.append((type, reason, message))

    monkeypatch.setattr(kopf, "event", record)
    return posted


def body(generation: int = 2, status: dict[str, Any] | None = None) -> kopf.Body:
    return kopf.Body(
        {
            "apiVersion": "ctsync.io/v1alpha1",
            "kind": "TenantPair",
            # kopf's RawMeta TypedDict does not list generation.
            "metadata": {"namespace": "tenants", "name": "pair", "uid": "u-1", "generation": generation},  # type: ignore[typeddict-unknown-key]
            "spec": {},
            "status": status or {},
        }
    )


def ready(generation: int = 2, **extra: Any) -> Outcome:
    return Outcome(Health.READY, conditions.RECONCILED, "both tenants match the spec", generation, **extra)


def by_type(patch: kopf.Patch) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in patch.status["conditions"]}


def sample(metrics: Metrics, metric: str, /, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(metric, labels)


def test_ready_outcome_writes_generation_conditions_fields_and_events(events: list[Any]) -> None:
    patch = kopf.Patch()
    outcome = ready(
        conditions=[Condition(conditions.DRIFTED, "False", conditions.NO_DRIFT, "no drift", 2)],
        status={"targetPartnerCreated": True, "quarantine": None},
        events=[Event("Normal", "Created", "+ target partner")],
    )
    bridge.apply(outcome, body(), patch, now=T1)
    assert patch.status["observedGeneration"] == 2
    assert patch.status["targetPartnerCreated"] is True
    assert patch.status["quarantine"] is None  # a merge patch's null removes the field
    found = by_type(patch)
    assert set(found) == {"Ready", "Reconciling", "Stalled", "Drifted"}
    assert found["Ready"]["status"] == "True" and found["Ready"]["lastTransitionTime"] == T1
    assert events == [("Normal", "Created", "+ target partner")]


def test_conditions_keep_their_transition_time_unless_their_status_flips(events: list[Any]) -> None:
    before = kopf.Patch()
    bridge.apply(ready(), body(), before, now=T0)
    patch = kopf.Patch()
    waiting = from_error(DependencyNotReady("Secret tenants/creds does not exist"), 2)
    with pytest.raises(kopf.TemporaryError):
        bridge.apply(waiting, body(status={"conditions": before.status["conditions"]}), patch, now=T1)
    found = by_type(patch)
    assert found["Ready"]["status"] == "False" and found["Ready"]["lastTransitionTime"] == T1
    assert found["Stalled"]["status"] == "False" and found["Stalled"]["lastTransitionTime"] == T0


def test_a_retry_raises_temporary_error_after_the_status_is_in_the_patch(events: list[Any]) -> None:
    patch = kopf.Patch()
    throttled = from_error(Throttled(90), 2)
    with pytest.raises(kopf.TemporaryError) as raised:
        bridge.apply(throttled, body(), patch)
    assert raised.value.delay == 90
    assert by_type(patch)["Reconciling"]["reason"] == conditions.THROTTLED
    assert "observedGeneration" not in patch.status  # a pass that failed midway observed nothing
    assert events == [("Warning", conditions.THROTTLED, throttled.message)]


@pytest.mark.parametrize(
    ("error", "delay"),
    [(Throttled(90), 90), (DependencyNotReady("the pair is not Ready"), 5)],
    ids=["graph-retry-after-stands", "own-wait-cut-to-the-drift-interval"],
)
def test_a_retry_waits_no_longer_than_the_drift_interval_unless_graph_said_so(
    error: Any, delay: float, events: list[Any]
) -> None:
    with pytest.raises(kopf.TemporaryError) as raised:
        bridge.apply(from_error(error, 2), body(), kopf.Patch(), longest_wait=5)
    assert raised.value.delay == delay


def test_a_stalled_outcome_is_written_without_a_retry(events: list[Any]) -> None:
    patch = kopf.Patch()
    bridge.apply(from_error(InvalidSpec("spec.target.tenantId", "is the nil GUID"), 3), body(3), patch)
    assert patch.status["observedGeneration"] == 3
    assert by_type(patch)["Stalled"]["status"] == "True"
    assert events[0][:2] == ("Warning", conditions.INVALID_SPEC)


async def test_passes_repeat_while_one_writes_with_the_ids_of_the_last_but_not_its_generation(
    events: list[Any],
) -> None:
    seen: list[dict[str, Any]] = []

    async def one_pass(status: Mapping[str, Any]) -> Outcome:
        seen.append(dict(status))
        first = len(seen) == 1
        return ready(
            plan=WRITE if first else Plan(),
            status={"servicePrincipalId": "sp-1"} if first else {"jobId": "job-1"},
            events=[Event("Normal", "Created", f"pass {len(seen)}")],
        )

    converged = await converge(one_pass, {"observedGeneration": 1}, 2)
    outcome = converged.outcome
    assert len(seen) == 2
    assert seen[1] == {"observedGeneration": 1, "servicePrincipalId": "sp-1"}
    assert outcome.status == {"servicePrincipalId": "sp-1", "jobId": "job-1"}
    assert [e.message for e in outcome.events] == ["pass 1", "pass 2"]
    assert converged.applied == WRITE  # what the passes wrote, for `ctsync apply` to show


async def test_passes_stop_at_the_limit_or_when_nothing_was_written(events: list[Any]) -> None:
    calls = 0

    async def always_writes(_: Mapping[str, Any]) -> Outcome:
        nonlocal calls
        calls += 1
        return ready(plan=WRITE)

    await converge(always_writes, {}, 2)
    assert calls == MAX_PASSES

    calls = 0

    async def observes(_: Mapping[str, Any]) -> Outcome:
        nonlocal calls
        calls += 1
        return Outcome(Health.READY, conditions.OBSERVED, "1 change pending", 2, plan=WRITE)

    await converge(observes, {}, 2)
    assert calls == 1  # Observe reports a plan it never applies: another pass would find the same


async def test_drift_corrected_in_any_pass_is_reported(events: list[Any]) -> None:
    passes = iter(
        [
            ready(plan=WRITE, drift=["~ isSyncAllowed"], drift_corrected=True),
            ready(plan=Plan()),
        ]
    )

    async def one_pass(_: Mapping[str, Any]) -> Outcome:
        return next(passes)

    outcome = (await converge(one_pass, {}, 2)).outcome
    assert outcome.drift == ["~ isSyncAllowed"] and outcome.drift_corrected


async def test_a_body_that_does_not_parse_becomes_a_stalled_outcome(events: list[Any]) -> None:
    async def one_pass(_: Mapping[str, Any]) -> Outcome:
        raise InvalidSpec("spec.source", "must be an object")

    patch = kopf.Patch()
    await bridge.settle(body(4), patch, one_pass, Metrics())
    assert patch.status["observedGeneration"] == 4
    assert by_type(patch)["Stalled"]["reason"] == conditions.INVALID_SPEC


async def test_settle_plans_from_the_status_it_is_given_not_the_one_its_event_carried(events: list[Any]) -> None:
    """A pass that waited for the object's lock must see the create the pass before it recorded, or it
    creates the same object again."""
    seen: list[Mapping[str, Any]] = []

    async def one_pass(status: Mapping[str, Any]) -> Outcome:
        seen.append(dict(status))
        return Outcome(Health.READY, conditions.RECONCILED, "ok", 2)

    recorded = {"servicePrincipalId": "sp-1", "pendingCreates": [{"kind": "configuration", "id": "sp-1"}]}
    await bridge.settle(body(status={"observedGeneration": 1}), kopf.Patch(), one_pass, Metrics(), status=recorded)
    assert seen[0]["servicePrincipalId"] == "sp-1" and seen[0]["pendingCreates"]


async def test_settle_records_the_reconcile_then_lets_finish_amend_the_outcome(events: list[Any]) -> None:
    metrics = Metrics()

    async def one_pass(_: Mapping[str, Any]) -> Outcome:
        return from_error(DependencyNotReady("TenantPair tenants/pair is not Ready yet"), 2)

    async def finish(outcome: Outcome) -> Outcome:
        return dataclasses.replace(outcome, retry_after=None, status={"jobId": "job-1"})

    patch = kopf.Patch()
    await bridge.settle(body(), patch, one_pass, metrics, finish)  # no retry: finish dropped it
    assert patch.status["jobId"] == "job-1"
    assert sample(metrics, "ctsync_reconcile_total", kind="TenantPair", result="requeue") == 1
    assert sample(metrics, "ctsync_reconcile_duration_seconds_count", kind="TenantPair") == 1
    ready = {"kind": "TenantPair", "namespace": "tenants", "name": "pair", "type": "Ready"}
    assert sample(metrics, "ctsync_resource_condition", status="False", **ready) == 1


async def test_settle_records_the_users_an_audit_found_in_scope(
    events: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    metrics = Metrics()
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(metrics, "record_scope_members", lambda *args: calls.append(args))

    async def audited(_: Mapping[str, Any]) -> Outcome:
        return ready(scope_members=frozenset({"u-1"}))

    async def not_audited(_: Mapping[str, Any]) -> Outcome:
        return ready()

    await bridge.settle(body(), kopf.Patch(), audited, metrics)
    await bridge.settle(body(), kopf.Patch(), not_audited, metrics)
    assert calls == [("tenants", "pair", frozenset({"u-1"}))]


async def test_a_failed_finalizer_keeps_the_resource_even_when_the_error_stalls(events: list[Any]) -> None:
    async def fails() -> list[Event]:
        raise AuthenticationFailed("target", "invalid client secret")

    patch = kopf.Patch()
    metrics = Metrics()
    metrics.record_outcome("TenantPair", "tenants", "pair", ready(), 1.0)
    with pytest.raises(kopf.TemporaryError) as raised:
        await bridge.finalize(body(), patch, fails, metrics)
    assert raised.value.delay == bridge.RETRY_DEFAULT_SECONDS
    assert by_type(patch)["Stalled"]["reason"] == conditions.AUTHENTICATION_FAILED
    assert sample(metrics, "ctsync_drift_detected", kind="TenantPair", namespace="tenants", name="pair") == 0


async def test_a_finalizer_posts_its_events(events: list[Any]) -> None:
    async def deletes() -> list[Event]:
        return [Event("Normal", "Deleted", "- target partner")]

    metrics = Metrics()
    metrics.record_outcome("TenantPair", "tenants", "pair", ready(), 1.0)
    await bridge.finalize(body(), kopf.Patch(), deletes, metrics)
    assert events == [("Normal", "Deleted", "- target partner")]
    # the resource's series go with it
    assert sample(metrics, "ctsync_drift_detected", kind="TenantPair", namespace="tenants", name="pair") is None


def test_a_waiting_finalizer_says_why_and_retries(events: list[Any]) -> None:
    patch = kopf.Patch()
    with pytest.raises(kopf.TemporaryError) as raised:
        bridge.wait(body(), patch, "waiting for SyncScope(s) s1 to be deleted first", 10)
    assert raised.value.delay == 10
    assert by_type(patch)["Reconciling"]["reason"] == conditions.DELETING
