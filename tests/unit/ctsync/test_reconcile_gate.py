"""reconcile.gate: whether a SyncScope may write, and why not."""

from __future__ import annotations

from typing import Any

import pytest
from ctsync_samples import ATTRIBUTE_MAPPING, SYNC_SCOPE, TENANT_PAIR, body

from ctsync.api import conditions
from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.errors import InvalidSpec
from ctsync.planning.plan import Action, Plan
from ctsync.reconcile.gate import may_write

SCOPE = SyncScope.from_body(SYNC_SCOPE)
PAIR = TenantPair.from_body(TENANT_PAIR)
PLAN = Plan(
    (
        Action("source", "source.configuration", "create", "+ configuration"),
        Action("source", "source.schema", "update", "~ schema"),
    )
)


def test_a_ready_managed_pair_and_scope_may_write_everything() -> None:
    decision = may_write(SCOPE, PAIR, True)
    assert decision.writes_all and not decision.waiting and decision.reason == conditions.MANAGED
    assert decision.split(PLAN) == (PLAN, Plan())
    assert decision.condition(7).status == "True"


@pytest.mark.parametrize(("pair", "ready"), [(None, True), (PAIR, False)], ids=["no-pair", "pair-not-ready"])
def test_without_a_ready_pair_the_scope_waits(pair: TenantPair | None, ready: bool) -> None:
    decision = may_write(SCOPE, pair, ready)
    assert decision.waiting and decision.reason == conditions.DEPENDENCY_NOT_READY
    assert "TenantPair tenants/contoso-to-fabrikam is not Ready" in decision.message


@pytest.mark.parametrize(
    ("pair_spec", "scope_spec", "reason", "says"),
    [
        ({"managementPolicy": "Observe"}, {}, conditions.PAIR_OBSERVED, "managementPolicy Observe"),
        ({"suspend": True}, {}, conditions.PAIR_SUSPENDED, "is suspended"),
        ({}, {"managementPolicy": "Observe"}, conditions.OBSERVED, "managementPolicy Observe"),
        # The pair's hold is named first: changing the scope alone would not release it.
        ({"suspend": True}, {"managementPolicy": "Observe"}, conditions.PAIR_SUSPENDED, "is suspended"),
    ],
)
def test_observe_or_suspend_holds_every_write(
    pair_spec: dict[str, Any], scope_spec: dict[str, Any], reason: str, says: str
) -> None:
    pair = TenantPair.from_body(body(TENANT_PAIR, **pair_spec))
    decision = may_write(SyncScope.from_body(body(SYNC_SCOPE, **scope_spec)), pair, True)
    assert not decision.waiting and decision.reason == reason and says in decision.message
    assert decision.split(PLAN) == (Plan(), PLAN)
    condition = decision.condition(7)
    assert (condition.type, condition.status, condition.reason) == (conditions.WRITES_ALLOWED, "False", reason)


def test_an_observed_mapping_holds_only_the_job_schema() -> None:
    observed = AttributeMapping.from_body(body(ATTRIBUTE_MAPPING, managementPolicy="Observe"))
    decision = may_write(SCOPE, PAIR, True, [AttributeMapping.from_body(ATTRIBUTE_MAPPING), observed])
    assert decision.reason == conditions.MAPPING_OBSERVED and observed.name in decision.message
    writable, held = decision.split(PLAN)
    assert [a.step for a in writable.actions] == ["source.configuration"]
    assert [a.step for a in held.actions] == ["source.schema"]


@pytest.mark.parametrize("template", [SYNC_SCOPE, ATTRIBUTE_MAPPING], ids=["SyncScope", "AttributeMapping"])
def test_management_policy_defaults_to_manage_and_names_the_field_when_wrong(template: dict[str, Any]) -> None:
    kind = SyncScope if template is SYNC_SCOPE else AttributeMapping
    assert kind.from_body(template).management_policy == "Manage"
    with pytest.raises(InvalidSpec, match=r"spec\.managementPolicy"):
        kind.from_body(body(template, managementPolicy="Ignore")).validate()
