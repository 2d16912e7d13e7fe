"""A real Prometheus (Debian's package) scrapes `ctsync operator` while it syncs entrasim's tenants: the scope
and synced counts it stores are entrasim's, provisioning events are counted once each, and a quarantined job
fires the shipped quarantine alert (its rules file with every `for:` shortened). A target that refuses the
invitations makes provisioning fail cycle after cycle: the failures are counted by reason and fire their
alert, and once the target accepts them its own audit log shows the guests arriving."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from e2e.operator_fixtures import (
    CYCLE,
    PAIR,
    START_TIMEOUT,
    Kube,
    OperatorProcess,
    Sim,
    allow_sync,
    apply_pair,
    apply_scope_and_mapping,
    contoso_group_id,
    free_port,
    spawn,
    terminate,
    wait_until,
)
from support.prometheus import binary
from support.sim import CONTOSO, FABRIKAM

pytestmark = pytest.mark.e2e

ALERTS = Path(__file__).resolve().parents[2] / "charts" / "ctsync" / "files" / "alerts.yaml"
SCRAPE_JOB = "ctsync-operator"  # CtsyncOperatorDown looks for a job named like ctsync's
ALERT_FOR = "2s"  # instead of the shipped minutes: long enough to go through pending
SETTLE = 30.0  # seconds for a change to reach status, the next scrape and the next rule evaluation


@dataclass
class Prometheus:
    base_url: str

    def query(self, promql: str) -> list[dict[str, Any]]:
        # trust_env=False: a proxy from the environment must not see requests to 127.0.0.1.
        with httpx.Client(trust_env=False, timeout=10) as http:
            reply = http.get(f"{self.base_url}/api/v1/query", params={"query": promql})
        reply.raise_for_status()
        return list(reply.json()["data"]["result"])

    def value(self, promql: str) -> float | None:
        """The value of a query that returns at most one series."""
        result = self.query(promql)
        assert len(result) <= 1, f"{promql} returned {len(result)} series"
        return float(result[0]["value"][1]) if result else None


def rules_with_short_for(target: Path) -> Path:
    """charts/ctsync/files/alerts.yaml with every `for:` shortened to ALERT_FOR."""
    rules = yaml.safe_load(ALERTS.read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = ALERT_FOR
    target.write_text(yaml.safe_dump(rules, sort_keys=False))
    return target


@pytest.fixture
def prometheus(ctsync_operator: OperatorProcess, tmp_path: Path) -> Iterator[Prometheus]:
    """`prometheus` scraping the operator's /metrics and evaluating ctsync's alerts, both every second."""
    path = binary("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules_with_short_for(tmp_path / "alerts.yaml"))],
        "scrape_configs": [
            {
                "job_name": SCRAPE_JOB,
                "static_configs": [{"targets": [f"127.0.0.1:{ctsync_operator.metrics_port}"]}],
            }
        ],
    }
    config_file = tmp_path / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    log_path = tmp_path / "prometheus.log"
    argv = [
        path,
        f"--config.file={config_file}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    proc = spawn(argv, log_path)
    try:
        server = Prometheus(f"http://127.0.0.1:{port}")

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"prometheus exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with httpx.Client(trust_env=False, timeout=1) as http:
                    return http.get(f"{server.base_url}/-/ready").status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, START_TIMEOUT, "prometheus answers /-/ready")
        # Prometheus starts scraping some seconds after it is ready (it waits for its target list to settle).
        wait_until(lambda: server.value(f'up{{job="{SCRAPE_JOB}"}}') == 1, START_TIMEOUT, "the first scrape")
        yield server
    finally:
        terminate(proc)


def entrasim_counts(sim: Sim) -> tuple[int, int]:
    """What entrasim holds: Contoso's internal members of the scoped group, and Fabrikam's enabled users
    provisioned from Contoso."""
    contoso = sim.tenant_state(CONTOSO)
    group = next(g for g in contoso["groups"] if g["id"] == contoso_group_id(sim))
    members = {u["id"] for u in contoso["users"] if u.get("userType", "Member") == "Member"}
    synced = [
        u
        for u in sim.tenant_state(FABRIKAM)["users"]
        if "#EXT#" in (u.get("userPrincipalName") or "") and u.get("accountEnabled", True)
    ]
    return len(members & set(group["members"])), len(synced)


def provisioning_log(sim: Sim) -> Counter[tuple[str, str]]:
    """(action, status) of each entry of Contoso's provisioning log, as Graph serves it."""
    entries: list[dict[str, Any]] = []
    with sim.graph("contoso") as graph:
        url: str | None = "/auditLogs/provisioning"
        while url:
            page = graph.get(url).raise_for_status().json()
            entries += page["value"]
            url = page.get("@odata.nextLink")
    return Counter((e["provisioningAction"].lower(), e["provisioningStatusInfo"]["status"].lower()) for e in entries)


def scraped(prometheus: Prometheus, promql: str) -> Counter[tuple[str, str]]:
    return Counter(
        {(r["metric"]["action"], r["metric"]["status"]): int(float(r["value"][1])) for r in prometheus.query(promql)}
    )


