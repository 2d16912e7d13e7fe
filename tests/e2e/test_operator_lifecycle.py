"""`ctsync operator` as a process against a real API server and entrasim: the lifecycle of the custom
resources from apply to delete, drift correction on the timer, and a crash in the middle of a reconcile."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import pytest
from kubernetes import client

from e2e.operator_fixtures import (
    CYCLE,
    DRIFT_INTERVAL,
    PAIR,
    Kube,
    OperatorProcess,
    Sim,
    allow_sync,
    apply_pair,
    apply_scope_and_mapping,
    contoso_group_id,
    example,
    guests,
    tenant_pair,
    wait_until,
)
from support.sim import CONTOSO, FABRIKAM

pytestmark = pytest.mark.e2e

CTS_TEMPLATE = "518e5f48-1fc8-4c48-9387-9fdf28b0dfe7"
SLACK = 15.0  # seconds on top of the drift interval for a pass to finish and its effects to show
GROUP_MEMBERS = ("person0000", "person0001", "person0002")  # contoso_people(5, in_group=3)


def partner(sim: Sim, tenant_key: str, partner_id: str, suffix: str = "") -> dict[str, Any] | None:
    path = f"/policies/crossTenantAccessPolicy/partners/{partner_id}{suffix}"
    with sim.graph(tenant_key) as graph:
        reply = graph.get(path)
    if reply.status_code == 404:
        return None
    reply.raise_for_status()
    return dict(reply.json())


def sync_allowed(sim: Sim) -> bool | None:
    found = partner(sim, "fabrikam", CONTOSO, "/identitySynchronization")
    return None if found is None else bool(found["userSyncInbound"]["isSyncAllowed"])


def event_reasons(kube: Kube, kind: str, name: str) -> list[str]:
    return [e.reason for e in kube.events(kind, name)]


def configurations(sim: Sim) -> list[dict[str, Any]]:
    """Contoso's service principals instantiated from the CTS template."""
    with sim.graph("contoso") as graph:
        reply = graph.get("/servicePrincipals")
        reply.raise_for_status()
        return [sp for sp in reply.json()["value"] if sp.get("applicationTemplateId") == CTS_TEMPLATE]


LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def log_seconds(operator: OperatorProcess, pattern: str, after: float = 0.0) -> float:
    """Seconds from the operator's last start to the first log line after `after` (epoch seconds) that matches
    `pattern`, by the text format's timestamps."""
    for line in operator.log().splitlines():
        stamp = LOG_TIME.match(line)
        if not stamp or not re.search(pattern, line):
            continue
        at = datetime.strptime(stamp.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        if at >= after:
            return at - operator.started_at
    raise AssertionError(f"no operator log line matches {pattern!r}")


# --- a) a TenantPair configures both tenants --------------------------------------------------------------


def test_tenant_pair_becomes_ready_and_configures_both_tenants(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    pair = apply_pair(tenants, entrasim)

    status = pair["status"]
    assert status["observedGeneration"] == pair["metadata"]["generation"] == 1
    ready = next(c for c in status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "Reconciled" and ready["lastTransitionTime"]
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "Ready": "True",
        "Reconciling": "False",
        "Stalled": "False",
        "CredentialsValid": "True",
        "GuestMFARisk": "False",
        "SourceConfigured": "True",
        "TargetConfigured": "True",
        "Drifted": "False",
    }
    assert status["targetPartnerCreated"] and status["sourcePartnerCreated"] and status["identitySyncCreated"]
    target = partner(entrasim, "fabrikam", CONTOSO)
    assert target is not None
    assert target["inboundTrust"]["isMfaAccepted"] is True
    assert target["automaticUserConsentSettings"]["inboundAllowed"] is True
    assert sync_allowed(entrasim) is True
    source = partner(entrasim, "contoso", FABRIKAM)
    assert source is not None and source["automaticUserConsentSettings"]["outboundAllowed"] is True

    # One Event per write, from ctsync (kopf's own "handler succeeded" lines are not Events).
    events = wait_until(lambda: len(found := tenants.events("TenantPair", PAIR)) >= 5 and found, 5, "five Events")
    assert sorted(e.reason for e in events) == ["Created", "Created", "Created", "Updated", "Updated"]
    assert {e.reporting_component for e in events} == {"ctsync"}
    assert all(e.type == "Normal" for e in events)

    started = log_seconds(ctsync_operator, r"ctsync .* operator starting")
    reconciled = log_seconds(ctsync_operator, r"Handler 'tenantpair.reconcile' succeeded")
    print(f"\noperator: first log line {started:.2f} s after spawn, first reconcile done {reconciled:.2f} s")


# --- b) drift behind the operator's back --------------------------------------------------------------------


def test_drift_in_graph_is_corrected_within_one_interval(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    apply_pair(tenants, entrasim)
    allow_sync(entrasim, False)
    assert sync_allowed(entrasim) is False
    changed = time.monotonic()

    wait_until(lambda: sync_allowed(entrasim), DRIFT_INTERVAL + SLACK, "isSyncAllowed is true again")
    print(f"\ndrift corrected {time.monotonic() - changed:.1f} s after the change")
    # kopf posts Events in the background: they may trail the write they describe.
    drift_events = wait_until(
        lambda: [e for e in tenants.events("TenantPair", PAIR) if e.reason == "DriftCorrected"],
        5,
        "a DriftCorrected Event",
    )
    assert drift_events[0].type == "Warning"
    assert "isSyncAllowed" in drift_events[0].message
    drifted = tenants.condition("tenantpairs", PAIR, "Drifted")
    assert drifted is not None and drifted["status"] == "False"  # corrected, so no drift remains


def test_observe_reports_drift_and_leaves_it(entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess) -> None:
    apply_pair(tenants, entrasim)
    tenants.patch("tenantpairs", PAIR, {"spec": {"managementPolicy": "Observe"}})
    tenants.wait_ready("tenantpairs", PAIR)
    allow_sync(entrasim, False)

    drifted = wait_until(
        lambda: (c := tenants.condition("tenantpairs", PAIR, "Drifted")) and c["status"] == "True" and c,
        DRIFT_INTERVAL + SLACK,
        "Drifted=True",
    )
    assert "isSyncAllowed" in drifted["message"]
    wait_until(lambda: "DriftDetected" in event_reasons(tenants, "TenantPair", PAIR), 5, "a DriftDetected Event")
    assert sync_allowed(entrasim) is False


# --- c) a spec the CRD admits but ctsync refuses ------------------------------------------------------------


def test_invalid_spec_stalls_without_touching_graph_until_fixed(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    # The CRD's pattern admits the nil GUID; ctsync knows it names no tenant.
    body = tenant_pair(entrasim)
    body["spec"]["target"]["tenantId"] = "00000000-0000-0000-0000-000000000000"
    entrasim.control("DELETE", "/requests")
    tenants.create(body)

    stalled = wait_until(
        lambda: (c := tenants.condition("tenantpairs", PAIR, "Stalled")) and c["status"] == "True" and c,
        30,
        "Stalled=True",
    )
    assert stalled["reason"] == "InvalidSpec" and "spec.target.tenantId" in stalled["message"]
    obj = tenants.get("tenantpairs", PAIR) or {}
    assert obj["status"]["observedGeneration"] == 1
    ready = tenants.condition("tenantpairs", PAIR, "Ready")
    assert ready is not None and ready["status"] == "False"
    warnings = wait_until(
        lambda: [e for e in tenants.events("TenantPair", PAIR) if e.reason == "InvalidSpec"], 5, "an InvalidSpec Event"
    )
    assert warnings[0].type == "Warning"
    time.sleep(DRIFT_INTERVAL + 1)  # the drift timer passes too, and must not reach Graph either
    assert [r for r in entrasim.requests() if "/policies/" in r["path"]] == []
    # Once in the log, at WARNING with its reason and message, however many passes found it.
    (stall,) = [line for line in ctsync_operator.log().splitlines() if "is Stalled" in line]
    assert "[WARNING" in stall and "at generation 1: InvalidSpec: spec.target.tenantId" in stall

    tenants.patch("tenantpairs", PAIR, {"spec": {"target": {"tenantId": FABRIKAM}}})
    fixed = tenants.wait_ready("tenantpairs", PAIR)
    assert fixed["status"]["observedGeneration"] == 2
    assert sync_allowed(entrasim) is True


def test_a_missing_secret_is_reported_while_kopf_retries_then_picked_up(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    saved = tenants.core.read_namespaced_secret("fabrikam-credentials", tenants.namespace)
    tenants.core.delete_namespaced_secret("fabrikam-credentials", tenants.namespace)
    tenants.create(tenant_pair(entrasim))

    # The pass ends in kopf.TemporaryError (retry in 60 s), yet the status it describes is written.
    waiting = wait_until(
        lambda: (c := tenants.condition("tenantpairs", PAIR, "Reconciling")) and c["status"] == "True" and c,
        30,
        "Reconciling=True",
    )
    assert waiting["reason"] == "DependencyNotReady" and "fabrikam-credentials" in waiting["message"]
    assert "observedGeneration" not in (tenants.get("tenantpairs", PAIR) or {})["status"]
    # Waiting is not an error.
    logged = wait_until(
        lambda: [line for line in ctsync_operator.log().splitlines() if "DependencyNotReady" in line],
        5,
        "the wait in the operator log",
    )
    assert all("[INFO" in line and "waits: DependencyNotReady" in line for line in logged), logged

    # The drift timer retries sooner than kopf's 60 s delay.
    tenants.core.create_namespaced_secret(
        tenants.namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="fabrikam-credentials"), data=saved.data)
    )
    tenants.wait_ready("tenantpairs", PAIR, timeout=DRIFT_INTERVAL + SLACK)


# --- d) SyncScope and AttributeMapping: configuration, provisioning, one schema write per mapping change -----


def test_sync_scope_configures_the_job_and_users_flow(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    apply_pair(tenants, entrasim)
    scope = apply_scope_and_mapping(tenants)

    status = scope["status"]
    (configuration,) = configurations(entrasim)
    assert status["servicePrincipalId"] == configuration["id"]
    assert f"ctsync.io/owner={tenants.namespace}/{PAIR}" in configuration["tags"]
    assert status["jobCode"] in ("NotRun", "Active") and status["scopeSize"] == len(GROUP_MEMBERS)
    with entrasim.graph("contoso") as graph:
        (job,) = graph.get(f"/servicePrincipals/{configuration['id']}/synchronization/jobs").json()["value"]
    assert job["templateId"] == "Azure2Azure" and job["status"]["code"] != "Paused"
    assert entrasim.count("PUT", "/schema") == 1 and entrasim.count("POST", "/start") == 1

    entrasim.advance(CYCLE)
    assert guests(entrasim) == dict.fromkeys(GROUP_MEMBERS, "active")
    wait_until(
        lambda: (tenants.get("syncscopes", PAIR) or {}).get("status", {}).get("syncedUsers") == len(GROUP_MEMBERS),
        DRIFT_INTERVAL + SLACK,
        "status.syncedUsers counts the synced users",
    )
    sample = tenants.get("syncscopes", PAIR)["status"]["upnSample"]
    assert [entry["source"] for entry in sample] == sorted(f"{m}@contoso.onmicrosoft.com" for m in GROUP_MEMBERS)[:3]
    assert all(e["target"] == e["source"].replace("@", "_") + "#EXT#@fabrikam.onmicrosoft.com" for e in sample)

    leaver = GROUP_MEMBERS[0]
    with entrasim.graph("contoso") as graph:
        user_id = graph.get(f"/users/{leaver}@contoso.onmicrosoft.com").json()["id"]
        graph.delete(f"/groups/{contoso_group_id(entrasim)}/members/{user_id}/$ref").raise_for_status()
    entrasim.advance(CYCLE)
    assert guests(entrasim)[leaver] == "deleted"

    # A mapping edit reaches the SyncScope through the revision annotation (its update handler), not only
    # through the drift timer; the schema is written once for it.
    tenants.wait_ready("attributemappings", PAIR, timeout=90)  # its SyncScope applied generation 1
    handled = ctsync_operator.log().count("Handler 'syncscope.reconcile' succeeded")
    mapping = tenants.get("attributemappings", PAIR) or {}
    changed = [
        {**m, "source": '"Contoso Ltd (Synced)"'} if m["target"] == "companyName" else m
        for m in mapping["spec"]["mappings"]
    ]
    tenants.patch("attributemappings", PAIR, {"spec": {"mappings": changed}})
    wait_until(
        lambda: ctsync_operator.log().count("Handler 'syncscope.reconcile' succeeded") > handled,
        10,
        "the SyncScope's update handler runs for the new mappings revision",
    )
    tenants.wait_ready("attributemappings", PAIR, timeout=20)
    scope = tenants.get("syncscopes", PAIR) or {}
    assert f"{PAIR}@2" in scope["status"]["appliedMappings"]
    assert scope["metadata"]["annotations"].get("ctsync.io/mappings-revision")
    time.sleep(2 * DRIFT_INTERVAL)  # later passes (timer, annotation) must find nothing more to write
    assert entrasim.count("PUT", "/schema") == 2


@pytest.mark.parametrize(
    ("pair_spec", "reason"),
    [({"managementPolicy": "Observe"}, "TenantPairObserved"), ({"suspend": True}, "TenantPairSuspended")],
    ids=["pair-observe", "pair-suspended"],
)
def test_a_sync_scope_whose_pair_holds_writes_plans_and_writes_nothing(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess, pair_spec: dict[str, Any], reason: str
) -> None:
    entrasim.control("DELETE", "/requests")
    apply_pair(tenants, entrasim, **pair_spec)
    apply_scope_and_mapping(tenants)

    writes_allowed = tenants.condition("syncscopes", PAIR, "WritesAllowed")
    assert writes_allowed is not None and (writes_allowed["status"], writes_allowed["reason"]) == ("False", reason)
    ready = tenants.condition("syncscopes", PAIR, "Ready")
    assert ready is not None and ready["reason"] == reason and "writes held" in ready["message"]
    drifted = tenants.condition("syncscopes", PAIR, "Drifted")
    assert drifted is not None and drifted["status"] == "True" and "Contoso to Fabrikam" in drifted["message"]
    time.sleep(2 * DRIFT_INTERVAL)  # the drift timer's passes hold their writes too
    assert [f"{r['method']} {r['path']}" for r in entrasim.requests() if r["method"] != "GET"] == []
    assert configurations(entrasim) == []


# A drift timer far beyond the test: only the pair's nudge can bring the SyncScope to Ready in time.
@pytest.mark.parametrize("ctsync_operator", [600.0], indirect=True, ids=["drift-interval-600s"])
def test_a_sync_scope_applied_with_its_pair_starts_when_the_pair_is_ready(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    tenants.create(example("syncscope"))  # first, as `kubectl apply -f` of the directory may do
    tenants.create(example("attributemapping"))
    tenants.create(tenant_pair(entrasim))
    pair = tenants.wait_ready("tenantpairs", PAIR)
    ready_at = time.monotonic()

    scope = tenants.wait_ready("syncscopes", PAIR, timeout=SLACK)
    scope_ready_at = time.monotonic()
    print(f"\nSyncScope Ready {scope_ready_at - ready_at:.1f} s after its TenantPair")
    ready = next(c for c in pair["status"]["conditions"] if c["type"] == "Ready")
    mark = f"{pair['metadata']['generation']}/{ready['lastTransitionTime']}"
    assert scope["metadata"]["annotations"]["ctsync.io/tenantpair-ready"] == mark
    # The AttributeMapping waited for its SyncScope: nudged when that turns Ready, not at kopf's 60 s retry.
    mapping = tenants.wait_ready("attributemappings", PAIR, timeout=SLACK)
    print(f"AttributeMapping Ready {time.monotonic() - scope_ready_at:.1f} s after its SyncScope")
    assert mapping["metadata"]["annotations"]["ctsync.io/syncscope-ready"]


# --- e) deletion policies -----------------------------------------------------------------------------------


def test_orphan_deletion_leaves_the_tenants_configured(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    apply_pair(tenants, entrasim)
    apply_scope_and_mapping(tenants)

    for plural in ("attributemappings", "syncscopes", "tenantpairs"):
        tenants.delete(plural, PAIR)
    for plural in ("syncscopes", "tenantpairs"):
        wait_until(lambda p=plural: tenants.get(p, PAIR) is None, 30, f"{plural}/{PAIR} is gone")

    assert partner(entrasim, "fabrikam", CONTOSO) is not None
    assert sync_allowed(entrasim) is True
    assert partner(entrasim, "contoso", FABRIKAM) is not None
    assert len(configurations(entrasim)) == 1


def test_delete_policy_removes_what_ctsync_created_but_no_user(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    apply_pair(tenants, entrasim, deletionPolicy="Delete")
    apply_scope_and_mapping(tenants)
    entrasim.advance(CYCLE)
    assert guests(entrasim) == dict.fromkeys(GROUP_MEMBERS, "active")

    # All at once, as `kubectl delete -f` or Argo CD's prune would: the pair waits for its SyncScope, whose
    # finalizer needs the pair's credentials.
    for plural in ("tenantpairs", "syncscopes", "attributemappings"):
        tenants.delete(plural, PAIR)
    for plural in ("syncscopes", "tenantpairs"):
        wait_until(lambda p=plural: tenants.get(p, PAIR) is None, 60, f"{plural}/{PAIR} is gone")

    assert configurations(entrasim) == []
    assert partner(entrasim, "fabrikam", CONTOSO) is None
    assert partner(entrasim, "contoso", FABRIKAM) is None
    assert guests(entrasim) == dict.fromkeys(GROUP_MEMBERS, "active")


# --- f) crash safety ----------------------------------------------------------------------------------------


def test_a_crash_after_the_first_write_leaves_exactly_one_of_everything(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    apply_pair(tenants, entrasim)
    entrasim.control("DELETE", "/requests")
    # Hold the write that follows instantiation (tagging the new configuration) so the kill lands between them.
    entrasim.control("POST", "/faults", {"path": "^/v1.0/servicePrincipals/[^/]+$", "method": "PATCH", "delay": 20})
    tenants.create(example("syncscope"))
    wait_until(lambda: entrasim.count("POST", "/instantiate"), 30, "the configuration is instantiated")
    wait_until(lambda: entrasim.control("GET", "/faults")["faults"][0]["hits"], 10, "the tag write is held")
    ctsync_operator.kill()
    writes = [r for r in entrasim.requests() if r["method"] != "GET" and "/oauth2/" not in r["path"]]
    assert writes[-1]["route"].endswith("/instantiate"), writes
    entrasim.control("DELETE", "/faults")
    ctsync_operator.start()
    scope = tenants.wait_ready("syncscopes", PAIR)
    restarts = ctsync_operator.log().split("operator starting")
    assert len(restarts) == 3 and "syncscope.reconcile' succeeded" in restarts[2]
    reconciled = log_seconds(
        ctsync_operator, r"Handler 'syncscope.reconcile' succeeded", after=ctsync_operator.started_at
    )
    print(f"\nrestart: the interrupted SyncScope reconciled {reconciled:.2f} s after the new process was spawned")

    (configuration,) = configurations(entrasim)
    assert scope["status"]["servicePrincipalId"] == configuration["id"]
    assert entrasim.count("POST", "/instantiate") == 1
    with entrasim.graph("contoso") as graph:
        jobs = graph.get(f"/servicePrincipals/{configuration['id']}/synchronization/jobs").json()["value"]
        assigned = graph.get(f"/servicePrincipals/{configuration['id']}/appRoleAssignedTo").json()["value"]
    assert len(jobs) == 1
    principals = [a["principalId"] for a in assigned]
    assert principals == [contoso_group_id(entrasim)]
