"""`ctsync operator` against a real API server and entrasim, held to its reliability promises: a crash between any
two Graph writes converges on restart without duplicates; secret values never leave their Secrets; a long
Retry-After blocks neither other resources nor the liveness probe; a failed read never deprovisions anyone.
(An invalid spec stalling without a Graph write is in test_operator_lifecycle.py.)

entrasim runs its production profile here (seeded): a new object reaches Graph's other replicas only after up to
15 simulated seconds, answers take tens of milliseconds, and a few requests fail with a transient 503 or 504."""

from __future__ import annotations

import base64
import json
import re
import secrets
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from kubernetes import client

from e2e.operator_fixtures import (
    CYCLE,
    DRIFT_INTERVAL,
    GROUP,
    PAIR,
    VERSION,
    Kube,
    OperatorProcess,
    Sim,
    apply_pair,
    apply_scope_and_mapping,
    contoso_group_id,
    example,
    guests,
    serve_entrasim,
    tenant_pair,
    wait_until,
)
from entrasim.applications.models import CTS_TEMPLATE_ID
from support.sim import CONTOSO, CTSYNC_APP, FABRIKAM, contoso_people, two_tenant_seed

pytestmark = pytest.mark.e2e

Write = tuple[str, str, str]  # (tenant id, method, route template) of a Graph request that is not a GET
PARTNERS = "/policies/crossTenantAccessPolicy/partners"
SP = "/servicePrincipals/{id}"
SYNC = f"{SP}/synchronization"
# The Graph writes a fresh TenantPair + SyncScope + AttributeMapping make, in order: the target's side of the
# pair, the source's, then the configuration. Learnt from a clean run; test_a_clean_run_makes_these_writes
# keeps it true.
WRITES: list[Write] = [
    (FABRIKAM, "POST", PARTNERS),
    (FABRIKAM, "PATCH", f"{PARTNERS}/{{tenantId}}"),
    (FABRIKAM, "PUT", f"{PARTNERS}/{{tenantId}}/identitySynchronization"),
    (CONTOSO, "POST", PARTNERS),
    (CONTOSO, "PATCH", f"{PARTNERS}/{{tenantId}}"),
    (CONTOSO, "POST", "/applicationTemplates/{id}/instantiate"),
    (CONTOSO, "PATCH", SP),  # the owner tag
    (CONTOSO, "PUT", f"{SYNC}/secrets"),
    (CONTOSO, "POST", f"{SYNC}/jobs/validateCredentials"),
    (CONTOSO, "POST", f"{SYNC}/jobs"),
    (CONTOSO, "POST", f"{SP}/appRoleAssignedTo"),
    (CONTOSO, "PUT", f"{SYNC}/jobs/{{jobId}}/schema"),
    (CONTOSO, "POST", f"{SYNC}/jobs/{{jobId}}/start"),
]
HOLD_SECONDS = 2.0  # a held write waits this long, then its connection is dropped unanswered
# Contoso's read of its partner policy for Fabrikam. Faults match paths, not tenants: Fabrikam reads
# /partners/<Contoso>, so this fault holds the source side of the Contoso -> Fabrikam pair only.
SOURCE_PARTNER_READ = {"method": "GET", "path": f"^/v1.0{PARTNERS}/{FABRIKAM}$"}
SYNC_USER = "person0003"  # in no group: in scope only when assigned directly (contoso_people(5, in_group=3))
ACKNOWLEDGE_SHRINK = "ctsync.io/acknowledge-shrink"
RANDOM_SEED = "7"
REPLICATED = 20  # simulated seconds: more than the profile's longest replication delay (15 s)


@pytest.fixture
def entrasim(tmp_path: Path) -> Iterator[Sim]:
    """The `entrasim` fixture on the production profile."""
    yield from serve_entrasim(tmp_path, "--profile", "production", "--random-seed", RANDOM_SEED)


def configure(sim: Sim, **settings: Any) -> None:
    """Changes profile knobs of the running emulator (POST /_entrasim/config)."""
    sim.control("POST", "/config", settings)


