"""The fast lane against the cycle alone, side by side in one run: how long a change made in the source
tenant takes to show in the target, through the `ctsync operator` process and its handlers, against the
real kube-apiserver of the test tier and entrasim's production profile (throttling, latency, transient
errors, replication delay).

    .venv/bin/python bench/fast_lane.py           # 10 changes/min per pair for 10 min, then a burst of 500
    .venv/bin/python bench/fast_lane.py --quick   # 10 changes/min for 2 min, a burst of 60: a smoke run

Two pairs from one source tenant: `fast` (spec.fastLane.enabled) and `cycle` (the provisioning cycle
alone), each scoped by its own group and fed the same changes at the same moments, in turn a new hire
(created, then added to the group), an attribute change (jobTitle, which the mappings carry) and a
disable, each of another member (a second change of a member before a cycle ran would hide the first).
An HR app makes them through entrasim's Graph; the latency of a change runs from Graph's answer to
the change until entrasim's state shows the target user created, carrying the new title, or disabled
(polled every second). Then a burst: 500 users (60 with --quick) added to each scope group at once
($batch). A burst above burstSize is left to the cycle, so when it is done depends on where each job is in
its 40 minutes when it lands: the script reads, through Graph, when each job's first cycle after the burst
began (status.lastExecution.timeBegan), prints the wait for that cycle and the time from its start to all
in the target, and judges the fast lane on the latter: whether it slowed its own job's cycle.

The clock. A cycle runs every 40 minutes of entrasim's clock: at real speed, the cycle alone would need
hours of stream to give a distribution. entrasim runs at `--time-scale` (10 by default, 30 with --quick):
its clock, and so the cycles, the per-user cost of a cycle and the replication delay, run that much faster,
while what the fast lane depends on stays wall-clock: the operator's round every `--fast-lane-interval`
(15 s), its token bucket (5 provisionOnDemand per 10 s), entrasim's latency and throttling budgets. So:
  - fast lane figures are wall seconds, as a user would wait them;
  - cycle figures (the `cycle` pair, disables in both pairs, the burst) are entrasim's simulated seconds
    (wall seconds x time scale): what the same cycle would take at real speed.
The `fast` pair's own cycles run at the same speed, so a change the fast lane has not provisioned yet can
be carried by a cycle first (about one round in 16 at scale 10; at real speed one in 160): the target is
then updated sooner than the fast lane alone would, which the figure includes. Tokens last
3600 x scale simulated seconds, an hour of wall clock, as azure-identity expects from `expires_in`.
The operator runs with `--drift-interval 30` so that it sees the initial cycles end (Synced=True, which
the fast lane waits for) within seconds; it changes no figure here, the target being updated by the
service, not by a reconcile."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from kubernetes.config import new_client_from_config
from processes import (
    APP_ID,
    CREDENTIALS,
    ROLES,
    SECRET,
    Cluster,
    ControlPlane,
    Emulator,
    Operator,
    cr_bodies,
    envtest_assets,
    until,
)

NAMESPACE = "fastlane"
# Contoso's HR system, which makes the changes; ctsync signs in as the benchmarks' app (processes.APP_ID).
HR_APP_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "ctsync-fastlane-hr"))
HR_ROLES = ["User.ReadWrite.All", "GroupMember.ReadWrite.All", "Group.Read.All"]
# The bench's own monitoring app, which reads the jobs' status (when their cycles began).
MONITOR_APP_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "ctsync-fastlane-monitor"))
MONITOR_ROLES = ["Synchronization.Read.All"]
DOMAIN = "contoso.onmicrosoft.com"
PAIRS = ("fast", "cycle")
KINDS = ("hire", "attribute", "disable")
P95_TARGET = 60.0  # seconds, at 10 changes per minute
JOB_READ_EVERY = 5.0  # wall seconds between two reads of the jobs' status during the burst
CYCLE_END_WAIT = 60.0  # wall seconds to wait, once the burst is in both targets, for the cycles to end
# The burst verdict's tolerance: the target is polled every wall second, so each pair's end is known to one
# poll (scale simulated seconds); and a few per cent of the cycle alone's time for the jobs' other work.
BURST_POLLS = 2
BURST_TOLERANCE = 0.05


def tenant_id(label: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ctsync-fastlane-{label}"))


def member(pair: str, i: int) -> str:
    return f"{pair}-m{i:03d}@{DOMAIN}"


def burst_user(pair: str, i: int) -> str:
    return f"{pair}-b{i:03d}@{DOMAIN}"


def external(upn: str) -> str:
    """The name cross-tenant synchronization gives a user in the target, lower-cased."""
    return upn.replace("@", "_").lower() + "#ext#@"


def seed_document(members: int, burst: int) -> dict[str, Any]:
    app = {"appId": APP_ID, "displayName": "ctsync", "roles": ROLES, "secrets": [SECRET]}
    hr = {"appId": HR_APP_ID, "displayName": "Contoso HR", "roles": HR_ROLES, "secrets": [SECRET]}
    monitor = {"appId": MONITOR_APP_ID, "displayName": "Monitoring", "roles": MONITOR_ROLES, "secrets": [SECRET]}

    def user(upn: str) -> dict[str, Any]:
        name = upn.split("@")[0]
        return {"userPrincipalName": upn, "displayName": name, "jobTitle": "Analyst", "accountEnabled": True}

    users, groups = [], []
    for pair in PAIRS:
        upns = [member(pair, i) for i in range(members)]
        users += [user(u) for u in upns] + [user(burst_user(pair, i)) for i in range(burst)]
        groups.append({"displayName": f"CTS-{pair}", "members": upns})
    source = {"id": tenant_id("source"), "domain": DOMAIN, "displayName": "Contoso", "apps": [app, hr, monitor]}
    targets = [
        {"id": tenant_id(pair), "domain": f"{pair}.onmicrosoft.com", "displayName": pair, "apps": [app]}
        for pair in PAIRS
    ]
    return {"tenants": [{**source, "users": users, "groups": groups}, *targets]}


def resource_bodies(emulator: Emulator, pair: str) -> list[dict[str, Any]]:
    bodies = cr_bodies(emulator, pair, tenant_id("source"), tenant_id(pair), f"CTS-{pair}")
    if pair == "fast":
        (scope,) = [b for b in bodies if b["kind"] == "SyncScope"]
        scope["spec"]["fastLane"] = {"enabled": True}
    return bodies


class GraphApp:
    """An app of the source tenant calling entrasim's Graph, with a token renewed every minute."""

    def __init__(self, emulator: Emulator, app_id: str) -> None:
        self.base_url, self.app_id = emulator.base_url, app_id
        self.graph = httpx.Client(base_url=f"{emulator.base_url}/v1.0", verify=emulator.ca_path, timeout=60)
        self.token_at = -1e9

    def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, replicating: bool = False
    ) -> dict[str, Any]:
        """One Graph request; `replicating`: it names an object just created, which replication may not show
        yet (400 or 404), so it is tried again as a client would."""
        again = (429, 503, 504, 400, 404) if replicating else (429, 503, 504)
        if time.monotonic() - self.token_at > 60:
            form = {"grant_type": "client_credentials", "client_id": self.app_id, "client_secret": SECRET}
            form["scope"] = "https://graph.microsoft.com/.default"
            reply = self.graph.post(f"{self.base_url}/{tenant_id('source')}/oauth2/v2.0/token", data=form)
            reply.raise_for_status()
            self.graph.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
            self.token_at = time.monotonic()
        for _ in range(30):  # the production profile's transient 5xx and 429s: try again, as a client would
            reply = self.graph.request(method, path, json=body)
            if reply.status_code not in again:
                break
            wait = reply.headers.get("Retry-After", "1")
            time.sleep(float(wait) if wait.isdigit() else 1.0)  # seconds, or an HTTP date
        reply.raise_for_status()
        return reply.json() if reply.content else {}


