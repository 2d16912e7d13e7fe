"""The SyncScope reconciler against the emulated tenants and provisioning service."""

from __future__ import annotations

import asyncio

import pytest

from ctsync.api import conditions
from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.conditions import Health
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.graph import cts
from ctsync.planning.scoping import Filter
from ctsync.reconcile import permissions
from ctsync.reconcile.attributemapping import reconcile_attribute_mapping
from ctsync.reconcile.connections import ClientPool
from ctsync.reconcile.converge import converge as run_passes
from ctsync.reconcile.links import LinkCache
from ctsync.reconcile.provisioning import poll_provisioning
from ctsync.reconcile.scope import ScopeReader, count_in_target
from ctsync.reconcile.syncscope import finalize_sync_scope, reconcile_sync_scope
from ctsync.reconcile.tenantpair import reconcile_tenant_pair
from entrasim.core.profile import Profile
from entrasim.seed import load_seed
from support.sim import (
    CONTOSO,
    CTSYNC_APP,
    FABRIKAM,
    TENANTS,
    attribute_mapping_body,
    contoso_people,
    credentials_secrets,
    start_sim,
    sync_scope_body,
    tenant_pair_body,
    two_tenant_seed,
)

CYCLE = 40 * 60


@pytest.fixture
def people(sim):
    def reseed(world):
        world.reset()
        load_seed(world, two_tenant_seed(**contoso_people(30, in_group=20)))

    sim.call(reseed)


@pytest.fixture
async def pair(sim, pool, people):
    pair = TenantPair.from_body(tenant_pair_body(sim, deletionPolicy="Delete"))
    assert (await reconcile_tenant_pair(pair, pool, {})).health is Health.READY
    return pair


async def converge(scope, pair, pool, mappings=(), status=None):
    """Passes as the operator runs them; the last outcome, and the status it would write."""
    status = dict(status or {})
    converged = await run_passes(
        lambda seen: reconcile_sync_scope(scope, pair, True, mappings, pool, seen), status, scope.generation
    )
    outcome = converged.outcome
    if outcome.health is Health.READY:
        status.update(outcome.status, observedGeneration=outcome.observed_generation)
    return outcome, status


def advance(sim, seconds: float) -> None:
    sim.call(lambda w: (w.clock.advance(seconds), w.tick()))


def fabrikam_users(sim):
    return sim.call(lambda w: [dict(u) for u in w.tenant(FABRIKAM).directory.users.values()])


def requests(control, method: str, suffix: str) -> int:
    return sum(
        1
        for r in control.get("/requests").json()["requests"]
        if r["method"] == method and (r["route"] or "").endswith(suffix)
    )


async def test_configuration_job_and_scope_are_created_then_users_arrive(sim, pool, pair, control):
    scope = SyncScope.from_body(sync_scope_body())
    mapping = AttributeMapping.from_body(attribute_mapping_body())
    outcome, status = await converge(scope, pair, pool, [mapping])
    assert outcome.health is Health.READY, outcome.message
    assert outcome.plan.empty
    assert status["scopeSize"] == 20 and status["jobCode"] in ("NotRun", "Active")
    assert requests(control, "POST", "/instantiate") == 1
    assert requests(control, "PUT", "/schema") == 1

    advance(sim, 2 * CYCLE)
    outcome, status = await converge(scope, pair, pool, [mapping], status)
    assert status["syncedUsers"] == 20 and status["missingUsers"] == 0
    assert next(c for c in outcome.conditions if c.type == conditions.SYNCED).status == "True"
    synced = [u for u in fabrikam_users(sim) if "#EXT#" in u["userPrincipalName"]]
    assert len(synced) == 20 and all(u.get("companyName") == "Contoso (Synced)" for u in synced)
    assert all(u.get("employeeId") is None for u in synced)
    assert reconcile_attribute_mapping(mapping, status).health is Health.READY


async def test_converged_scope_writes_nothing(sim, pool, pair, control):
    scope = SyncScope.from_body(sync_scope_body())
    _, status = await converge(scope, pair, pool)
    control.delete("/requests")
    outcome = await reconcile_sync_scope(scope, pair, True, [], pool, status)
    assert outcome.plan.empty
    assert [r for r in control.get("/requests").json()["requests"] if r["method"] != "GET"] == []