def test_prometheus_stores_what_entrasim_holds_and_fires_the_quarantine_alert(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess, prometheus: Prometheus
) -> None:
    apply_pair(tenants, entrasim)
    apply_scope_and_mapping(tenants)
    entrasim.advance(CYCLE)
    in_scope, synced = entrasim_counts(entrasim)
    assert (in_scope, synced) == (3, 3)  # contoso_people(5, in_group=3)

    scope = f'namespace="{tenants.namespace}", name="{PAIR}"'
    wait_until(
        lambda: (
            prometheus.value(f"ctsync_scope_users{{{scope}}}") == in_scope
            and prometheus.value(f'ctsync_synced_users{{{scope}, state="enabled"}}') == synced
        ),
        SETTLE,
        "Prometheus holds entrasim's scope size and synced users",
    )
    # Each log entry counted once, however many polls the drift timer made meanwhile.
    logged = provisioning_log(entrasim)
    assert logged[("create", "success")] == synced
    events = f"ctsync_provisioning_events_total{{{scope}}}"
    wait_until(lambda: scraped(prometheus, events) == logged, SETTLE, "the provisioning log's entries, once each")

    # A real scrape passes Prometheus' own lint.
    with httpx.Client(trust_env=False, timeout=10) as http:
        exposition = http.get(f"http://127.0.0.1:{ctsync_operator.metrics_port}/metrics").raise_for_status().text
    linted = subprocess.run(
        [binary("promtool"), "check", "metrics"],
        input=exposition,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr

    # Fabrikam withdraws its consent behind ctsync, which only observes the pair: the next cycle cannot
    # reach the target and the provisioning service quarantines the job.
    tenants.patch("tenantpairs", PAIR, {"spec": {"managementPolicy": "Observe"}})
    tenants.wait_ready("tenantpairs", PAIR)
    allow_sync(entrasim, False)
    entrasim.advance(CYCLE)
    quarantined = time.monotonic()

    firing = wait_until(
        lambda: prometheus.query('ALERTS{alertname="CtsyncJobQuarantined", alertstate="firing"}'),
        SETTLE,
        "CtsyncJobQuarantined fires",
    )
    print(f"\nCtsyncJobQuarantined firing {time.monotonic() - quarantined:.1f} s after the quarantine")
    (alert,) = firing
    assert alert["metric"]["namespace"] == tenants.namespace and alert["metric"]["name"] == PAIR
    assert alert["metric"]["reason"] == "EncounteredQuarantineException"
    assert alert["metric"]["severity"] == "critical"
    others = {a["metric"]["alertname"] for a in prometheus.query('ALERTS{alertstate="firing"}')}
    assert not others & {"CtsyncOperatorDown", "CtsyncDeletionsHeld"}, others


def test_failures_by_reason_fire_their_alert_and_the_target_audit_shows_the_guests(
    entrasim: Sim, tenants: Kube, ctsync_operator: OperatorProcess, prometheus: Prometheus
) -> None:
    # Fabrikam refuses to invite the three users in scope: each of their creates fails at every cycle.
    users = [f"person{i:04d}@contoso.onmicrosoft.com" for i in range(3)]
    for user in users:
        fault = {"tenant": CONTOSO, "user": user, "code": "AzureActiveDirectoryForbidden"}
        entrasim.control("POST", "/provisioning-faults", fault)
    apply_pair(tenants, entrasim)
    apply_scope_and_mapping(tenants)
    scope = f'namespace="{tenants.namespace}", name="{PAIR}"'
    failures = f'ctsync_provisioning_failures_total{{{scope}, reason="invitations_blocked"}}'
    entrasim.advance(CYCLE)
    wait_until(lambda: (prometheus.value(failures) or 0) >= 3, SETTLE, "the first cycle's failures, by reason")

    entrasim.advance(8 * CYCLE)  # eight more cycles: 24 more failures, enough volume for the alert
    firing = wait_until(
        lambda: prometheus.query('ALERTS{alertname="CtsyncProvisioningFailures", alertstate="firing"}'),
        SETTLE,
        "CtsyncProvisioningFailures fires",
    )
    (alert,) = firing
    assert (alert["metric"]["name"], alert["metric"]["reason"]) == (PAIR, "invitations_blocked")
    logged = provisioning_log(entrasim)[("create", "failure")]
    wait_until(lambda: prometheus.value(failures) == logged, SETTLE, "each failed entry counted once")

    # Fabrikam lets them in: the next cycle creates them, and Fabrikam's own audit log says so.
    entrasim.control("DELETE", "/provisioning-faults")
    entrasim.advance(CYCLE)
    creates = f'ctsync_target_guest_changes_total{{{scope}, operation="create"}}'
    wait_until(lambda: prometheus.value(creates) == 3, SETTLE, "the target's audit log: three guests added")
    with entrasim.graph("fabrikam") as graph:
        audits = graph.get("/auditLogs/directoryAudits").raise_for_status().json()["value"]
    assert [a["activityDisplayName"] for a in audits] == ["Add user"] * 3
    audit_log = tenants.condition("syncscopes", PAIR, "TargetAuditLog") or {}
    assert (audit_log.get("status"), audit_log.get("reason")) == ("True", "AuditLogRead")
    assert tenants.get("syncscopes", PAIR)["status"]["targetAuditWatermark"]["ids"]  # kept for a restart