class HR(GraphApp):
    """Contoso's HR system: changes users through entrasim's Graph."""

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator, HR_APP_ID)

    def user_ids(self) -> dict[str, str]:
        """Every user's id by name, read in pages."""
        ids: dict[str, str] = {}
        url = "/users?$select=id,userPrincipalName&$top=999"
        while url:
            page = self.call("GET", url)
            ids |= {str(u["userPrincipalName"]): str(u["id"]) for u in page["value"]}
            url = page.get("@odata.nextLink", "")
        return ids

    def group_id(self, name: str) -> str:
        return str(self.call("GET", f"/groups?$filter=displayName eq '{name}'")["value"][0]["id"])

    def add_members(self, group_id: str, user_ids: list[str]) -> None:
        """Adds users to a group, 20 to a $batch; what comes back 429 or 5xx is sent again."""
        todo = list(user_ids)
        while todo:
            chunk, todo = todo[:20], todo[20:]
            requests = [
                {
                    "id": str(n),
                    "method": "POST",
                    "url": f"/groups/{group_id}/members/$ref",
                    "headers": {"Content-Type": "application/json"},
                    "body": {"@odata.id": f"{self.base_url}/v1.0/directoryObjects/{uid}"},
                }
                for n, uid in enumerate(chunk)
            ]
            answers = self.call("POST", "/$batch", {"requests": requests})["responses"]
            again = [chunk[int(a["id"])] for a in answers if a["status"] in (429, 503, 504)]
            if again:
                time.sleep(1)
                todo += again