async def test_waits_for_its_pair(sim, pool, pair):
    outcome = await reconcile_sync_scope(SyncScope.from_body(sync_scope_body()), pair, False, [], pool, {})
    assert outcome.health is Health.RECONCILING and outcome.reason == conditions.DEPENDENCY_NOT_READY


async def test_ambiguous_group_name_stalls_naming_both(sim, pool, pair):
    sim.call(
        lambda w: w.tenant(CONTOSO).directory.create_group(
            {
                "displayName": "CTS-Fabrikam",
                "mailEnabled": False,
                "mailNickname": "dup",
                "securityEnabled": True,
            }
        )
    )
    outcome = await reconcile_sync_scope(SyncScope.from_body(sync_scope_body()), pair, True, [], pool, {})
    assert outcome.health is Health.STALLED and outcome.reason == conditions.AMBIGUOUS_REFERENCE
    assert "2 groups" in outcome.message


async def test_scope_shrink_is_blocked_until_acknowledged(sim, pool, pair):
    _, status = await converge(SyncScope.from_body(sync_scope_body()), pair, pool)
    sim.call(
        lambda w: w.tenant(CONTOSO).directory.create_group(
            {"displayName": "Small", "mailEnabled": False, "mailNickname": "small", "securityEnabled": True}
        )
    )
    narrowed = sync_scope_body(generation=2, scope={"syncAll": False, "groups": [{"displayName": "Small"}]})
    outcome = await reconcile_sync_scope(SyncScope.from_body(narrowed), pair, True, [], pool, status)
    assert outcome.health is Health.STALLED and outcome.reason == conditions.SCOPE_SHRINK_BLOCKED
    assert "20 of 20 users in scope (100%) would leave it" in outcome.message  # no cycle has run: none synced
    acknowledged = dict(
        narrowed, metadata={**narrowed["metadata"], "annotations": {"ctsync.io/acknowledge-shrink": "2"}}
    )
    outcome, _ = await converge(SyncScope.from_body(acknowledged), pair, pool, status=status)
    assert outcome.health is Health.READY


async def test_a_failed_read_never_removes_assignments(sim, pool, pair, control):
    _, status = await converge(SyncScope.from_body(sync_scope_body()), pair, pool)
    control.post("/faults", json={"path": "/appRoleAssignedTo$", "method": "GET", "status": 500})
    other = sync_scope_body(generation=2, scope={"syncAll": True})
    outcome = await reconcile_sync_scope(SyncScope.from_body(other), pair, True, [], pool, status)
    assert outcome.health is Health.RECONCILING
    assert requests(control, "DELETE", "/appRoleAssignedTo/{id}") == 0


def revoke(sim, tenant_id: str, *roles: str) -> None:
    sim.call(lambda w: w.tenant(tenant_id).identity.apps[CTSYNC_APP].roles.difference_update(roles))


@pytest.mark.parametrize(
    ("tenant_id", "revoked", "named"),
    [
        # The scope audit reads the target's users.
        (
            FABRIKAM,
            ("User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"),
            "target tenant: the app registration needs User.Read.All or Directory.Read.All",
        ),
        # The provisioning log, read after each pass.
        (CONTOSO, ("AuditLog.Read.All",), "source tenant: the app registration needs AuditLog.Read.All"),
    ],
)
async def test_a_missing_permission_stalls_before_any_write_naming_it_and_the_tenant(
    sim, pool, pair, control, tenant_id, revoked, named
):
    revoke(sim, tenant_id, *revoked)
    await pool.forget(pair)  # a new token carries the roles as they are now
    control.delete("/requests")
    outcome = await reconcile_sync_scope(SyncScope.from_body(sync_scope_body()), pair, True, [], pool, {})
    assert outcome.health is Health.STALLED and outcome.reason == conditions.PERMISSION_MISSING
    assert named in outcome.message
    assert [r for r in control.get("/requests").json()["requests"] if r["method"] != "GET"] == []


