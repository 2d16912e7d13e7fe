"""`ctsync explain` from manifests and credentials, against the emulated tenants with problems seeded: a
Conditional Access policy the pair's trust does not meet, a dynamic group the synced users join, one whose
rule ctsync cannot evaluate, and a target user that makes the provisioning service fail with a conflict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from entrasim.seed import load_seed
from support.cli import one_line_error, write_yaml
from support.conditional_access import GUEST_MFA_POLICY
from support.sim import (
    CONTOSO,
    FABRIKAM,
    attribute_mapping_body,
    contoso_people,
    credentials_secrets,
    sync_scope_body,
    tenant_pair_body,
    two_tenant_seed,
)

NS = ["--namespace", "tenants"]
SCOPE = "syncscope/contoso-to-fabrikam"
NO_MFA_TRUST = {"mfa": False, "compliantDevice": False, "hybridJoinedDevice": False}
FINANCE = {
    "displayName": "Finance",
    "groupTypes": ["DynamicMembership"],
    "membershipRule": 'user.department -eq "Finance"',
    "membershipRuleProcessingState": "On",
}
VETERANS = {
    "displayName": "Veterans",
    "groupTypes": ["DynamicMembership"],
    "membershipRule": 'user.employeeHireDate -le "2020-01-01"',
    "membershipRuleProcessingState": "On",
}
ODD_POLICY = {
    **GUEST_MFA_POLICY,
    "id": "5b3f0c2e-7d4a-4c1b-9a8e-000000000002",
    "displayName": "Odd policy",
    "conditions": {**GUEST_MFA_POLICY["conditions"], "users": {"includeGuestsOrExternalUsers": "everyone"}},
}
# person0003 is in scope; a target user already holds the name the service gives them.
TAKEN = {"userPrincipalName": "person0003_contoso.onmicrosoft.com#EXT#@fabrikam.onmicrosoft.com", "displayName": "x"}


def manifest(body: dict[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in body["metadata"].items() if k not in ("namespace", "generation", "annotations")}
    return {**body, "metadata": metadata}


def writes(control) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in control.get("/requests").json()["requests"] if r["method"] != "GET"]


@pytest.fixture
def credentials(sim, tmp_path) -> Path:
    return write_yaml(tmp_path / "credentials.yaml", credentials_secrets(sim))


def seed(sim, *, problems: bool) -> None:
    world_seed = two_tenant_seed(**contoso_people(20, in_group=12))
    if problems:
        fabrikam = next(t for t in world_seed["tenants"] if t["id"] == FABRIKAM)
        fabrikam["conditionalAccessPolicies"] = [GUEST_MFA_POLICY, ODD_POLICY]
        fabrikam["groups"] = [FINANCE, VETERANS]
        fabrikam["users"] = [TAKEN]
    sim.call(lambda world: (world.reset(), load_seed(world, world_seed)))


def applied(ctsync, sim, credentials, tmp_path, **pair_spec: Any) -> Path:
    """Manifests applied, and one provisioning cycle run."""
    (tmp_path / "manifests").mkdir()
    path = write_yaml(
        tmp_path / "manifests" / "contoso-to-fabrikam.yaml",
        manifest(tenant_pair_body(sim, **pair_spec)),
        manifest(sync_scope_body()),
        manifest(attribute_mapping_body()),
    )
    result = ctsync("apply", str(path), "--credentials", str(credentials), *NS)
    assert result.returncode == 0, result.stdout + result.stderr
    sim.call(lambda world: world.clock.advance(2400) or world.tick())
    return path


def test_explain_names_every_seeded_problem_with_a_fix_and_writes_nothing(ctsync, sim, credentials, control, tmp_path):
    seed(sim, problems=True)
    manifests = applied(ctsync, sim, credentials, tmp_path, trust=NO_MFA_TRUST)
    control.delete("/requests")

    result = ctsync("explain", SCOPE, str(manifests), "--credentials", str(credentials), *NS)

    assert result.returncode == 3, result.stdout + result.stderr
    assert writes(control) == []
    text = result.stdout
    lines = text.splitlines()
    assert lines[0].startswith("SyncScope tenants/contoso-to-fabrikam: needs attention (")
    assert len(lines) <= 45, text
    assert "Users   12 in scope: 12 synced (0 disabled), 0 soft-deleted, 0 missing; 0 orphaned in the target" in lines
    assert any(line.startswith("Job     Active; last cycle ") for line in lines), text
    assert "Tenants source: matches the spec" in lines and "        target: matches the spec" in lines
    warnings = [line for line in lines if line.startswith("  ! ")]
    (mfa,) = [w for w in warnings if "GuestMFARisk True PoliciesNeedTrust" in w]
    assert GUEST_MFA_POLICY["displayName"] in mfa and "'Odd policy' not evaluated" in mfa
    collision = next(w for w in warnings if "DynamicGroupCollision True GuestsJoinDynamicGroups" in w)
    assert "'Finance'" in collision and "'Veterans'" in collision  # the rule it cannot read: never "safe"
    fixes = [line for line in lines if line.startswith("    fix: ")]
    assert any("trust.mfa: true" in f and "docs/guardrails.md#conditional-access-vs-mfa-trust" in f for f in fixes)
    (failure,) = [line for line in lines if line.startswith("  2 conflict_or_duplicate ")]  # tried twice
    assert "AzureActiveDirectoryConflict" in failure and "person0003@contoso.onmicrosoft.com" in failure
    steps = lines[lines.index("Next steps") + 1 :]
    assert steps[0].startswith("  1. ") and any("provisioning failure(s) conflict_or_duplicate" in s for s in steps)

    as_json = ctsync("explain", SCOPE, str(manifests), "--credentials", str(credentials), *NS, "-o", "json")
    assert as_json.returncode == 3
    report = json.loads(as_json.stdout)
    assert writes(control) == []
    assert report["healthy"] is False and report["live"] is True
    assert report["syncScope"]["counts"]["scopeSize"] == 12
    assert report["pendingChanges"] == {"source": [], "target": []}
    reasons = {(w["resource"], w["reason"]) for w in report["warnings"]}
    (mfa,) = [w for w in report["warnings"] if w["condition"] == "GuestMFARisk"]
    assert (
        "'Odd policy' not evaluated: conditions.users.includeGuestsOrExternalUsers is not an object" in mfa["message"]
    )
    assert ("TenantPair tenants/contoso-to-fabrikam", "PoliciesNeedTrust") in reasons
    assert ("SyncScope tenants/contoso-to-fabrikam", "GuestsJoinDynamicGroups") in reasons
    (group,) = report["provisioningFailures"]["groups"]
    assert (group["reason"], group["count"], group["errorCodes"]) == (
        "conflict_or_duplicate",
        2,
        ["AzureActiveDirectoryConflict"],
    )
    assert set(report) == {
        "healthy",
        "live",
        "liveError",
        "tenantPair",
        "syncScope",
        "pendingChanges",
        "heldChanges",
        "warnings",
        "provisioningFailures",
        "nextSteps",
    }


def test_explain_a_healthy_scope_says_nothing_to_do(ctsync, sim, credentials, tmp_path):
    seed(sim, problems=False)
    manifests = applied(ctsync, sim, credentials, tmp_path)

    result = ctsync("explain", "tenants/contoso-to-fabrikam", str(manifests), "--credentials", str(credentials))

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "SyncScope tenants/contoso-to-fabrikam: healthy, nothing needs attention"
    assert "Warnings: none" in lines
    assert lines[-2:] == ["Next steps", "  1. nothing to do"]


def test_explain_before_apply_shows_the_pending_changes(ctsync, sim, credentials, control, tmp_path):
    seed(sim, problems=False)
    path = write_yaml(tmp_path / "pair.yaml", manifest(tenant_pair_body(sim)), manifest(sync_scope_body()))
    result = ctsync("explain", SCOPE, str(path), "--credentials", str(credentials), *NS, "-o", "json")
    assert result.returncode == 3, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert len(report["pendingChanges"]["target"]) == 3 and report["pendingChanges"]["source"]
    assert report["syncScope"]["job"]["jobCode"] is None and report["warnings"] == []
    assert report["nextSteps"] == [
        "the tenants differ from the spec: the operator writes it on its next pass (`ctsync apply` without one)"
    ]
    assert writes(control) == []


def test_explain_a_pair_and_the_errors_of_a_name(ctsync, sim, credentials, tmp_path):
    seed(sim, problems=False)
    manifests = applied(ctsync, sim, credentials, tmp_path)
    pair = ctsync("explain", "TenantPair/contoso-to-fabrikam", str(manifests), "--credentials", str(credentials), *NS)
    assert pair.returncode == 0, pair.stdout + pair.stderr
    assert pair.stdout.splitlines()[0] == "TenantPair tenants/contoso-to-fabrikam: healthy, nothing needs attention"
    missing = ctsync("explain", "absent", str(manifests), "--credentials", str(credentials), *NS)
    assert missing.returncode == 1
    assert one_line_error(missing) == (
        "ctsync explain: SyncScope tenants/absent not found (hint: check the name and --namespace)"
    )


def test_a_provisioning_log_that_cannot_be_read_is_never_no_failures(ctsync, sim, credentials, control, tmp_path):
    seed(sim, problems=False)
    manifests = applied(ctsync, sim, credentials, tmp_path)
    fault = {"path": "/auditLogs/provisioning", "status": 500}
    assert control.post("/faults", json=fault).status_code == 201

    result = ctsync("explain", SCOPE, str(manifests), "--credentials", str(credentials), *NS)

    assert result.returncode == 3, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "Job     unknown; last cycle never, last success never; 0 successive failure(s)" in lines
    assert "Tenants not compared with the spec: a pass failed or read nothing (see Ready above)" in lines
    (unread,) = [line for line in lines if line.startswith("Provisioning failures")]
    assert unread.startswith("Provisioning failures: not read: the job is not known: SyncScope tenants/contoso-")
    warnings = [line for line in lines if line.startswith("  ! ")]
    assert len(warnings) == 1 and "Ready False GraphUnavailable: source tenant: Fault injected" in warnings[0]
    assert lines[-2].startswith("  1. GraphUnavailable: ")
    assert lines[-1].startswith("  2. read the provisioning log by hand: the job is not known: ")


def test_a_quarantined_job_is_explained_with_its_fix(ctsync, sim, credentials, control, tmp_path):
    """Someone turns inbound synchronization off in the target: the next cycle fails its policy check and
    the service quarantines the job. Explain shows the quarantine, the drift that caused it, and the fixes."""
    seed(sim, problems=False)
    manifests = applied(ctsync, sim, credentials, tmp_path)
    off = {"userSyncInbound": {"isSyncAllowed": False}}
    sim.call(lambda world: world.tenant(FABRIKAM).policies.update_identity_sync(CONTOSO, off))
    sim.call(lambda world: world.clock.advance(2400) or world.tick())
    control.delete("/requests")

    result = ctsync("explain", SCOPE, str(manifests), "--credentials", str(credentials), *NS, "-o", "json")

    assert result.returncode == 3, result.stdout + result.stderr
    assert writes(control) == []
    report = json.loads(result.stdout)
    job = report["syncScope"]["job"]
    assert job["jobCode"] == "Quarantine" and job["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert report["pendingChanges"]["target"] == [
        f"~ target identity synchronization for {CONTOSO[:8]}…: userSyncInbound.isSyncAllowed false -> true"
    ]
    (quarantined,) = [w for w in report["warnings"] if w["reason"] == "Quarantined"]
    assert "ctsync.io/restart-job" in quarantined["fix"] and quarantined["docs"].endswith("CtsyncJobQuarantined.md")
    assert report["nextSteps"][0].startswith("Quarantined: fix the error the quarantine names")
    assert any(s.startswith("the tenants differ from the spec") for s in report["nextSteps"])

    text = ctsync("explain", SCOPE, str(manifests), "--credentials", str(credentials), *NS).stdout.splitlines()
    assert any(line.startswith("        quarantined since ") for line in text), text


def test_a_suspended_pair_is_not_said_to_match(ctsync, sim, credentials, tmp_path):
    """A suspended TenantPair reads nothing: whether the tenants match is unknown, never "matches"."""
    seed(sim, problems=False)
    applied(ctsync, sim, credentials, tmp_path)
    suspended = write_yaml(tmp_path / "suspended.yaml", manifest(tenant_pair_body(sim, suspend=True)))
    result = ctsync("explain", "tenantpair/contoso-to-fabrikam", str(suspended), "--credentials", str(credentials), *NS)
    lines = result.stdout.splitlines()
    assert (
        "        managementPolicy Manage, suspended; Ready True Suspended: spec.suspend is true: nothing is read or "
        "written" in lines
    ), result.stdout
    assert "Tenants not compared with the spec: a pass failed or read nothing (see Ready above)" in lines
