"""The provisioning log poller against entrasim's provisioning service: cycles write the log, polls overlap
and split seconds, the operator restarts with the watermark from status, and the metrics count exactly
what the log holds; failures by reason; and the target's end: the guests the service changed, from the
target tenant's directory audit log."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from test_reconcile_syncscope import CYCLE, advance, converge

from ctsync.api import conditions
from ctsync.api.conditions import Health
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.graph import cts
from ctsync.metrics import Metrics
from ctsync.reconcile.provisioning import Watermark, poll_provisioning, read_new_events
from ctsync.reconcile.target_audit import WATERMARK_FIELD, poll_target_audit
from ctsync.reconcile.tenantpair import reconcile_tenant_pair
from entrasim.core.odata import QueryOptions
from entrasim.seed import load_seed
from support.sim import (
    CONTOSO,
    CTSYNC_APP,
    FABRIKAM,
    TENANTS,
    contoso_people,
    sync_scope_body,
    tenant_pair_body,
    two_tenant_seed,
)

NAMESPACE, NAME = "tenants", "contoso-to-fabrikam"
DOMAIN = TENANTS["contoso"][1]


@pytest.fixture
async def running(sim, pool):
    """A SyncScope whose started job provisions 20 of Contoso's 30 users: the source tenant and the status."""
    sim.call(lambda w: (w.reset(), load_seed(w, two_tenant_seed(**contoso_people(30, in_group=20)))))
    pair = TenantPair.from_body(tenant_pair_body(sim))
    assert (await reconcile_tenant_pair(pair, pool, {})).health is Health.READY
    outcome, status = await converge(SyncScope.from_body(sync_scope_body()), pair, pool)
    assert status.get("jobId"), outcome.message
    return (await pool.for_pair(pair)).source, status


def timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso).astimezone(UTC).timestamp()


def sim_now(sim) -> float:
    return sim.call(lambda w: w.clock.now())


def log_entries(sim) -> list[dict]:
    """Contoso's provisioning log in entrasim, entries as Graph returns them."""
    return sim.call(lambda w: [dict(e) for e in w.tenant(CONTOSO).audit.provisioning(QueryOptions())])


def logged(sim, job_id: str) -> Counter[tuple[str, str]]:
    """(action, status) of every entry of the job in the log."""
    entries = [e for e in log_entries(sim) if e["jobId"] == job_id]
    return Counter((e["provisioningAction"], e["provisioningStatusInfo"]["status"]) for e in entries)


def cts_group(w) -> str:
    return w.tenant(CONTOSO).directory.groups_named("CTS-Fabrikam")[0]["id"]


def totals(name: str, labels: tuple[str, ...], *instances: Metrics) -> Counter[tuple[str, ...]]:
    """The samples of a counter summed by the values of `labels`, over operator instances."""
    total: Counter[tuple[str, ...]] = Counter()
    for metrics in instances:
        for family in metrics.registry.collect():
            for sample in family.samples:
                if sample.name == name:
                    total[tuple(sample.labels[label] for label in labels)] += int(sample.value)
    return total


def counted(*instances: Metrics) -> Counter[tuple[str, ...]]:
    """(action, status) counts of ctsync_provisioning_events_total, summed over operator instances."""
    return totals("ctsync_provisioning_events_total", ("action", "status"), *instances)


async def poll(source, job_id: str, metrics: Metrics, mark: Watermark) -> Watermark:
    entries, mark = await read_new_events(source, job_id, mark)
    metrics.record_provisioning(NAMESPACE, NAME, entries)
    return mark