@dataclass
class Change:
    pair: str
    kind: str
    upn: str
    made: float  # time.monotonic() when Graph answered the change
    done: Callable[[dict[str, Any]], bool]  # given the target's user of that name
    seen: float | None = None


@dataclass
class Target:
    """The targets' users, as entrasim's state holds them, by (pair, lower-cased name prefix)."""

    emulator: Emulator
    users: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def refresh(self) -> None:
        for pair in PAIRS:
            tenant = self.emulator.control.get("/state", params={"tenant": tenant_id(pair)}).json()["tenants"]
            users = tenant[tenant_id(pair)]["users"]
            self.users[pair] = {str(u["userPrincipalName"]).lower().split("#ext#@")[0] + "#ext#@": u for u in users}

    def user(self, pair: str, upn: str) -> dict[str, Any] | None:
        return self.users.get(pair, {}).get(external(upn))

    def settle(self, changes: list[Change]) -> bool:
        """Marks the changes the target now shows; whether all of them are shown."""
        self.refresh()
        now = time.monotonic()
        for change in changes:
            found = self.user(change.pair, change.upn) if change.seen is None else None
            if found is not None and change.done(found):
                change.seen = now
        return all(c.seen is not None for c in changes)


@dataclass
class Stream:
    hr: HR
    groups: dict[str, str]
    per_kind: int  # changes of each kind in each pair: members 0.. get a new title, the next ones are disabled
    changes: list[Change] = field(default_factory=list)
    count: int = 0

    def next(self) -> None:
        """One change of the next kind in each pair, the same for both."""
        kind = KINDS[self.count % len(KINDS)]
        n = self.count // len(KINDS)
        self.count += 1
        for pair in PAIRS:
            self.changes.append(getattr(self, kind)(pair, n))

    def hire(self, pair: str, n: int) -> Change:
        upn = f"{pair}-hire{n:03d}@{DOMAIN}"
        name = upn.split("@")[0]
        body = {"accountEnabled": True, "displayName": name, "mailNickname": name, "userPrincipalName": upn}
        body |= {"jobTitle": "New hire", "passwordProfile": {"password": uuid.uuid4().hex + "A!"}}
        try:
            created = self.hr.call("POST", "/users", body)
        except httpx.HTTPStatusError as exc:  # a transient 5xx after the user was created: the retry is a 400
            if exc.response.status_code != 400:
                raise
            created = self.hr.call("GET", f"/users/{upn}", replicating=True)
        ref = {"@odata.id": f"{self.hr.base_url}/v1.0/directoryObjects/{created['id']}"}
        self.hr.call("POST", f"/groups/{self.groups[pair]}/members/$ref", ref, replicating=True)
        return Change(pair, "hire", upn, time.monotonic(), lambda u: True)

    def attribute(self, pair: str, n: int) -> Change:
        # One change per member: a second change before a cycle ran would hide the first from the target.
        upn, title = member(pair, n), f"Title {n}"
        self.hr.call("PATCH", f"/users/{upn}", {"jobTitle": title})
        return Change(pair, "attribute", upn, time.monotonic(), lambda u: u.get("jobTitle") == title)

    def disable(self, pair: str, n: int) -> Change:
        upn = member(pair, self.per_kind + n)
        self.hr.call("PATCH", f"/users/{upn}", {"accountEnabled": False})
        return Change(pair, "disable", upn, time.monotonic(), lambda u: u.get("accountEnabled") is False)