async def test_the_least_privileged_permissions_of_the_table_are_enough(sim, pool, people):
    needs = [permissions.TENANT_PAIR["Manage"], permissions.SYNC_SCOPE]
    least = {role: {n.alternatives[0] for kind in needs for n in kind.get(role, ())} for role in ("source", "target")}
    for tenant_id, role in ((CONTOSO, "source"), (FABRIKAM, "target")):
        sim.call(lambda w, t=tenant_id, r=role: setattr(w.tenant(t).identity.apps[CTSYNC_APP], "roles", set(least[r])))
    assert "Application.ReadWrite.All" not in least["source"] and "Directory.Read.All" not in least["target"]
    pair = TenantPair.from_body(tenant_pair_body(sim, deletionPolicy="Delete"))
    assert (await reconcile_tenant_pair(pair, pool, {})).health is Health.READY
    scope = SyncScope.from_body(sync_scope_body())
    outcome, status = await converge(scope, pair, pool)
    assert outcome.health is Health.READY, outcome.message
    advance(sim, 2 * CYCLE)
    outcome, status = await converge(scope, pair, pool, status=status)
    assert outcome.health is Health.READY, outcome.message
    assert status["syncedUsers"] == 20
    entries, _ = await poll_provisioning(pool, pair, status)
    assert entries


async def test_deletion_with_delete_policy_removes_the_configuration_not_the_users(sim, pool, pair):
    scope = SyncScope.from_body(sync_scope_body())
    _, status = await converge(scope, pair, pool)
    advance(sim, 2 * CYCLE)
    before = len(fabrikam_users(sim))
    events = await finalize_sync_scope(scope, pair, pool, status)
    assert [e.reason for e in events] == ["Deleted"]
    assert sim.call(lambda w: w.tenant(CONTOSO).applications.list_service_principals()) == []
    assert len(fabrikam_users(sim)) == before


async def test_a_converged_pass_without_audit_stays_within_its_request_budget(sim, pool, pair, control):
    scope = SyncScope.from_body(sync_scope_body())
    _, status = await converge(scope, pair, pool)
    control.delete("/requests")
    outcome = await reconcile_sync_scope(scope, pair, True, [], pool, status, audit=False)
    assert outcome.plan.empty and outcome.status.get("scopeSize") is None
    graph_calls = [r for r in control.get("/requests").json()["requests"] if r["path"].startswith("/")]
    assert len(graph_calls) <= 12, [r["route"] for r in graph_calls]


def test_two_mappings_claiming_one_target_are_both_stalled():
    first = AttributeMapping.from_body(attribute_mapping_body(name="first"))
    second = AttributeMapping.from_body(attribute_mapping_body(name="second"))  # also maps jobTitle
    third = AttributeMapping.from_body(
        attribute_mapping_body(name="third", mappings=[{"target": "department", "source": "[department]"}])
    )
    siblings = [first, second, third]
    for mapping in (first, second):
        outcome = reconcile_attribute_mapping(mapping, {}, siblings)
        assert outcome.health is Health.STALLED and outcome.reason == conditions.MAPPING_CONFLICT
    assert reconcile_attribute_mapping(third, {}, siblings).reason == conditions.DEPENDENCY_NOT_READY


def writes(control) -> list[str]:
    return [f"{r['method']} {r['route']}" for r in control.get("/requests").json()["requests"] if r["method"] != "GET"]


