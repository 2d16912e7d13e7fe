"""The fast lane with `ctsync operator` on a real API server and entrasim (its clock frozen, so no cycle runs
unless a test moves it): a user added to the group reaches the target on demand, a restart resumes the
delta rounds without provisioning anyone again, and a burst is left to the cycle."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from e2e.operator_fixtures import (
    CYCLE,
    DRIFT_INTERVAL,
    PAIR,
    Kube,
    OperatorProcess,
    Sim,
    apply_pair,
    contoso_group_id,
    example,
    guests,
    wait_until,
)

pytestmark = pytest.mark.e2e

SLACK = 20.0
DOMAIN = "contoso.onmicrosoft.com"


def fast_lane(kube: Kube) -> dict[str, Any]:
    return dict(((kube.get("syncscopes", PAIR) or {}).get("status") or {}).get("fastLane") or {})


def join(sim: Sim, *names: str) -> None:
    """New Contoso users, added to CTS-Fabrikam (through Graph, as an HR system would)."""
    group = contoso_group_id(sim)
    with sim.graph("contoso") as graph:
        for name in names:
            user = graph.post(
                "/users",
                json={
                    "accountEnabled": True,
                    "displayName": name,
                    "mailNickname": name,
                    "userPrincipalName": f"{name}@{DOMAIN}",
                    "passwordProfile": {"password": "Secr3t-Passw0rd!"},
                },
            ).raise_for_status()
            ref = {"@odata.id": f"{sim.base_url}/v1.0/directoryObjects/{user.json()['id']}"}
            graph.post(f"/groups/{group}/members/$ref", json=ref).raise_for_status()


def on_demand_calls(sim: Sim) -> int:
    return sim.count("POST", "/provisionOnDemand")


def metric(operator: OperatorProcess, name: str, **labels: str) -> float:
    with httpx.Client(trust_env=False, timeout=10) as http:
        text = http.get(f"http://127.0.0.1:{operator.metrics_port}/metrics").raise_for_status().text
    wanted = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") and all(w in line for w in wanted)
    )


def start_with_fast_lane(sim: Sim, kube: Kube, **fast_lane_spec: Any) -> None:
    apply_pair(kube, sim)
    scope = example("syncscope")
    scope["spec"]["fastLane"] = {"enabled": True, **fast_lane_spec}
    kube.create(scope)
    kube.create(example("attributemapping"))
    kube.wait_ready("syncscopes", PAIR, timeout=60)
    sim.advance(CYCLE)  # the first cycle: the fast lane waits for a job that runs normally
    wait_until(lambda: fast_lane(kube).get("state") == "Active", DRIFT_INTERVAL + SLACK, "the fast lane is Active")


def test_a_new_member_reaches_the_target_on_demand_and_a_restart_resumes(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    start_with_fast_lane(entrasim, tenants)
    assert on_demand_calls(entrasim) == 0  # the first round is a baseline
    join(entrasim, "nina")
    wait_until(lambda: guests(entrasim).get("nina") == "active", SLACK, "nina is in Fabrikam, with no cycle run")
    labels = {"path": "fast_lane", "action": "create"}
    assert metric(ctsync_operator, "ctsync_change_to_target_seconds_count", **labels) == 1
    assert metric(ctsync_operator, "ctsync_change_to_target_seconds_sum", **labels) < SLACK
    assert "FastLaneCreated" in [e.reason for e in tenants.events("SyncScope", PAIR)]
    links = fast_lane(tenants)
    assert links["usersDeltaLink"] and links["groupsDeltaLink"] and "jobTitle" in links["usersDeltaProperties"]

    # omar joins while the operator is down: only a round resumed from the links in status sees him as a
    # change (a fresh full round would take him for part of the baseline and leave him to the cycle)
    calls = on_demand_calls(entrasim)
    ctsync_operator.stop()
    join(entrasim, "omar")
    ctsync_operator.start()
    wait_until(lambda: guests(entrasim).get("omar") == "active", SLACK, "omar is in Fabrikam after the restart")
    assert on_demand_calls(entrasim) == calls + 1  # omar only: nobody provisioned again
    assert metric(ctsync_operator, "ctsync_fast_lane_requests_total", outcome="created") == 1


def test_a_burst_is_left_to_the_cycle(entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess) -> None:
    start_with_fast_lane(entrasim, tenants, burstSize=3)
    hires = [f"hire{i}" for i in range(5)]
    join(entrasim, *hires)
    wait_until(lambda: fast_lane(tenants).get("state") == "Bulk", SLACK, "the fast lane says Bulk")
    assert (
        fast_lane(tenants)["message"]
        == "Bulk, 5 users queued for the cycle, which starts within 40 min and takes about 1 min for them"
    )
    assert on_demand_calls(entrasim) == 0
    entrasim.advance(CYCLE)  # the cycle carries them (the return to Active a calm minute later is on the
    assert all(guests(entrasim).get(h) == "active" for h in hires)  # follower's clock in the integration test)
    assert on_demand_calls(entrasim) == 0