@contextmanager
def replicating(sim: Sim, every: float = 2.0) -> Iterator[None]:
    """While the block runs, moves entrasim's frozen clock past the replication delay every `every` seconds, so
    that what ctsync creates reaches every replica a little later, as in Graph."""
    stop = threading.Event()

    def advance() -> None:
        while not stop.wait(every):
            sim.advance(REPLICATED)

    thread = threading.Thread(target=advance, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# ctsync reads its own writes and nothing fails by chance: each write is made once, in WRITES' order.
WRITES_AS_PLANNED = {"ownWriteVisibility": 1, "transientErrorRate": 0}


def writes(sim: Sim) -> list[Write]:
    """Every Graph request but GETs that the emulator answered, in order (token requests are not logged)."""
    return [(r["tenant"], r["method"], r["route"]) for r in sim.requests() if r["method"] != "GET"]


def route_regex(route: str) -> str:
    """A fault path matching a route template, e.g. /servicePrincipals/{id} -> ^/v1.0/servicePrincipals/[^/]+$."""
    return "^/v1.0" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(route)) + "$"


def reseed(sim: Sim, seed: dict[str, Any] | None = None) -> None:
    """Fresh tenants: the emulator's world emptied and seeded (by default as the `entrasim` fixture seeds it)."""
    sim.control("POST", "/reset")
    sim.control("POST", "/seed", seed or two_tenant_seed(**contoso_people(5, in_group=3)))


def apply_all(kube: Kube, sim: Sim) -> None:
    kube.create(tenant_pair(sim))
    kube.create(example("syncscope"))
    kube.create(example("attributemapping"))


def wait_condition(kube: Kube, plural: str, name: str, type_: str, reason: str, timeout: float) -> dict[str, Any]:
    """Waits for the condition to be True with that reason, and returns it."""

    def found() -> dict[str, Any] | None:
        cond = kube.condition(plural, name, type_)
        return cond if cond and (cond["status"], cond["reason"]) == ("True", reason) else None

    return wait_until(found, timeout, f"{plural}/{name} {type_} with reason {reason}")


# --- 1) a crash between any two writes ----------------------------------------------------------------------


def hold(sim: Sim, index: int) -> None:
    """Holds WRITES[index] (0-based) when it arrives, then drops its connection: it is never applied. Fault paths
    name no tenant, so earlier writes of the same method and route first pass faults that only count them."""
    _, method, route = WRITES[index]
    path = route_regex(route)
    for _ in range(sum(1 for _, m, r in WRITES[:index] if (m, r) == (method, route))):
        sim.control("POST", "/faults", {"method": method, "path": path, "delay": 0.001, "times": 1})
    sim.control("POST", "/faults", {"method": method, "path": path, "delay": HOLD_SECONDS, "drop": True})


def held(sim: Sim) -> bool:
    return any(f.get("drop") and f["hits"] for f in sim.control("GET", "/faults")["faults"])


def assert_one_of_everything(sim: Sim) -> None:
    """One configuration from the CTS template with one started Azure2Azure job and one assignment per
    principal, one partner policy on each side, Fabrikam's identity synchronization allowing the sync."""
    with sim.graph("contoso") as contoso, sim.graph("fabrikam") as fabrikam:
        apps = [a for a in contoso.get("/applications").json()["value"] if a.get("applicationTemplateId")]
        sps = [s for s in contoso.get("/servicePrincipals").json()["value"] if s.get("applicationTemplateId")]
        assert [a["applicationTemplateId"] for a in apps] == [CTS_TEMPLATE_ID], apps
        assert [s["applicationTemplateId"] for s in sps] == [CTS_TEMPLATE_ID], sps
        sp_id = sps[0]["id"]
        jobs = contoso.get(f"/servicePrincipals/{sp_id}/synchronization/jobs").json()["value"]
        assert [j["templateId"] for j in jobs] == ["Azure2Azure"], jobs
        assert jobs[0]["status"]["code"] != "Paused", "the job was never started"
        assigned = contoso.get(f"/servicePrincipals/{sp_id}/appRoleAssignedTo").json()["value"]
        assert Counter(a["principalId"] for a in assigned) == {contoso_group_id(sim): 1}
        for graph, partner_id in ((contoso, FABRIKAM), (fabrikam, CONTOSO)):
            assert [p["tenantId"] for p in graph.get(PARTNERS).json()["value"]] == [partner_id]
        inbound = fabrikam.get(f"{PARTNERS}/{CONTOSO}/identitySynchronization")
        assert inbound.status_code == 200 and inbound.json()["userSyncInbound"]["isSyncAllowed"] is True