@pytest.mark.parametrize(
    ("pair_spec", "scope_spec", "reason"),
    [
        ({"managementPolicy": "Observe"}, {}, conditions.PAIR_OBSERVED),
        ({"suspend": True}, {}, conditions.PAIR_SUSPENDED),
        ({}, {"managementPolicy": "Observe"}, conditions.OBSERVED),
    ],
    ids=["pair-observe", "pair-suspended", "scope-observe"],
)
async def test_held_writes_plan_and_report_but_write_nothing(sim, pool, pair, control, pair_spec, scope_spec, reason):
    """A Ready pair in Observe or suspended, or a SyncScope in Observe: the configuration is planned and shown
    as drift with the reason writes are held, and nothing reaches Graph."""
    held_pair = TenantPair.from_body(tenant_pair_body(sim, deletionPolicy="Delete", **pair_spec))
    scope = SyncScope.from_body(sync_scope_body(**scope_spec))
    control.delete("/requests")

    outcome, _ = await converge(scope, held_pair, pool, [AttributeMapping.from_body(attribute_mapping_body())])

    assert writes(control) == []
    assert outcome.health is Health.READY and outcome.reason == reason
    assert outcome.plan.empty and outcome.held.actions[0].step == "source.configuration"
    by_type = {c.type: c for c in outcome.all_conditions()}
    assert by_type[conditions.WRITES_ALLOWED].status == "False"
    assert by_type[conditions.WRITES_ALLOWED].reason == reason
    assert by_type[conditions.DRIFTED].status == "True"
    assert "Sync to Fabrikam" in by_type[conditions.DRIFTED].message
    assert outcome.status["appliedMappings"] == []  # no schema was written for the mapping


async def test_an_observed_mapping_holds_only_the_job_schema(sim, pool, pair, control):
    scope = SyncScope.from_body(sync_scope_body())
    observed = AttributeMapping.from_body(attribute_mapping_body(managementPolicy="Observe"))
    outcome, status = await converge(scope, pair, pool, [observed])
    assert outcome.health is Health.READY, outcome.message
    assert requests(control, "POST", "/instantiate") == 1 and requests(control, "PUT", "/schema") == 0
    assert [a.step for a in outcome.held.actions] == ["source.schema"]
    writes_allowed = next(c for c in outcome.conditions if c.type == conditions.WRITES_ALLOWED)
    assert writes_allowed.reason == conditions.MAPPING_OBSERVED and observed.name in writes_allowed.message
    scope_status = {**status, "conditions": [c.to_dict() for c in outcome.all_conditions()]}
    mapping_outcome = reconcile_attribute_mapping(observed, scope_status)
    assert mapping_outcome.health is Health.READY and mapping_outcome.reason == conditions.OBSERVED
    assert next(c for c in mapping_outcome.conditions if c.type == conditions.DRIFTED).status == "True"


@pytest.fixture
def flaky_sim(tmp_path):
    """Graph answering one request in ten with a transient 503 or 504 (a third of them with Retry-After),
    and nothing else of production: the errors are the point."""
    server = start_sim(tmp_path / "flaky", profile=Profile("flaky", transient_error_rate=0.1), random_seed=3)
    server.call(lambda w: (w.reset(), load_seed(w, two_tenant_seed(**contoso_people(30, in_group=20)))))
    yield server
    server.stop()


async def test_transient_503s_and_504s_converge_without_duplicates(flaky_sim):
    sim = flaky_sim
    secrets = credentials_secrets(sim)

    async def read_secret(namespace: str, name: str):
        return secrets.get(name)

    statuses: list[int] = []
    pool = ClientPool(read_secret, observer=lambda role, method, route, status, seconds: statuses.append(status))
    try:
        await converge_through_transient_errors(sim, pool)
    finally:
        await pool.close()
    assert sum(1 for status in statuses if status in (503, 504)) >= 3  # the errors did happen


async def converge_through_transient_errors(sim, pool):
    pair = TenantPair.from_body(tenant_pair_body(sim, deletionPolicy="Delete"))
    scope = SyncScope.from_body(sync_scope_body())
    scope_outcome = None
    status: dict = {}
    for _ in range(12):  # each pass is the operator's next attempt, after the wait an outcome asks for
        outcome = await reconcile_tenant_pair(pair, pool, {})
        if outcome.health is Health.READY:
            outcome = scope_outcome = await reconcile_sync_scope(scope, pair, True, [], pool, status)
        if outcome.health is Health.READY:
            status.update(outcome.status, observedGeneration=outcome.observed_generation)
            if outcome.plan.empty:
                break
        await asyncio.sleep(min(outcome.retry_after or 0, 5))
    assert scope_outcome is not None and scope_outcome.health is Health.READY, outcome
    assert scope_outcome.plan.empty
    sps = sim.call(lambda w: [dict(sp) for sp in w.tenant(CONTOSO).applications.service_principals.values()])
    configurations = [sp for sp in sps if sp.get("displayName") == scope.configuration_name]
    assert len(configurations) == 1, configurations
    jobs = sim.call(lambda w: len(w.tenant(CONTOSO).synchronization.jobs(configurations[0]["id"])))
    assert jobs == 1


