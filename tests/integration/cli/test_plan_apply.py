"""`ctsync plan` and `ctsync apply` against the emulated tenants, with credentials from a local file.

The emulator runs in this process; the CLI, in a subprocess, reaches it over HTTPS with the emulator's CA,
as it would reach Microsoft Graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from entrasim.seed import load_seed
from support.cli import one_line_error, write_yaml
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


def manifest(body: dict[str, Any]) -> dict[str, Any]:
    """A body as it is written in Git: no namespace (given by --namespace), no generation."""
    metadata = {k: v for k, v in body["metadata"].items() if k not in ("namespace", "generation", "annotations")}
    if body["metadata"].get("annotations"):
        metadata["annotations"] = body["metadata"]["annotations"]
    return {**body, "metadata": metadata}


@pytest.fixture
def people(sim):
    """Contoso with 30 members, 20 of them in CTS-Fabrikam, the group the SyncScope names."""
    sim.call(lambda world: (world.reset(), load_seed(world, two_tenant_seed(**contoso_people(30, in_group=20)))))


@pytest.fixture
def manifests(sim, people, tmp_path) -> Path:
    (tmp_path / "manifests").mkdir()
    return write_yaml(
        tmp_path / "manifests" / "contoso-to-fabrikam.yaml",
        manifest(tenant_pair_body(sim)),
        manifest(sync_scope_body()),
        manifest(attribute_mapping_body()),
    )


@pytest.fixture
def credentials(sim, tmp_path) -> Path:
    return write_yaml(tmp_path / "credentials.yaml", credentials_secrets(sim))


def partner(sim, tenant: str, partner_id: str) -> dict[str, Any] | None:
    return sim.call(lambda world: world.tenant(tenant).policies.partner(partner_id))


def writes(control) -> list[dict[str, Any]]:
    return [r for r in control.get("/requests").json()["requests"] if r["method"] != "GET"]


def test_plan_shows_the_pair_per_tenant_and_waits_with_the_scope(ctsync, manifests, credentials, sim, control):
    result = ctsync("plan", str(manifests), "--credentials", str(credentials), *NS)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines()[:9] == [
        "TenantPair tenants/contoso-to-fabrikam: 5 change(s)",
        "  Plan: 3 to create, 2 to change, 0 to remove.",
        "  target tenant:",
        f"    + target partner policy for {CONTOSO[:8]}…",
        f"    ~ target partner policy for {CONTOSO[:8]}…: inboundTrust.isMfaAccepted null -> true, "
        "automaticUserConsentSettings.inboundAllowed null -> true",
        f"    + target identity synchronization for {CONTOSO[:8]}…: userSyncInbound.isSyncAllowed null -> true",
        "  source tenant:",
        f"    + source partner policy for {FABRIKAM[:8]}…",
        f"    ~ source partner policy for {FABRIKAM[:8]}…: automaticUserConsentSettings.outboundAllowed null -> true",
    ]
    assert (
        "SyncScope tenants/contoso-to-fabrikam: planned once TenantPair tenants/contoso-to-fabrikam is applied"
        in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "Resources: 1 with changes, 1 waiting for their TenantPair."
    assert writes(control) == [] and partner(sim, FABRIKAM, CONTOSO) is None


def test_apply_configures_both_tenants_then_plan_finds_nothing(ctsync, manifests, credentials, sim):
    result = ctsync("apply", str(manifests), "--credentials", str(credentials), *NS)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "TenantPair tenants/contoso-to-fabrikam: 5 change(s) applied"
    assert (
        "SyncScope tenants/contoso-to-fabrikam: 6 change(s) applied; job NotRun; 0 of 20 users in scope are in the "
        "target (the provisioning service syncs every 40 minutes)" in lines
    )
    assert '    + source configuration "Sync to Fabrikam" (application template 518e5f48…)' in lines
    assert lines[-1] == "Resources: 2 applied."
    assert partner(sim, FABRIKAM, CONTOSO)["automaticUserConsentSettings"]["inboundAllowed"] is True
    (tags,) = sim.call(lambda w: [sp["tags"] for sp in w.tenant(CONTOSO).applications.list_service_principals()])
    assert "ctsync.io/owner=tenants/contoso-to-fabrikam" in tags

    again = ctsync("plan", str(manifests), "--credentials", str(credentials), *NS)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.splitlines()[-1] == "Resources: 2 unchanged."


@pytest.mark.parametrize(
    "pair_spec", [{"managementPolicy": "Observe"}, {"suspend": True}], ids=["pair-observe", "pair-suspended"]
)
def test_apply_writes_nothing_for_a_sync_scope_whose_pair_holds_writes(
    ctsync, sim, people, credentials, control, tmp_path, pair_spec
):
    """The operator's rule (reconcile.gate): a SyncScope writes only under a Manage pair that is not suspended.
    Its configuration is planned and shown as held, and nothing reaches Graph."""
    pair_only = write_yaml(tmp_path / "pair.yaml", manifest(tenant_pair_body(sim)))
    assert ctsync("apply", str(pair_only), "--credentials", str(credentials), *NS).returncode == 0
    held = write_yaml(
        tmp_path / "held.yaml",
        manifest(tenant_pair_body(sim, **pair_spec)),
        manifest(sync_scope_body()),
        manifest(attribute_mapping_body()),
    )
    control.delete("/requests")

    result = ctsync("apply", str(held), "--credentials", str(credentials), *NS)

    assert writes(control) == []
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    scope = lines.index(next(line for line in lines if line.startswith("SyncScope tenants/contoso-to-fabrikam:")))
    assert "writes held: TenantPair tenants/contoso-to-fabrikam" in lines[scope]
    assert lines[scope + 1].startswith("  held, not written (TenantPair")
    assert '    + source configuration "Sync to Fabrikam" (application template 518e5f48…)' in lines
    planned = ctsync("plan", str(held), "--credentials", str(credentials), *NS, "--output", "json")
    report = json.loads(planned.stdout)
    assert [r["state"] for r in report["resources"]] == ["held" if "suspend" in pair_spec else "unchanged", "held"]
    assert report["resources"][1]["heldActions"][0]["step"] == "source.configuration"
    assert writes(control) == []


def test_plan_as_json(ctsync, manifests, credentials):
    assert ctsync("apply", str(manifests), "--credentials", str(credentials), *NS).returncode == 0
    result = ctsync("plan", str(manifests), "--credentials", str(credentials), *NS, "--output", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["command"] == "plan" and report["changes"] is False
    pair, scope = report["resources"]
    assert (pair["kind"], pair["state"], pair["actions"]) == ("TenantPair", "unchanged", [])
    assert (scope["kind"], scope["namespace"], scope["state"]) == ("SyncScope", "tenants", "unchanged")
    assert scope["status"]["scopeSize"] == 20 and scope["usersLeavingScope"] == 0


def test_a_scope_that_shrinks_too_much_is_blocked_and_counted(ctsync, manifests, credentials, sim, tmp_path):
    assert ctsync("apply", str(manifests), "--credentials", str(credentials), *NS).returncode == 0
    sim.call(
        lambda w: w.tenant(CONTOSO).directory.create_group(
            {"displayName": "Small", "mailEnabled": False, "mailNickname": "small", "securityEnabled": True}
        )
    )
    small = manifest(sync_scope_body(scope={"syncAll": False, "groups": [{"displayName": "Small"}]}))
    narrowed = write_yaml(tmp_path / "narrowed.yaml", manifest(tenant_pair_body(sim)), small)
    result = ctsync("plan", str(narrowed), "--credentials", str(credentials), *NS)
    assert result.returncode == 1
    assert (
        "  error: ScopeShrinkBlocked: 20 of 20 users in scope (100%) would leave it; max 20%; "
        "annotate ctsync.io/acknowledge-shrink=0 to proceed" in result.stdout.splitlines()
    )

    small["metadata"]["annotations"] = {"ctsync.io/acknowledge-shrink": "0"}
    acknowledged = write_yaml(tmp_path / "acknowledged.yaml", manifest(tenant_pair_body(sim)), small)
    result = ctsync("plan", str(acknowledged), "--credentials", str(credentials), *NS)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("    - source assignment of group") and line.endswith("[destructive]") for line in lines)
    assert "  20 user(s) in scope now would leave it" in lines


FINANCE = {
    "displayName": "Finance",
    "mailEnabled": False,
    "mailNickname": "finance",
    "securityEnabled": True,
    "groupTypes": ["DynamicMembership"],
    "membershipRule": 'user.department -eq "Finance"',
    "membershipRuleProcessingState": "On",
}


def test_plan_lists_the_dynamic_groups_a_mapping_change_makes_synced_users_join(
    ctsync, manifests, credentials, sim, tmp_path
):
    assert ctsync("apply", str(manifests), "--credentials", str(credentials), *NS).returncode == 0
    sim.call(lambda w: w.tenant(FABRIKAM).directory.create_group(FINANCE))
    everyone_in_finance = attribute_mapping_body(
        mappings=[{"target": "department", "source": '"Finance"', "apply": "Always"}]
    )
    changed = write_yaml(
        tmp_path / "changed.yaml",
        manifest(tenant_pair_body(sim)),
        manifest(sync_scope_body()),
        manifest(everyone_in_finance),
    )
    result = ctsync("plan", str(changed), "--credentials", str(credentials), *NS)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "  15 synced user(s) would join dynamic group 'Finance'" in result.stdout.splitlines()
    as_json = ctsync("plan", str(changed), "--credentials", str(credentials), *NS, "--output", "json")
    scope = json.loads(as_json.stdout)["resources"][1]
    assert scope["dynamicGroups"] == ["15 synced user(s) would join dynamic group 'Finance'"]


def test_plan_lists_the_dynamic_groups_a_scoping_filter_change_brings_synced_users_into(
    ctsync, manifests, credentials, sim, tmp_path
):
    """The users a filter keeps out of scope are not projected: letting them in is what makes them join."""
    no_finance = [
        {"name": "no-finance", "clauses": [{"attribute": "department", "operator": "NOT EQUALS", "value": "Finance"}]}
    ]
    filtered = write_yaml(
        tmp_path / "filtered.yaml",
        manifest(tenant_pair_body(sim)),
        manifest(sync_scope_body(scopingFilters=no_finance)),
    )
    assert ctsync("apply", str(filtered), "--credentials", str(credentials), *NS).returncode == 0
    sim.call(lambda w: w.tenant(FABRIKAM).directory.create_group(FINANCE))
    assert ctsync("plan", str(filtered), "--credentials", str(credentials), *NS).returncode == 0
    wider = write_yaml(tmp_path / "wider.yaml", manifest(tenant_pair_body(sim)), manifest(sync_scope_body()))
    result = ctsync("plan", str(wider), "--credentials", str(credentials), *NS)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "  5 synced user(s) would join dynamic group 'Finance'" in result.stdout.splitlines()


def test_manifest_problems_stop_before_any_tenant_is_read(ctsync, manifests, credentials, control):
    mapping = attribute_mapping_body(name="titles", mappings=[{"target": "jobTitle", "source": "Left([jobTitle], 3"}])
    broken = write_yaml(manifests.parent / "broken.yaml", manifest(mapping))
    control.delete("/requests")
    result = ctsync("plan", str(manifests.parent), "--credentials", str(credentials), *NS)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{broken}:10: AttributeMapping tenants/titles: spec.mappings[0].source: invalid expression: "
        "missing ) to close Left( (at character 19)",
        "ctsync plan: 1 problem(s) in the manifests; nothing was read from or written to the tenants "
        "(hint: `ctsync validate PATH...` checks manifests offline)",
    ]
    assert control.get("/requests").json()["requests"] == []


def test_malformed_yaml_and_a_missing_path(ctsync, credentials, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: TenantPair\nspec: [\n")
    result = ctsync("plan", str(broken), str(tmp_path / "absent"), "--credentials", str(credentials))
    assert result.returncode == 1
    assert result.stderr.splitlines()[:2] == [
        f"{tmp_path / 'absent'}: no such file or directory",
        f"{broken}:3: malformed YAML: expected the node content, but found '<stream end>'",
    ]


def test_a_namespace_that_contradicts_the_flag(ctsync, sim, credentials, tmp_path):
    path = write_yaml(tmp_path / "pair.yaml", tenant_pair_body(sim))  # namespace tenants
    result = ctsync("plan", str(path), "--credentials", str(credentials), "--namespace", "other")
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:5: TenantPair contoso-to-fabrikam: namespace 'tenants' differs from --namespace 'other'"
    )


def test_missing_credentials_say_where_to_add_them(ctsync, manifests, sim, tmp_path):
    partial = {k: v for k, v in credentials_secrets(sim).items() if k != "fabrikam-credentials"}
    result = ctsync("plan", str(manifests), "--credentials", str(write_yaml(tmp_path / "c.yaml", partial)), *NS)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        "TenantPair tenants/contoso-to-fabrikam: failed",
        "  error: DependencyNotReady: target tenant: credentials Secret tenants/fabrikam-credentials does not exist",
        "  hint: add fabrikam-credentials to the --credentials file",
    ]
    assert "SyncScope tenants/contoso-to-fabrikam: not planned: TenantPair tenants/contoso-to-fabrikam failed" in lines
    assert "Traceback" not in result.stderr


def test_wrong_credentials(ctsync, manifests, sim, tmp_path):
    wrong = write_yaml(tmp_path / "wrong.yaml", credentials_secrets(sim, secret="not-the-secret"))
    result = ctsync("apply", str(manifests), "--credentials", str(wrong), *NS)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1].startswith("  error: AuthenticationFailed: target tenant: ") and "AADSTS7000215" in lines[1]
    assert lines[2] == (
        "  hint: check tenantId, and clientId with clientSecret (or tls.crt and tls.key) in the credentials Secret"
    )
    assert result.stderr == ""  # azure-identity's own warnings stay quiet without --debug


def test_an_unreachable_tenant(ctsync, sim, credentials, tmp_path, unused_tcp_port):
    body = tenant_pair_body(sim)
    for side in ("source", "target"):
        endpoints = body["spec"][side]["endpoints"]
        endpoints["authorityHost"] = endpoints["graphEndpoint"] = f"https://127.0.0.1:{unused_tcp_port}"
    path = write_yaml(tmp_path / "pair.yaml", manifest(body))
    result = ctsync("plan", str(path), "--credentials", str(credentials), *NS)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[1] == (
        f"  error: GraphUnavailable: target tenant: cannot reach the token endpoint: Cannot connect to host "
        f"127.0.0.1:{unused_tcp_port} [Connect call failed ('127.0.0.1', {unused_tcp_port})]"
    )
    assert lines[2] == "  hint: check the tenant's cloud (or endpoints) and the network, then retry"


def test_credentials_file_problems(ctsync, manifests, tmp_path):
    result = ctsync("plan", str(manifests), "--credentials", str(tmp_path / "none.yaml"), *NS)
    assert result.returncode == 1
    assert (
        one_line_error(result)
        == f"ctsync plan: cannot read --credentials {tmp_path / 'none.yaml'}: No such file or directory"
    )
    shapeless = tmp_path / "list.yaml"
    shapeless.write_text("- clientId: x\n")
    result = ctsync("apply", str(manifests), "--credentials", str(shapeless), *NS)
    assert result.returncode == 1
    assert one_line_error(result).startswith(
        f"ctsync apply: --credentials {shapeless} has the wrong shape (hint: it must be"
    )


def test_without_credentials_file_or_kubeconfig(ctsync, manifests):
    result = ctsync("plan", str(manifests))
    assert result.returncode == 1
    assert one_line_error(result) == (
        "ctsync plan: cannot load the kubeconfig: Invalid kube-config file. No configuration found. "
        "(hint: pass --kubeconfig FILE and --context NAME, or set KUBECONFIG)"
    )


def test_debug_shows_the_traceback(ctsync, manifests):
    result = ctsync("plan", str(manifests), "--debug")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and result.stderr.strip().endswith("or set KUBECONFIG)")


def test_plan_shows_the_user_principal_name_users_get_in_the_target(ctsync, manifests, credentials, sim):
    assert ctsync("apply", str(manifests), "--credentials", str(credentials), *NS).returncode == 0
    sim.call(lambda w: (w.clock.advance(80 * 60), w.tick()))  # two provisioning cycles
    result = ctsync("plan", str(manifests), "--credentials", str(credentials), *NS)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    at = lines.index("  user principal names in the target (sample):")
    sample = lines[at + 1 : at + 4]
    target_names = sim.call(lambda w: {u["userPrincipalName"] for u in w.tenant(FABRIKAM).directory.users.values()})
    for line in sample:
        source, target = line.strip().split(" -> ")
        assert target == source.replace("@", "_") + "#EXT#@fabrikam.onmicrosoft.com" and target in target_names
    assert not lines[at + 4].startswith("    ")


def test_plan_estimates_the_cycle_a_bulk_of_users_entering_scope_takes(ctsync, manifests, credentials, sim, tmp_path):
    seed = contoso_people(170, in_group=20)
    bulk = [f"person{i:04d}@contoso.onmicrosoft.com" for i in range(20, 170)]
    seed["groups"]["contoso"].append({"displayName": "Onboarding", "members": bulk})
    sim.call(lambda world: (world.reset(), load_seed(world, two_tenant_seed(**seed))))
    assert ctsync("apply", str(manifests), "--credentials", str(credentials), *NS).returncode == 0
    groups = [{"displayName": "CTS-Fabrikam"}, {"displayName": "Onboarding"}]
    wider = write_yaml(
        tmp_path / "wider.yaml",
        manifest(tenant_pair_body(sim)),
        manifest(sync_scope_body(scope={"syncAll": False, "groups": groups})),
    )
    result = ctsync("plan", str(wider), "--credentials", str(credentials), *NS)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    at = lines.index("  +150 users enter scope: the next cycle takes about 6 min")
    assert lines[at + 1].startswith("    (between 2 min and 12 min; starting within 40 min, it should end by about ")
    as_json = ctsync("plan", str(wider), "--credentials", str(credentials), *NS, "--output", "json")
    estimate = json.loads(as_json.stdout)["resources"][1]["cycleEstimate"]
    assert (estimate["usersEnteringScope"], estimate["durationSeconds"]) == (150, 360.0)
    unchanged = ctsync("plan", str(manifests), "--credentials", str(credentials), *NS, "--output", "json")
    assert json.loads(unchanged.stdout)["resources"][1]["cycleEstimate"] is None
