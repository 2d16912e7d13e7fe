"""What makes a SyncScope reconcile or audit: the scope audit's schedule, its TenantPair's Ready mark and the
nudge annotations other kinds set on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf
import pytest

from ctsync.handlers import indexes, runtime, syncscope
from ctsync.handlers.runtime import Audits

SCOPE = ("tenants", "scope")
T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"


def test_an_audit_is_due_at_the_first_pass_for_a_new_spec_and_once_the_interval_has_passed() -> None:
    now = [100.0]
    audits = Audits(900, clock=lambda: now[0])
    assert audits.due(SCOPE, 1)
    audits.done(SCOPE, 1)
    now[0] += 899
    assert not audits.due(SCOPE, 1)
    assert audits.due(SCOPE, 2)  # the spec changed
    now[0] += 1
    assert audits.due(SCOPE, 1)
    audits.done(SCOPE, 1)
    audits.forget(SCOPE)  # deleted: a SyncScope created again under the name audits at once
    assert audits.due(SCOPE, 1)


def pair(generation: int = 2, observed: int = 2, ready: str = "True", since: str = T0) -> kopf.Body:
    condition = {"type": "Ready", "status": ready, "lastTransitionTime": since, "observedGeneration": observed}
    return kopf.Body(
        {
            "metadata": {"namespace": "tenants", "name": "pair", "generation": generation},  # type: ignore[typeddict-unknown-key]
            "status": {"observedGeneration": observed, "conditions": [condition]},
        }
    )


def test_a_ready_mark_names_each_ready_period_of_each_generation() -> None:
    assert indexes.ready_mark(pair()) == f"2/{T0}"
    assert indexes.ready_mark(pair(since=T1)) == f"2/{T1}"  # Ready again after a failure
    assert indexes.ready_mark(pair(generation=3)) is None  # a new spec not reconciled yet
    assert indexes.ready_mark(pair(ready="False")) is None
    assert indexes.index_tenant_pair(pair())[("tenants", "pair")].ready


def scope_body(annotations: Mapping[str, str]) -> kopf.Body:
    return kopf.Body(
        {
            "metadata": {"namespace": "tenants", "name": "scope", "annotations": dict(annotations)},
            "spec": {"tenantPairRef": {"name": "pair"}},
        }
    )


class Annotator:
    """The Runtime's annotate(), recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, dict[str, str]]] = []

    async def annotate(self, plural: str, namespace: str, name: str, annotations: Mapping[str, str]) -> bool:
        self.calls.append((plural, namespace, name, dict(annotations)))
        return True


@pytest.fixture
def annotator(monkeypatch: pytest.MonkeyPatch) -> Annotator:
    stub = Annotator()
    monkeypatch.setattr(runtime, "_current", stub)  # what runtime.current() returns
    return stub


def scope_index(annotations: Mapping[str, str]) -> dict[Any, list[indexes.ScopeEntry]]:
    """The sync_scopes index kopf would hold for one SyncScope with these annotations."""
    return {key: [entry] for key, entry in indexes.index_sync_scope(scope_body(annotations)).items()}


async def test_a_nudge_annotates_a_sync_scope_once_per_value(annotator: Annotator) -> None:
    mark = indexes.ANNOTATION_PAIR_READY
    foreign = {"kopf.ctsync.io/last-handled-configuration": "{}", "example.com/owner": "team-a"}
    index = scope_index({mark: f"2/{T0}", **foreign})
    assert index[SCOPE][0].annotations == {mark: f"2/{T0}"}  # only ctsync's own are kept

    assert not await syncscope.nudge(index, *SCOPE, mark, f"2/{T0}")  # seen already
    assert not await syncscope.nudge({}, *SCOPE, mark, f"2/{T1}")  # not created yet: nothing to nudge
    assert await syncscope.nudge(index, *SCOPE, mark, f"2/{T1}")
    assert annotator.calls == [("syncscopes", *SCOPE, {mark: f"2/{T1}"})]


def mapping_index(annotations: Mapping[str, str]) -> dict[Any, list[indexes.MappingEntry]]:
    """The mappings_by_scope index kopf would hold for one AttributeMapping of SCOPE."""
    mapping = kopf.Body(
        {
            "metadata": {"namespace": "tenants", "name": "titles", "annotations": dict(annotations)},
            "spec": {"syncScopeRef": {"name": "scope"}, "mappings": [{"target": "jobTitle", "source": "[jobTitle]"}]},
        }
    )
    found = indexes.index_attribute_mapping(mapping) or {}
    return {key: [entry] for key, entry in found.items()}


async def test_a_sync_scope_turning_ready_nudges_its_mappings_once(annotator: Annotator) -> None:
    mark = indexes.ANNOTATION_SCOPE_READY
    ready_scope = kopf.Body({**pair(), "metadata": {"namespace": "tenants", "name": "scope", "generation": 2}})  # type: ignore[typeddict-unknown-key]

    await syncscope.nudge_mappings(ready_scope, mapping_index({}))
    assert annotator.calls == [("attributemappings", "tenants", "titles", {mark: f"2/{T0}"})]
    await syncscope.nudge_mappings(ready_scope, mapping_index({mark: f"2/{T0}"}))  # seen this Ready already
    waiting_scope = kopf.Body(
        {**pair(ready="False"), "metadata": {"namespace": "tenants", "name": "scope", "generation": 2}}
    )  # type: ignore[typeddict-unknown-key]
    await syncscope.nudge_mappings(waiting_scope, mapping_index({}))  # not Ready: the mapping keeps waiting
    assert len(annotator.calls) == 1