def test_a_clean_run_makes_these_writes(entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess) -> None:
    configure(entrasim, **WRITES_AS_PLANNED)
    apply_all(tenants, entrasim)
    tenants.wait_ready("syncscopes", PAIR)
    tenants.wait_ready("attributemappings", PAIR, timeout=30)
    time.sleep(DRIFT_INTERVAL)  # the drift timers pass once more and must find nothing to write
    assert writes(entrasim) == WRITES
    assert_one_of_everything(entrasim)


@pytest.mark.parametrize("k", range(1, len(WRITES) + 1), ids=lambda k: f"after-write-{k}")
def test_a_crash_after_any_write_converges_without_duplicates(
    k: int, entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    """Killed with exactly k writes answered (the next one held, never applied; after the last write, as soon as
    the request log shows it), the restarted operator converges with one of everything. Each case asserts the
    writes answered before the kill are exactly the first k, so the cases together cover every position."""
    last = k == len(WRITES)
    # Up to the kill, every write lands where the test holds it. After it, ctsync's reads come from replicas that
    # lack what it created, and transient 5xx return.
    configure(entrasim, **WRITES_AS_PLANNED)
    if not last:
        hold(entrasim, k)
    apply_all(tenants, entrasim)
    if last:
        wait_until(lambda: len(writes(entrasim)) >= k, 30, f"write {k} is answered", interval=0.01)
    else:
        wait_until(lambda: held(entrasim), 30, f"write {k + 1} {WRITES[k][1:]} is held", interval=0.01)
    ctsync_operator.kill()
    assert writes(entrasim) == WRITES[:k], "the kill did not land right after write k"
    entrasim.control("DELETE", "/faults")
    configure(entrasim, ownWriteVisibility=0, transientErrorRate=0.005)

    ctsync_operator.start()
    tenants.wait_ready("tenantpairs", PAIR)
    time.sleep(DRIFT_INTERVAL)  # the restarted operator's passes see none of what it created before the kill
    with replicating(entrasim):
        tenants.wait_ready("syncscopes", PAIR, timeout=120)
    entrasim.advance(REPLICATED)
    assert_one_of_everything(entrasim)
    # Made once: the held instantiate was dropped unanswered (logged with status 0), never carried out.
    instantiated = [r for r in entrasim.requests() if r["path"].endswith("/instantiate") and r["status"] == 201]
    assert len(instantiated) == 1, "the configuration was instantiated again"


# --- 2) secret values stay in their Secrets -----------------------------------------------------------------


def put_secret(kube: Kube, name: str, data: dict[str, str]) -> None:
    secret = client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
    kube.core.replace_namespaced_secret(name, kube.namespace, secret)


def everything_observable(kube: Kube, operator: OperatorProcess) -> dict[str, str]:
    """What ctsync lets anyone see, by where: its log, the namespace's Events, the custom resources (status and
    all), and its metrics."""
    events = kube.core.list_namespaced_event(kube.namespace).items
    resources = [
        kube.custom.list_namespaced_custom_object(GROUP, VERSION, kube.namespace, plural)
        for plural in ("tenantpairs", "syncscopes", "attributemappings")
    ]
    with httpx.Client(trust_env=False, timeout=10) as http:
        metrics = http.get(f"http://127.0.0.1:{operator.metrics_port}/metrics")
    metrics.raise_for_status()
    return {
        "the operator log": operator.log(),
        "the Events": json.dumps(kube.api.sanitize_for_serialization(events)),
        "the custom resources": json.dumps(resources),
        "the metrics": metrics.text,
    }


def test_secret_values_never_reach_logs_events_status_or_metrics(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    client_secret, wrong_secret = (f"{what}-{secrets.token_urlsafe(24)}" for what in ("secret", "wrong"))
    certificate = trustme.CA().issue_cert("ctsync-fabrikam", key_type=trustme.KeyType.RSA)
    cert_pem = certificate.cert_chain_pems[0].bytes().decode()
    key_pem = certificate.private_key_pem.bytes().decode()
    # Contoso's app signs in with a client secret, Fabrikam's with a certificate only.
    seed = two_tenant_seed(**contoso_people(5, in_group=3))
    contoso_app, fabrikam_app = (tenant["apps"][0] for tenant in seed["tenants"])
    contoso_app["secrets"] = [client_secret]
    fabrikam_app.update(secrets=[], certificates=[cert_pem])
    reseed(entrasim, seed)
    put_secret(tenants, "contoso-credentials", {"clientId": CTSYNC_APP, "clientSecret": client_secret})
    put_secret(tenants, "fabrikam-credentials", {"clientId": CTSYNC_APP, "tls.crt": cert_pem, "tls.key": key_pem})

    apply_pair(tenants, entrasim)
    apply_scope_and_mapping(tenants)
    # Authentication now fails for Contoso: errors are logged, evented and written to status.
    put_secret(tenants, "contoso-credentials", {"clientId": CTSYNC_APP, "clientSecret": wrong_secret})
    wait_condition(tenants, "tenantpairs", PAIR, "Stalled", "AuthenticationFailed", DRIFT_INTERVAL + 15)
    wait_until(
        lambda: [e for e in tenants.events("TenantPair", PAIR) if e.reason == "AuthenticationFailed"],
        5,
        "an AuthenticationFailed Event",
    )

    key_lines = [line for line in key_pem.splitlines() if line and not line.startswith("-----")]
    values = [client_secret, wrong_secret, key_pem]
    needles = [*values, *(base64.b64encode(v.encode()).decode() for v in values), *key_lines, "PRIVATE KEY"]
    observable = everything_observable(tenants, ctsync_operator)
    assert "Invalid client secret" in observable["the operator log"]  # the failure path was taken, and logged
    for where, text in observable.items():
        leaked = [needle[:12] + "…" for needle in needles if needle in text]
        assert not leaked, f"secret material reached {where}: {leaked}"


# --- 3) a long Retry-After holds one pair, not the operator -------------------------------------------------

RETRY_AFTER = 120  # seconds: far beyond what ctsync waits inside a call
NORTHWIND, TAILSPIN = "2a6f4c1e-8b3d-4e7a-9f25-6c0d1b8e3a47", "7e1b9d3c-4f6a-4c2e-8a5d-3b9f0e6c1d28"
OTHER_PAIR = "northwind-to-tailspin"
FEW_SECONDS = 5.0  # an independent pair must become Ready this soon
PROMPT = 1.0  # seconds: the longest a liveness probe may take (a probe gives up after that)


def other_tenants_seed() -> dict[str, Any]:
    """Northwind and Tailspin, empty but for the same ctsync app registration (so the same Secrets work)."""
    seed = two_tenant_seed()
    others = ((NORTHWIND, "Northwind"), (TAILSPIN, "Tailspin"))
    for tenant, (tenant_id, name) in zip(seed["tenants"], others, strict=True):
        tenant.update(id=tenant_id, domain=f"{name.lower()}.onmicrosoft.com", displayName=name)
    return seed


def other_pair(sim: Sim) -> dict[str, Any]:
    body = tenant_pair(sim)
    body["metadata"]["name"] = OTHER_PAIR
    body["spec"]["source"]["tenantId"], body["spec"]["target"]["tenantId"] = NORTHWIND, TAILSPIN
    return body


def throttle_source_partner_read(sim: Sim, **fault: Any) -> None:
    sim.control("POST", "/faults", {**SOURCE_PARTNER_READ, "status": 429, "retryAfter": RETRY_AFTER, **fault})


@contextmanager
def probing(url: str) -> Iterator[list[float]]:
    """Probes `url` every 50 ms in a thread while the block runs; yields the seconds each probe took (inf: no
    200 within a second)."""
    seconds: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        with httpx.Client(trust_env=False, timeout=1) as http:
            while not stop.wait(0.05):
                started = time.monotonic()
                try:
                    ok = http.get(url).status_code == 200
                except httpx.HTTPError:
                    ok = False
                seconds.append(time.monotonic() - started if ok else float("inf"))

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        yield seconds
    finally:
        stop.set()
        thread.join()


def test_a_long_retry_after_holds_only_the_throttled_pair(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    entrasim.control("POST", "/seed", other_tenants_seed())
    throttle_source_partner_read(entrasim)
    with probing(f"http://127.0.0.1:{ctsync_operator.health_port}/healthz") as liveness:
        tenants.create(tenant_pair(entrasim))
        throttled = wait_condition(tenants, "tenantpairs", PAIR, "Reconciling", "Throttled", 15)
        created = time.monotonic()
        tenants.create(other_pair(entrasim))
        tenants.wait_ready("tenantpairs", OTHER_PAIR, timeout=30)
        ready_after = time.monotonic() - created
        time.sleep(2 * DRIFT_INTERVAL)  # the throttled pair's drift timer comes round meanwhile
    print(
        f"\nwhile a pair was throttled, another was Ready {ready_after:.2f} s after it was created; the slowest of "
        f"{len(liveness)} liveness probes took {max(liveness):.3f} s"
    )

    assert ready_after < FEW_SECONDS
    assert max(liveness) < PROMPT
    assert f"retry after {RETRY_AFTER}s" in throttled["message"]
    still = tenants.condition("tenantpairs", PAIR, "Reconciling")
    assert still is not None and (still["status"], still["reason"]) == ("True", "Throttled")
    # A throttled read is never taken for "absent" (which would create the partner policy) ...
    assert [w for w in writes(entrasim) if w[0] in (CONTOSO, FABRIKAM)] == []
    # ... nor retried at once: the change handler and the drift timer each wait out their own 429.
    (fault,) = entrasim.control("GET", "/faults")["faults"]
    assert fault["hits"] <= 2


def test_nothing_is_written_before_the_retry_after_passes(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    throttle_source_partner_read(entrasim, times=1)  # one 429: the next read would succeed
    tenants.create(tenant_pair(entrasim))
    wait_until(lambda: not entrasim.control("GET", "/faults")["faults"], 15, "the read is throttled")
    time.sleep(DRIFT_INTERVAL + 2)  # well within the Retry-After
    assert writes(entrasim) == [], f"written within {DRIFT_INTERVAL + 2:g} s of a {RETRY_AFTER} s Retry-After"


# --- 4) a failed read never deprovisions --------------------------------------------------------------------

IN_SCOPE = ("person0000", "person0001", "person0002", SYNC_USER)  # the group's members, and the user assigned
ASSIGNMENTS_READ = r"/appRoleAssignedTo$"
MEMBERS_READ = r"/groups/[^/]+/members/microsoft\.graph\.user$"


def assignment_deletes(sim: Sim) -> list[dict[str, Any]]:
    return [r for r in sim.requests() if r["method"] == "DELETE" and "/appRoleAssignedTo/" in r["path"]]


@pytest.mark.parametrize("read", [ASSIGNMENTS_READ, MEMBERS_READ], ids=["assignments", "group-members"])
def test_a_failing_read_never_deprovisions(
    read: str, entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    # Replication and latency stay; chance 503s do not: one without Retry-After holds a tenant's client 30 s and
    # takes the TenantPair out of Ready, and the SyncScope with it, longer than this test waits for the retry.
    configure(entrasim, transientErrorRate=0)
    apply_pair(tenants, entrasim)
    scope = example("syncscope")
    scope["spec"]["scope"]["users"] = [{"displayName": "Person 0003"}]
    tenants.create(scope)
    with replicating(entrasim):
        generation = tenants.wait_ready("syncscopes", PAIR)["metadata"]["generation"]
    entrasim.advance(CYCLE)
    assert guests(entrasim) == dict.fromkeys(IN_SCOPE, "active")

    entrasim.control("POST", "/faults", {"method": "GET", "path": read, "status": 500})
    # Dropping the user takes 1 of 4 synced users out of scope, over maxScopeShrinkPercent (20): acknowledged
    # with the change, so that only the failing read stands between the change and the deletion.
    tenants.patch(
        "syncscopes",
        PAIR,
        {"metadata": {"annotations": {ACKNOWLEDGE_SHRINK: str(generation + 1)}}, "spec": {"scope": {"users": None}}},
    )
    # Both the change handler's pass and the drift timer's fail on the read.
    wait_until(lambda: entrasim.control("GET", "/faults")["faults"][0]["hits"] >= 2, 30, "two failed reads")
    wait_condition(tenants, "syncscopes", PAIR, "Reconciling", "GraphUnavailable", 10)
    entrasim.advance(CYCLE)  # provisioning cycles run while the reads fail
    assert assignment_deletes(entrasim) == []
    assert guests(entrasim) == dict.fromkeys(IN_SCOPE, "active")

    entrasim.control("DELETE", "/faults")
    failed = [r["seq"] for r in entrasim.requests() if r["status"] == 500]
    # The next drift pass retries: a failure never holds it back longer than the drift interval.
    tenants.wait_ready("syncscopes", PAIR, timeout=DRIFT_INTERVAL + 15)
    (deleted,) = assignment_deletes(entrasim)
    assert deleted["seq"] > max(failed)
    entrasim.advance(CYCLE)
    assert guests(entrasim) == {**dict.fromkeys(IN_SCOPE, "active"), SYNC_USER: "deleted"}


# --- start-up latency ---------------------------------------------------------------------------------------

STARTUP_RUNS = 5


def first_condition_at(kube: Kube, name: str) -> float:
    """time.time() when the TenantPair first shows a condition, polled every 10 ms."""

    def seen() -> float | None:
        conditions = ((kube.get("tenantpairs", name) or {}).get("status") or {}).get("conditions")
        return time.time() if conditions else None

    return wait_until(seen, 30, f"tenantpairs/{name} has a condition", interval=0.01)


def test_on_start_the_operator_reconciles_pairs_that_already_exist(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    """A TenantPair created while no operator runs gets its first condition once one starts. The time from
    spawn to that condition is printed (docs/benchmarks.md quotes it); it is a figure, not an assertion."""
    seconds: list[float] = []
    for run in range(STARTUP_RUNS + 1):
        ctsync_operator.stop()
        reseed(entrasim)
        body = tenant_pair(entrasim)
        body["metadata"]["name"] = name = f"startup-{run}"
        tenants.create(body)
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(first_condition_at, tenants, name)
            ctsync_operator.start()
            seconds.append(first.result() - ctsync_operator.started_at)
        ctsync_operator.stop()
        # Gone before the next start, which must find only its own pair; no operator runs to finalize it.
        tenants.patch("tenantpairs", name, {"metadata": {"finalizers": None}})
        tenants.delete("tenantpairs", name)
    warm = seconds[1:]
    print(
        f"\nspawn to first TenantPair condition over {len(warm)} warm runs: min {min(warm):.2f} s, "
        f"median {statistics.median(warm):.2f} s, max {max(warm):.2f} s"
    )


# --- deletion while a drift pass runs -----------------------------------------------------------------------

DRIFT_PASS_SECONDS = 3  # a drift pass held this long in Graph
DELETED_WITHIN = DRIFT_PASS_SECONDS + 5.0


def test_a_pair_deleted_during_a_drift_pass_is_gone_once_the_pass_ends(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess
) -> None:
    apply_pair(tenants, entrasim)
    # The next read of the source's partner policy is the drift timer's: it is held, so the pass is running.
    entrasim.control("POST", "/faults", {**SOURCE_PARTNER_READ, "delay": DRIFT_PASS_SECONDS})
    wait_until(lambda: entrasim.control("GET", "/faults")["faults"][0]["hits"], DRIFT_INTERVAL + 5, "a drift pass")
    tenants.delete("tenantpairs", PAIR)
    wait_until(lambda: tenants.get("tenantpairs", PAIR) is None, DELETED_WITHIN, f"tenantpairs/{PAIR} is gone")
