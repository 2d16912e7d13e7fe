"""The fast lane's Graph calls against entrasim: delta rounds of the source (with a reset answered 410 Gone),
and provisionOnDemand with its answer read and its per-job limit."""

from __future__ import annotations

import json

import httpx
import pytest
from test_provisioning_poller import cts_group, log_entries, running  # noqa: F401 (a fixture)

from ctsync import errors as domain
from ctsync.graph.delta import delta_round, groups_start, users_start
from ctsync.graph.on_demand import parse_result, provision_on_demand, rule_id
from support.sim import CONTOSO, TENANTS, ca_context

DOMAIN = TENANTS["contoso"][1]


def add_new_hire(sim, name: str) -> str:
    def create(w) -> str:
        d = w.tenant(CONTOSO).directory
        user = d.create_user(
            {"userPrincipalName": f"{name}@{DOMAIN}", "displayName": name, "accountEnabled": True,
             "department": "Sales"}
        )  # fmt: skip
        d.add_member(cts_group(w), user["id"])
        return str(user["id"])

    return sim.call(create)


async def test_delta_rounds_see_a_new_member_and_restart_after_a_reset(sim, running):  # noqa: F811
    source, _ = running
    groups = await delta_round(source.client, groups_start(), None)
    users = await delta_round(source.client, users_start(["department"]), None)
    assert groups.full and users.full and len(users.items) == 30
    assert set(users.items[0]) == {"id", "accountEnabled", "department"}

    new = add_new_hire(sim, "nina")
    groups = await delta_round(source.client, groups_start(), groups.link)
    users = await delta_round(source.client, users_start(["department"]), users.link)
    assert not groups.full and [m["id"] for g in groups.items for m in g["members@delta"]] == [new]
    assert [u["id"] for u in users.items] == [new]

    with httpx.Client(verify=ca_context(sim)) as control:
        assert control.post(f"{sim.base_url}/_entrasim/delta/reset", json={"tenant": CONTOSO}).status_code == 204
    again = await delta_round(source.client, users_start(["department"]), users.link)
    assert again.full and len(again.items) == 31


async def test_provision_on_demand_creates_then_skips_and_is_limited_per_job(sim, running):  # noqa: F811
    source, status = running
    sp, job = status["servicePrincipalId"], status["jobId"]
    rule = rule_id(await source.schema(sp, job))
    assert rule
    new = add_new_hire(sim, "omar")
    created = await provision_on_demand(source.client, sp, job, rule, new)
    assert created.outcome == "created"
    assert created.change_id in {e["changeId"] for e in log_entries(sim)}  # the log names the same change
    again = await provision_on_demand(source.client, sp, job, rule, new)
    assert (again.outcome, again.detail) == ("skipped", "RedundantExport")
    for _ in range(3):
        await provision_on_demand(source.client, sp, job, rule, new)
    with pytest.raises(domain.Throttled) as caught:
        await provision_on_demand(source.client, sp, job, rule, new)
    assert caught.value.retry_after >= 1
    assert await source.job(sp, job)  # the job's limit holds no other caller of the tenant


def test_the_how_to_shape_is_read_from_its_steps():
    steps = [
        {"name": "EntryImport", "type": "Import", "status": "Success"},
        {"name": "EntryExportAdd", "type": "Export", "status": "Success"},
    ]
    pair = {"key": "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo",
            "value": json.dumps([{"provisioningSteps": steps}])}  # fmt: skip
    assert parse_result(pair).outcome == "created"
    skip = {"name": "EntrySynchronizationSkip", "type": "Export", "status": "Skipped",
            "details": {"SkipReason": "NotEffectivelyEntitled"}}  # fmt: skip
    pair["value"] = json.dumps([{"provisioningSteps": [steps[0], skip]}])
    assert (parse_result(pair).outcome, parse_result(pair).detail) == ("skipped", "NotEffectivelyEntitled")
    assert parse_result({"key": "x", "value": "not json"}).outcome == "failed"
    failure = {"key": '{"result": "Failure", "details": {"errorCode": "AzureActiveDirectoryForbidden"}}', "value": "{}"}
    assert parse_result(failure).detail == "AzureActiveDirectoryForbidden"