def percentiles(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return float("nan"), float("nan"), float("nan")
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered), p95, ordered[-1]


def row(label: str, values: list[float], total: int, unit: str, verdict: str = "") -> None:
    p50, p95, top = percentiles(values)
    missed = f"  ({total - len(values)} not in the target by the end)" if total > len(values) else ""
    print(f"  {label:<52} {len(values):>4}  {p50:>8.1f} {p95:>8.1f} {top:>8.1f}  {unit:<13}{verdict}{missed}")


@dataclass
class Run:
    workdir: Path
    minutes: float
    per_minute: float
    burst: int
    scale: float

    @property
    def per_kind(self) -> int:
        return int(self.minutes * self.per_minute / len(KINDS)) + 1

    @property
    def members(self) -> int:
        return 2 * self.per_kind + 2  # one for each attribute change and each disable, and two left alone

    def __call__(self) -> None:
        plane = ControlPlane(envtest_assets())
        started = time.monotonic()
        print(f"  control plane: {plane.start()}", flush=True)
        profile = ("--profile", "production", "--random-seed", "1", "--time-scale", f"{self.scale:g}")
        emulator = Emulator(self.workdir, *profile)
        operator = Operator(self.workdir, plane.kubeconfig, NAMESPACE, "--drift-interval", "30")
        try:
            with new_client_from_config(config_file=str(plane.kubeconfig)) as api:
                cluster = Cluster(api, NAMESPACE)
                cluster.install_crds()
                emulator.seed(seed_document(self.members, self.burst))
                lifetime = min(24 * 3600, int(3600 * self.scale))
                emulator.control.post("/config", json={"tokenLifetimeSeconds": lifetime}).raise_for_status()
                bodies = [body for pair in PAIRS for body in resource_bodies(emulator, pair)]
                cluster.create(emulator, CREDENTIALS, bodies)
                operator.start()
                self.measure(cluster, emulator)
        finally:
            operator.stop()
            emulator.stop()
            plane.stop()
        print(f"  whole run: {(time.monotonic() - started) / 60:.1f} min", flush=True)

    def measure(self, cluster: Cluster, emulator: Emulator) -> None:
        waited = until(lambda: lane_active(cluster) and synced(cluster) == len(PAIRS), 900)
        if waited is None:
            sys.exit("the fast lane was not Active and both jobs Synced after 15 minutes")
        print(f"  both pairs Synced and the fast lane Active after {waited:.0f} s", flush=True)
        time.sleep(20)  # past the fast lane's baseline round
        hr = HR(emulator)
        groups = {pair: hr.group_id(f"CTS-{pair}") for pair in PAIRS}
        stream, target = Stream(hr, groups, self.per_kind), Target(emulator)
        print(f"  stream: {self.per_minute:g} changes/min in each pair for {self.minutes:g} min", flush=True)
        began = time.monotonic()
        for at in ticks(began, 60 / self.per_minute, self.minutes * 60):
            while time.monotonic() < at:
                target.settle(stream.changes)
                time.sleep(max(0.0, min(1.0, at - time.monotonic())))
            stream.next()
        # The cycle pair's last changes need up to one cycle, and what it takes to reach them.
        until(lambda: target.settle(stream.changes), 45 * 60 / self.scale, 1)
        self.report_stream(stream.changes)
        if self.burst:
            self.run_burst(hr, groups, target, Jobs(emulator, cluster))

    def report_stream(self, changes: list[Change]) -> None:
        s = self.scale
        print()
        print(f"  {'change to target':<52} {'n':>4}  {'p50':>8} {'p95':>8} {'max':>8}")

        def waits(pair: str, kinds: tuple[str, ...], factor: float = 1.0) -> tuple[list[float], int]:
            chosen = [c for c in changes if c.pair == pair and c.kind in kinds]
            return [(c.seen - c.made) * factor for c in chosen if c.seen is not None], len(chosen)

        carried, total = waits("fast", ("hire", "attribute"))
        p95 = percentiles(carried)[1]
        verdict = f"target p95 <= {P95_TARGET:g} s: {'PASS' if p95 <= P95_TARGET else 'MISS'}"
        row("fast lane on: hires and attribute changes", carried, total, "wall s", verdict)
        row("fast lane on: disables (left to the cycle)", *waits("fast", ("disable",), s), "simulated s")
        row("cycle alone: hires and attribute changes", *waits("cycle", ("hire", "attribute"), s), "simulated s")
        row("cycle alone: disables", *waits("cycle", ("disable",), s), "simulated s")
        row("cycle alone: all changes", *waits("cycle", KINDS, s), "simulated s")
        print(flush=True)

    def run_burst(self, hr: HR, groups: dict[str, str], target: Target, jobs: Jobs) -> None:
        """Adds the burst to both scope groups and times it per pair: from the burst landed (its last member
        added) until all its users are in the target, split at the start of the job's first cycle that
        began after it landed (read from the job's status through Graph)."""
        known = hr.user_ids()
        ids = {pair: [known[burst_user(pair, i)] for i in range(self.burst)] for pair in PAIRS}
        began = time.monotonic()
        landed: dict[str, tuple[float, float]] = {}  # pair: (wall, entrasim's clock) when its burst landed
        for pair in PAIRS:
            hr.add_members(groups[pair], ids[pair])
            landed[pair] = (time.monotonic(), jobs.now())
        print(f"  burst: {self.burst} users added to each scope group in {time.monotonic() - began:.0f} s", flush=True)
        done: dict[str, float] = {}  # pair: wall time when all its burst users were in the target
        cycle: dict[str, float] = {}  # pair: entrasim's clock when its first cycle after the burst began
        read_at = [0.0]

        def finished() -> bool:
            target.refresh()
            now = time.monotonic()
            for pair in PAIRS:
                there = sum(1 for i in range(self.burst) if target.user(pair, burst_user(pair, i)) is not None)
                if pair not in done and there == self.burst:
                    done[pair] = now
            if now - read_at[0] >= JOB_READ_EVERY:  # lastExecution shows a cycle once it has ended
                read_at[0] = now
                for pair in set(PAIRS) - set(cycle):
                    cycle_began = jobs.last_cycle_began(pair)
                    if cycle_began is not None and cycle_began >= landed[pair][1]:
                        cycle[pair] = cycle_began
            all_done = len(done) == len(PAIRS)
            return all_done and (len(cycle) == len(PAIRS) or now - max(done.values()) > CYCLE_END_WAIT)

        until(finished, 2 * 45 * 60 / self.scale + CYCLE_END_WAIT, 1)
        self.report_burst(Burst(landed, done, cycle, jobs.errors))

    def report_burst(self, burst: Burst) -> None:
        s = self.scale
        print(
            f"  burst of {self.burst}, simulated s       landed -> all in target   waiting for the cycle   "
            "cycle start -> all in target"
        )
        from_cycle: dict[str, float] = {}
        for pair, label in (("fast", "fast lane on"), ("cycle", "cycle alone")):
            total = burst.total(pair, s)
            waited, rest = burst.split(pair, s)
            if rest is not None:
                from_cycle[pair] = rest
            print(f"    {label:<33} {total:>8.0f} {_figure(waited):>23} {_figure(rest):>28}", flush=True)
        print(
            f"  burst with the fast lane finishes no later than the cycle alone: {burst_verdict(burst, from_cycle, s)}"
        )