async def test_each_entry_is_counted_once_across_overlapping_polls_and_a_restart(sim, running, monkeypatch):
    source, status = running
    job_id = status["jobId"]
    monkeypatch.setattr(cts, "PROVISIONING_PAGE_SIZE", "4")  # several pages per read
    returned_by_graph: list[str] = []
    read = source.provisioning_events

    async def spy(job: str, since: str | None):  # type: ignore[no-untyped-def]
        async for page in read(job, since):
            returned_by_graph.extend(e["id"] for e in page)
            yield page

    monkeypatch.setattr(source, "provisioning_events", spy)

    first = Metrics()
    advance(sim, 30)  # the initial cycle is under way: some users created
    mark = await poll(source, job_id, first, Watermark())
    assert 0 < sum(counted(first).values()) < 20
    advance(sim, 2 * CYCLE)
    mark = await poll(source, job_id, first, mark)
    assert counted(first)["create", "success"] == 20

    # The operator restarts: all it keeps is the watermark in the SyncScope's status.
    stored = json.loads(json.dumps({"provisioningWatermark": mark.to_status()}))
    second, mark = Metrics(), Watermark.from_status(stored)

    # Ten users change; the next cycle exports their updates about two a second, and polls every quarter
    # second split those seconds and re-read them.
    def promote(w) -> None:
        for i in range(10):
            w.tenant(CONTOSO).directory.update_user(f"person{i:04d}@{DOMAIN}", {"jobTitle": "Boss"})

    sim.call(promote)
    job = await source.job(status["servicePrincipalId"], job_id)
    began = timestamp(job["status"]["lastExecution"]["timeBegan"])
    advance(sim, began + CYCLE - 1 - sim_now(sim))
    for _ in range(40):
        advance(sim, 0.25)
        mark = await poll(source, job_id, second, mark)
    advance(sim, CYCLE)
    mark = await poll(source, job_id, second, mark)

    assert counted(second)["update", "success"] == 10
    assert counted(first, second) == logged(sim, job_id)
    assert len(returned_by_graph) > len(set(returned_by_graph))  # the polls did overlap


async def test_a_failed_read_counts_nothing_and_the_next_poll_catches_up(sim, running, control):
    source, status = running
    metrics = Metrics()
    advance(sim, 2 * CYCLE)
    fault = {"path": "/auditLogs/provisioning", "method": "GET", "status": 500, "times": 1}
    control.post("/faults", json=fault)
    mark = await poll(source, status["jobId"], metrics, Watermark())
    assert mark == Watermark() and counted(metrics) == Counter()
    await poll(source, status["jobId"], metrics, mark)
    assert counted(metrics) == logged(sim, status["jobId"])


async def test_a_create_is_timed_from_when_ctsync_saw_its_user_enter_scope(sim, running):
    source, status = running
    metrics = Metrics(clock=lambda: sim_now(sim))
    newcomer = f"person0025@{DOMAIN}"
    advance(sim, 2 * CYCLE)

    def members(w) -> list[str]:  # what the SyncScope's scope audit reads
        return [u["id"] for u in w.tenant(CONTOSO).directory.direct_members(cts_group(w))]

    def add_newcomer(w) -> None:
        directory = w.tenant(CONTOSO).directory
        directory.add_member(cts_group(w), directory.get_user(newcomer)["id"])

    metrics.record_scope_members(NAMESPACE, NAME, sim.call(members))
    mark = await poll(source, status["jobId"], metrics, Watermark())
    sim.call(add_newcomer)
    advance(sim, 60)
    seen_at = sim_now(sim)
    metrics.record_scope_members(NAMESPACE, NAME, sim.call(members))
    advance(sim, CYCLE)
    await poll(source, status["jobId"], metrics, mark)

    creates = [e for e in log_entries(sim) if e["provisioningAction"] == "create"]
    times = {e["sourceIdentity"]["details"]["UserPrincipalName"]: e["activityDateTime"] for e in creates}
    times = {upn: timestamp(at) for upn, at in times.items()}
    newcomer_at = times.pop(newcomer)
    cycle_start = min(times.values())
    # The 20 creates of the initial cycle are timed from their cycle's first entry, the newcomer's from when
    # ctsync saw it in scope.
    expected = sum(t - cycle_start for t in times.values()) + newcomer_at - seen_at
    labels = {"namespace": NAMESPACE, "name": NAME, "path": "cycle", "action": "create"}
    histogram = "ctsync_change_to_target_seconds"
    assert metrics.registry.get_sample_value(f"{histogram}_count", labels) == 21
    assert metrics.registry.get_sample_value(f"{histogram}_sum", labels) == pytest.approx(expected, abs=0.01)
    assert newcomer_at - seen_at > 60  # it waited for the next cycle


async def test_a_pass_polls_through_its_pool_from_the_status_it_reported(sim, pool, running, secrets):
    _, status = running
    pair = TenantPair.from_body(tenant_pair_body(sim))
    advance(sim, 2 * CYCLE)
    entries, mark = await poll_provisioning(pool, pair, status)
    assert Counter((e.action, e.status) for e in entries) == logged(sim, status["jobId"])
    assert mark != Watermark.from_status(status)
    assert await poll_provisioning(pool, pair, {**status, "provisioningWatermark": mark.to_status()}) == ([], mark)
    assert await poll_provisioning(pool, pair, {}) is None  # no job yet: nothing to read
    await pool.forget(pair)
    del secrets["contoso-credentials"]
    assert await poll_provisioning(pool, pair, status) is None  # the pass's own outcome says what is wrong


