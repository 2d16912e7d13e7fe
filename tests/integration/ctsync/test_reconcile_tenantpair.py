"""The TenantPair reconciler against both emulated tenants, through ctsync's real Graph client."""

from __future__ import annotations

from ctsync.api import conditions
from ctsync.api.conditions import Health
from ctsync.api.tenantpair import TenantPair
from ctsync.reconcile.tenantpair import finalize_tenant_pair, reconcile_tenant_pair
from support.sim import CONTOSO, CTSYNC_APP, FABRIKAM, tenant_pair_body

PARTNER_KEYS = ("inboundTrust", "automaticUserConsentSettings")


def tenant_state(sim, tenant_id: str, partner_id: str):
    def read(world):
        policies = world.tenant(tenant_id).policies
        return policies.partner(partner_id), policies.identity_sync(partner_id)

    return sim.call(read)


def condition(outcome, type_: str):
    return next(c for c in outcome.all_conditions() if c.type == type_)


async def test_fresh_tenants_are_configured_in_order_then_converged(sim, pool, control):
    pair = TenantPair.from_body(tenant_pair_body(sim))
    outcome = await reconcile_tenant_pair(pair, pool, {})
    assert outcome.health is Health.READY, outcome.message
    target_partner, identity_sync = tenant_state(sim, FABRIKAM, CONTOSO)
    assert target_partner["inboundTrust"]["isMfaAccepted"] is True
    assert target_partner["automaticUserConsentSettings"]["inboundAllowed"] is True
    assert identity_sync["userSyncInbound"]["isSyncAllowed"] is True
    source_partner, _ = tenant_state(sim, CONTOSO, FABRIKAM)
    assert source_partner["automaticUserConsentSettings"]["outboundAllowed"] is True
    created = outcome.status.pop("pendingCreates")
    assert outcome.status == {
        "targetPartnerCreated": True,
        "identitySyncCreated": True,
        "sourcePartnerCreated": True,
    }
    # Until a read shows them, the creates are recorded with what Graph returned (partners: the tenant id).
    assert [(c["step"], c["id"]) for c in created] == [
        ("target.partner", CONTOSO),
        ("target.identitySync", CONTOSO),
        ("source.partner", FABRIKAM),
    ]
    assert [e.reason for e in outcome.events] == ["Created", "Updated", "Created", "Created", "Updated"]

    control.delete("/requests")
    again = await reconcile_tenant_pair(
        pair, pool, {**outcome.status, "pendingCreates": created, "observedGeneration": 1}
    )
    assert again.plan.empty and again.events == []
    assert again.status == {"pendingCreates": None}  # each shown by the read: no longer pending
    writes = [r for r in control.get("/requests").json()["requests"] if r["method"] != "GET"]
    assert writes == []


async def test_drift_behind_the_operator_is_detected_and_corrected(sim, pool):
    pair = TenantPair.from_body(tenant_pair_body(sim))
    await reconcile_tenant_pair(pair, pool, {})
    sim.call(
        lambda w: w.tenant(FABRIKAM).policies.identity_sync(CONTOSO)["userSyncInbound"].update(isSyncAllowed=False)
    )
    outcome = await reconcile_tenant_pair(pair, pool, {"observedGeneration": 1})
    assert outcome.drift_corrected and "isSyncAllowed" in outcome.drift[0]
    assert outcome.events[0].reason == "DriftCorrected"
    assert tenant_state(sim, FABRIKAM, CONTOSO)[1]["userSyncInbound"]["isSyncAllowed"] is True


async def test_observe_reports_drift_and_writes_nothing(sim, pool, control):
    pair = TenantPair.from_body(tenant_pair_body(sim, managementPolicy="Observe"))
    outcome = await reconcile_tenant_pair(pair, pool, {"observedGeneration": 1})
    assert outcome.reason == conditions.OBSERVED
    assert condition(outcome, conditions.DRIFTED).status == "True"
    assert condition(outcome, conditions.TARGET_CONFIGURED).status == "False"
    assert all(r["method"] == "GET" for r in control.get("/requests").json()["requests"] if r["path"].startswith("/"))
    assert tenant_state(sim, FABRIKAM, CONTOSO) == (None, None)