@dataclass
class Burst:
    landed: dict[str, tuple[float, float]]  # pair: (wall, simulated) when its burst landed
    done: dict[str, float]  # pair: wall time when all its burst users were in the target
    cycle: dict[str, float]  # pair: simulated start of its job's first cycle after the burst landed
    errors: dict[str, str]  # pair: why its job could not be read

    def total(self, pair: str, scale: float) -> float:
        """Simulated seconds from the burst landed to all in the target; inf if it never was."""
        return (self.done[pair] - self.landed[pair][0]) * scale if pair in self.done else float("inf")

    def split(self, pair: str, scale: float) -> tuple[float | None, float | None]:
        """(waiting for the job's cycle to begin, from its start to all in the target), simulated seconds."""
        if pair not in self.cycle:
            return None, None
        waited = self.cycle[pair] - self.landed[pair][1]
        return waited, self.total(pair, scale) - waited


def burst_verdict(burst: Burst, from_cycle: dict[str, float], scale: float) -> str:
    """PASS when the fast pair, from its own job's cycle start, is all in the target no later than the cycle
    pair from its own (within the tolerance); never PASS when a job could not be read."""
    if len(from_cycle) < len(PAIRS):
        unread = ", ".join(
            f"{pair}: {burst.errors.get(pair, 'no cycle after the burst ended')}"
            for pair in PAIRS
            if pair not in from_cycle
        )
        return f"not evaluated (job status not read; {unread})"
    tolerance = BURST_POLLS * scale + BURST_TOLERANCE * from_cycle["cycle"]
    ok = from_cycle["fast"] <= from_cycle["cycle"] + tolerance
    gap = from_cycle["fast"] - from_cycle["cycle"]
    return (
        f"{'PASS' if ok else 'MISS'} (from each job's own cycle start, fast lane on minus cycle alone: "
        f"{gap:+.0f} simulated s; tolerance {tolerance:.0f}: {BURST_POLLS} polls of the target, "
        f"{BURST_POLLS * scale:.0f}, + {BURST_TOLERANCE:.0%} of the cycle alone's {from_cycle['cycle']:.0f})"
    )