async def test_a_misspelt_attribute_stalls_its_mapping_and_holds_the_scope_before_any_write(sim, pool, pair, control):
    mappings = [
        {"target": "jobTitle", "source": "[jobTitle]"},
        {"target": "companyName", "source": '"Contoso (Synced)"'},
        {"target": "department", "source": "[departmnt]"},
    ]
    mapping = AttributeMapping.from_body(attribute_mapping_body(mappings=mappings))
    outcome = reconcile_attribute_mapping(mapping, {})
    assert outcome.health is Health.STALLED and outcome.reason == conditions.INVALID_SPEC
    assert outcome.message.startswith("spec.mappings[2].source: 'departmnt' is not a source user attribute")
    assert "did you mean department?" in outcome.message
    control.delete("/requests")
    scope = SyncScope.from_body(sync_scope_body())
    outcome = await reconcile_sync_scope(scope, pair, True, [mapping], pool, {})
    assert outcome.health is not Health.READY and "spec.mappings[2].source" in outcome.message
    assert writes(control) == []


async def test_the_live_job_schema_decides_which_attributes_exist(sim, pool, pair, control):
    scope = SyncScope.from_body(sync_scope_body())
    _, status = await converge(scope, pair, pool, [AttributeMapping.from_body(attribute_mapping_body())])
    # manager is in the template's attribute list but not in this tenant's job schema.
    manager = AttributeMapping.from_body(
        attribute_mapping_body(mappings=[{"target": "manager", "source": "[manager]"}])
    )
    assert reconcile_attribute_mapping(manager, {}).reason != conditions.INVALID_SPEC
    control.delete("/requests")
    outcome = await reconcile_sync_scope(scope, pair, True, [manager], pool, status)
    assert outcome.reason == conditions.DEPENDENCY_NOT_READY
    assert "spec.mappings[0].target: 'manager' is not a target user attribute of the job's schema" in outcome.message
    assert writes(control) == []


def job_mappings(sim) -> dict[str, str]:
    """Target attribute name -> source expression of the Contoso job's user mappings, as the service holds them."""

    def read(world) -> dict[str, str]:
        tenant = world.tenant(CONTOSO)
        (job,) = (job for config in tenant.synchronization.configs.values() for job in config.jobs.values())
        (rule,) = job.schema["synchronizationRules"]
        return {
            m["targetAttributeName"]: m["source"]["expression"] for m in rule["objectMappings"][0]["attributeMappings"]
        }

    return sim.call(read)


async def test_mapping_names_are_written_in_the_schemas_spelling(sim, pool, pair):
    # Names compare case-insensitively in ctsync, but the service holds a schema PUT to the exact spelling.
    mappings = [
        {"target": "Department", "source": "[JobTitle]"},
        {"target": "EmployeeType", "source": "[UserType]"},  # not mapped by the template: a new mapping
    ]
    mapping = AttributeMapping.from_body(attribute_mapping_body(mappings=mappings))
    outcome, _ = await converge(SyncScope.from_body(sync_scope_body()), pair, pool, [mapping])
    assert outcome.health is Health.READY, outcome.message
    written = job_mappings(sim)
    assert written["department"] == "[jobTitle]" and written["employeeType"] == "[userType]"
    assert not {"Department", "EmployeeType"} & set(written)


async def test_status_shows_the_upn_synced_users_get_in_the_target(sim, pool, pair):
    scope = SyncScope.from_body(sync_scope_body())
    _, status = await converge(scope, pair, pool)
    assert "upnSample" not in status  # the target has no external user to read its initial domain from yet
    advance(sim, 2 * CYCLE)
    _, status = await converge(scope, pair, pool, status=status)
    sample = status["upnSample"]
    assert len(sample) == 3
    synced = {u["userPrincipalName"] for u in fabrikam_users(sim)}
    for entry in sample:
        assert entry["target"] == entry["source"].replace("@", "_") + "#EXT#@fabrikam.onmicrosoft.com"
        assert entry["target"] in synced