async def test_missing_permission_stalls_naming_it_before_any_write(sim, pool, control):
    sim.call(lambda w: w.tenant(FABRIKAM).identity.apps[CTSYNC_APP].roles.discard("Policy.ReadWrite.CrossTenantAccess"))
    pair = TenantPair.from_body(tenant_pair_body(sim))
    outcome = await reconcile_tenant_pair(pair, pool, {})
    assert outcome.health is Health.STALLED and outcome.reason == conditions.PERMISSION_MISSING
    assert "target tenant" in outcome.message and "Policy.ReadWrite.CrossTenantAccess" in outcome.message
    assert condition(outcome, conditions.CREDENTIALS_VALID).status == "False"
    assert not [r for r in control.get("/requests").json()["requests"] if r["method"] != "GET"]


async def test_wrong_secret_stalls_with_authentication_failed_and_no_secret_in_text(sim, pool, secrets):
    secrets["fabrikam-credentials"]["clientSecret"] = "wrong-secret-value-123"
    outcome = await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim)), pool, {})
    assert outcome.reason == conditions.AUTHENTICATION_FAILED and outcome.health is Health.STALLED
    assert "wrong-secret-value-123" not in repr(outcome)


async def test_missing_secret_is_waited_for(sim, pool, secrets):
    del secrets["contoso-credentials"]
    outcome = await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim)), pool, {})
    assert outcome.health is Health.RECONCILING and outcome.reason == conditions.DEPENDENCY_NOT_READY
    assert outcome.retry_after


async def test_invalid_spec_stalls_with_the_field_and_no_graph_call(sim, pool, control):
    body = tenant_pair_body(sim)
    body["spec"]["target"]["tenantId"] = CONTOSO
    outcome = await reconcile_tenant_pair(TenantPair.from_body(body), pool, {})
    assert outcome.reason == conditions.INVALID_SPEC and "spec.target.tenantId" in outcome.message
    assert control.get("/requests").json()["requests"] == []


async def test_long_throttling_becomes_a_retry_after(sim, pool, control):
    control.post("/faults", json={"path": "/partners/", "status": 429, "retryAfter": 90, "times": 1})
    outcome = await reconcile_tenant_pair(TenantPair.from_body(tenant_pair_body(sim)), pool, {})
    assert outcome.reason == conditions.THROTTLED and outcome.retry_after == 90


async def test_delete_policy_removes_what_ctsync_created_sync_before_partner(sim, pool, control):
    pair = TenantPair.from_body(tenant_pair_body(sim, deletionPolicy="Delete"))
    first = await reconcile_tenant_pair(pair, pool, {})
    control.delete("/requests")
    events = await finalize_tenant_pair(pair, pool, first.status)
    assert [e.reason for e in events] == ["Deleted", "Deleted", "Deleted"]
    deletes = [r["route"] for r in control.get("/requests").json()["requests"] if r["method"] == "DELETE"]
    assert deletes[0].endswith("/identitySynchronization")
    assert tenant_state(sim, FABRIKAM, CONTOSO) == (None, None)


async def test_orphan_policy_leaves_the_tenants_alone(sim, pool):
    pair = TenantPair.from_body(tenant_pair_body(sim))
    first = await reconcile_tenant_pair(pair, pool, {})
    assert await finalize_tenant_pair(pair, pool, first.status) == []
    assert tenant_state(sim, FABRIKAM, CONTOSO)[0] is not None


async def test_deleting_one_direction_of_a_two_way_pair_leaves_the_other_working(sim, pool):
    forward = TenantPair.from_body(tenant_pair_body(sim, deletionPolicy="Delete"))
    reverse_body = tenant_pair_body(sim, name="fabrikam-to-contoso", deletionPolicy="Delete")
    reverse_body["spec"]["source"], reverse_body["spec"]["target"] = (
        reverse_body["spec"]["target"],
        reverse_body["spec"]["source"],
    )
    reverse = TenantPair.from_body(reverse_body)
    created = (await reconcile_tenant_pair(forward, pool, {})).status
    reverse_status = (await reconcile_tenant_pair(reverse, pool, {})).status
    assert {k: v for k, v in reverse_status.items() if k != "pendingCreates"} == {"identitySyncCreated": True}

    events = await finalize_tenant_pair(forward, pool, created)
    assert [e.reason for e in events] == ["Deleted", "Updated", "Updated"]
    again = await reconcile_tenant_pair(reverse, pool, {"observedGeneration": 1})
    assert again.plan.empty, again.plan.render()  # the reverse direction kept everything it needs
    target_partner, forward_sync = tenant_state(sim, FABRIKAM, CONTOSO)
    assert forward_sync is None and target_partner["automaticUserConsentSettings"]["inboundAllowed"] is None