def _figure(value: float | None) -> str:
    return "not read" if value is None else f"{value:.0f}"


class Jobs(GraphApp):
    """The pairs' synchronization jobs, read through Graph by a monitoring app, and entrasim's clock."""

    def __init__(self, emulator: Emulator, cluster: Cluster) -> None:
        super().__init__(emulator, MONITOR_APP_ID)
        self.control = emulator.control
        status = {item["metadata"]["name"]: item.get("status") or {} for item in cluster.items("syncscopes")}
        self.ids = {pair: (status[pair].get("servicePrincipalId"), status[pair].get("jobId")) for pair in PAIRS}
        self.errors: dict[str, str] = {}

    def now(self) -> float:
        return timestamp(self.control.get("/clock").json()["now"])

    def last_cycle_began(self, pair: str) -> float | None:
        """When the job's last ended cycle began (entrasim's clock), None if none has or the job is unread."""
        sp_id, job_id = self.ids[pair]
        if not (sp_id and job_id):
            self.errors[pair] = "no servicePrincipalId or jobId in the SyncScope's status"
            return None
        try:
            job = self.call("GET", f"/servicePrincipals/{sp_id}/synchronization/jobs/{job_id}")
        except httpx.HTTPError as exc:
            self.errors[pair] = f"GET job: {exc}"
            return None
        began = ((job.get("status") or {}).get("lastExecution") or {}).get("timeBegan")
        return timestamp(began) if began and not began.startswith("0001-") else None


def timestamp(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def ticks(began: float, every: float, seconds: float) -> Iterator[float]:
    at = began
    while at < began + seconds:
        yield at
        at += every


def lane_active(cluster: Cluster) -> bool:
    items = {i["metadata"]["name"]: i for i in cluster.items("syncscopes")}
    return ((items.get("fast", {}).get("status") or {}).get("fastLane") or {}).get("state") == "Active"


def synced(cluster: Cluster) -> int:
    def is_synced(item: dict[str, Any]) -> bool:
        conditions = (item.get("status") or {}).get("conditions") or ()
        return any(c["type"] == "Synced" and c["status"] == "True" for c in conditions)

    return cluster.count("syncscopes", is_synced)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 minutes of stream and a burst of 60: a smoke run")
    parser.add_argument("--time-scale", type=float, help="entrasim's simulated seconds per wall second")
    parser.add_argument("--burst", type=int, help="users in the burst (0: the stream only)")
    args = parser.parse_args()
    minutes, burst, scale = (2.0, 60, 30.0) if args.quick else (10.0, 500, 10.0)
    scale = args.time_scale or scale
    burst = burst if args.burst is None else args.burst
    with tempfile.TemporaryDirectory(prefix="ctsync-fastlane-") as workdir:
        run = Run(Path(workdir), minutes, 10.0, burst, scale)
        print(
            f"ctsync fast lane against the cycle alone: entrasim profile production, time scale {scale:g} "
            f"(a cycle every {40 / scale:.1f} wall min), {run.members} users in each scope; "
            f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, python {sys.version.split()[0]}",
            flush=True,
        )
        run()
    print(f"  load at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