def log_pages(control) -> int:
    return sum(1 for r in control.get("/requests").json()["requests"] if r["route"] == "/auditLogs/provisioning")


async def audited(scope, pair, pool, status, links):
    outcome = await reconcile_sync_scope(scope, pair, True, [], pool, status, audit=True, links=links)
    return outcome.status


async def test_an_audit_reads_only_the_log_the_last_one_did_not(sim, pool, pair, control, monkeypatch) -> None:
    """The operator keeps the links between audits: the next audit reads what the log gained, not all of it,
    and still counts everyone."""
    monkeypatch.setattr(cts, "PROVISIONING_PAGE_SIZE", "5")  # pages count the entries read
    scope = SyncScope.from_body(sync_scope_body())
    _, status = await converge(scope, pair, pool)
    advance(sim, 2 * CYCLE)
    links = LinkCache()
    first = await audited(scope, pair, pool, status, links)
    assert first["syncedUsers"] == 20

    def add_newcomers(w) -> None:
        directory = w.tenant(CONTOSO).directory
        group = directory.groups_named("CTS-Fabrikam")[0]["id"]
        for i in (20, 21):
            directory.add_member(group, directory.get_user(f"person{i:04d}@{TENANTS['contoso'][1]}")["id"])

    sim.call(add_newcomers)
    advance(sim, 2 * CYCLE)
    control.delete("/requests")
    second = await audited(scope, pair, pool, status, links)
    assert (second["scopeSize"], second["syncedUsers"], second["missingUsers"]) == (22, 22, 0)
    incremental = log_pages(control)

    control.delete("/requests")
    again = await audited(scope, pair, pool, status, LinkCache())  # a fresh cache, as after a restart
    assert again["syncedUsers"] == 22
    whole = log_pages(control)
    assert 1 <= incremental < whole / 3, (incremental, whole)


async def test_target_users_no_log_entry_names_are_counted_by_their_external_names(sim, pool, pair) -> None:
    """As once the log's entries aged out: the audit reads the target page by page and matches the users no
    link names to the scope by the external name the service gave them; one from the source's domain that
    no user in scope has is an orphan."""
    scope = SyncScope.from_body(sync_scope_body())
    _, status = await converge(scope, pair, pool)
    advance(sim, 2 * CYCLE)

    def disable_one(w) -> str:
        user = next(u for u in w.tenant(FABRIKAM).directory.users.values() if "#EXT#" in u["userPrincipalName"])
        user["accountEnabled"] = False
        return str(user["userPrincipalName"]).split("_")[0]

    disabled_name = sim.call(disable_one)
    clients = await pool.for_pair(pair)
    in_scope = await ScopeReader(clients.source).in_scope(status["assignments"], Filter())
    domains = [TENANTS["contoso"][1]]
    counts = await count_in_target(in_scope, domains, clients.target, {})
    assert (counts.synced, counts.synced_disabled, counts.missing, counts.orphans) == (20, 1, 0, 0)

    narrower = {uid: u for uid, u in in_scope.items() if not u["userPrincipalName"].startswith(disabled_name)}
    for_two = dict(list(narrower.items())[:2])
    some_links = {t["id"]: s for t, s in zip(linked_target_users(sim, for_two), for_two, strict=True)}
    counts = await count_in_target(narrower, domains, clients.target, some_links)
    assert (counts.synced, counts.synced_disabled, counts.missing, counts.orphans) == (19, 0, 0, 1)


def linked_target_users(sim, users) -> list[dict]:
    """The target users the service made of these source users, found by their external names."""
    by_name = {u["userPrincipalName"].lower(): u for u in fabrikam_users(sim)}
    return [
        by_name[u["userPrincipalName"].replace("@", "_").lower() + "#ext#@fabrikam.onmicrosoft.com"]
        for u in users.values()
    ]