async def test_failures_are_counted_by_the_reason_of_their_error_code(sim, pool, running, control):
    """A target that already holds one user's external UPN (a conflict the engine meets on its own) and
    refuses another user's invitation (injected): both fail at every cycle, each under its own reason."""
    _, status = running
    pair = TenantPair.from_body(tenant_pair_body(sim))
    taken = {"userPrincipalName": f"person0003_{DOMAIN}#EXT#@{TENANTS['fabrikam'][1]}", "displayName": "Squatter"}
    sim.call(lambda w: w.tenant(FABRIKAM).directory.create_user({**taken, "accountEnabled": True}))
    forbidden = {"tenant": CONTOSO, "user": f"person0004@{DOMAIN}", "code": "AzureActiveDirectoryForbidden"}
    assert control.post("/provisioning-faults", json=forbidden).status_code == 201
    metrics = Metrics()

    advance(sim, CYCLE + 60)  # the initial cycle and one incremental cycle retrying the escrows
    entries, _ = await poll_provisioning(pool, pair, status)
    metrics.record_provisioning(NAMESPACE, NAME, entries)

    codes = Counter(e.error_code for e in entries if e.status == "failure")
    assert codes == {"AzureActiveDirectoryConflict": 2, "AzureActiveDirectoryForbidden": 2}
    failures = totals("ctsync_provisioning_failures_total", ("reason",), metrics)
    assert failures == {("conflict_or_duplicate",): 2, ("invitations_blocked",): 2}
    assert counted(metrics)["create", "success"] == 18


def guest_changes(metrics: Metrics) -> Counter[tuple[str, ...]]:
    return totals("ctsync_target_guest_changes_total", ("operation",), metrics)


async def test_the_target_end_counts_the_guests_the_service_changed_there_once(sim, pool, running):
    _, status = running
    pair = TenantPair.from_body(tenant_pair_body(sim))
    metrics = Metrics()
    advance(sim, 120)  # the initial cycle creates the 20 guests, 3.6 s each
    polled = await poll_target_audit(pool, pair, status, 3)
    metrics.record_target_audit(NAMESPACE, NAME, polled.entries)
    assert guest_changes(metrics) == {("create",): 20}
    condition = polled.condition
    assert (condition.type, condition.status, condition.reason) == ("TargetAuditLog", "True", conditions.AUDIT_LOG_READ)

    def changes(w) -> None:
        directory = w.tenant(CONTOSO).directory
        for i in range(5):
            directory.update_user(f"person{i:04d}@{DOMAIN}", {"jobTitle": "Boss"})
        directory.remove_member(cts_group(w), directory.get_user(f"person0019@{DOMAIN}")["id"])

    sim.call(changes)
    advance(sim, CYCLE)
    status = {**status, WATERMARK_FIELD: polled.watermark.to_status()}
    polled = await poll_target_audit(pool, pair, status, 3)
    metrics.record_target_audit(NAMESPACE, NAME, polled.entries)
    assert guest_changes(metrics) == {("create",): 20, ("update",): 5, ("delete",): 1}
    status = {**status, WATERMARK_FIELD: polled.watermark.to_status()}
    assert (await poll_target_audit(pool, pair, status, 3)).entries == []  # nothing counted twice


async def test_without_audit_log_read_in_the_target_nothing_is_read_and_a_condition_says_so(
    sim, pool, running, control
):
    _, status = running
    pair = TenantPair.from_body(tenant_pair_body(sim))
    advance(sim, 60)
    sim.call(lambda w: w.tenant(FABRIKAM).identity.apps[CTSYNC_APP].roles.discard("AuditLog.Read.All"))
    await pool.forget(pair)  # a new token, without the permission
    since = control.get("/requests").json()["requests"][-1]["seq"]
    polled = await poll_target_audit(pool, pair, status, 3)
    assert polled.entries == [] and polled.watermark == Watermark()
    condition = polled.condition
    assert (condition.status, condition.reason) == ("Unknown", conditions.AUDIT_LOG_READ_DENIED)
    assert "target tenant: AuditLog.Read.All is not granted" in condition.message
    requests = control.get("/requests", params={"since": since}).json()["requests"]
    assert not [r for r in requests if "directoryAudits" in r["path"]]
    assert await poll_target_audit(pool, pair, {}, 3) is None  # no job yet: nothing to read
