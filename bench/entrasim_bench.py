"""entrasim benchmarks: each figure is printed with its target and PASS or MISS.

A script, not a test: speed depends on the machine, so no test asserts it. Run it from the repository root:

    .venv/bin/python bench/entrasim_bench.py                 # every figure
    .venv/bin/python bench/entrasim_bench.py --only engine   # seed, paging, members, gets, engine

Figures:
  seed     load_seed of a generated 100k-user tenant; `entrasim seed generate` + reading + loading it
  paging   all 100k users of a tenant, 999 per page, with a plain synchronous httpx client
  members  a 100k-member group's members and transitiveMembers ($select, 999 per page) against /users paged
           the same way, best of 3 rounds each: each must read at no less than half the /users rate
  gets     small GETs per second (GET /v1.0/users/{id}) against `entrasim serve` pinned to one core,
           with wrk (or a Python client when wrk is not installed) on the other core
  engine   CPU seconds of one provisioning cycle over 10k in-scope users: initial, incremental, full
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from entrasim.applications.models import CTS_TEMPLATE_ID
from entrasim.seed import generate, load_seed, read_seed_file
from entrasim.server import EntraSim
from entrasim.synchronization.job import CYCLE_INTERVAL_SECONDS
from entrasim.synchronization.provisioning import (
    CREATE_SECONDS,
    INCREMENTAL_EXPORT_SECONDS,
    MATCH_SECONDS,
)
from entrasim.world import Tenant, World

CONTOSO = "5f0ad2c4-6a55-4b73-9d2e-0b9a3c1e7f10"
FABRIKAM = "9c3e1b7a-2d4f-4e8b-a1c6-7f5d0e2b4a93"
APP_ID = "0b7e3c1a-5d2f-4a8e-9c6b-1e4f7a2d3b58"
SECRET = "bench-secret"
ROLES = ["User.Read.All", "Directory.Read.All"]
SEED_USERS = 100_000
SEED_GROUPS = 10
PAGE_SIZE = 999
ENGINE_USERS = 10_000
CHANGED_USERS = 100
GETS_SECONDS = 10
GETS_CONNECTIONS = 16
GETS_IDS = 999  # Graph's largest page of users; read in turn, so no single object stays hot in a cache


@dataclass
class Figure:
    name: str
    target: str
    measured: float
    unit: str
    passed: bool
    command: str

    def row(self) -> str:
        verdict = "PASS" if self.passed else "MISS"
        return f"{self.name:<56} {self.target:>12} {self.measured:>12,.2f} {self.unit:<6} {verdict}"


def at_most(name: str, seconds: float, limit: float, command: str) -> Figure:
    return Figure(name, f"<= {limit:g} s", seconds, "s", seconds <= limit, command)


def at_least(name: str, rate: float, floor: float, command: str) -> Figure:
    return Figure(name, f">= {floor:,.0f}/s", rate, "/s", rate >= floor, command)


@contextmanager
def stopwatch(clock: Callable[[], float] = time.perf_counter) -> Iterator[list[float]]:
    """Yields a one-item list that holds the elapsed time once the block ends."""
    elapsed = [0.0]
    gc.collect()  # earlier figures' garbage is not this figure's cost
    start = clock()
    yield elapsed
    elapsed[0] = clock() - start


def tenant_doc(users: int) -> dict[str, Any]:
    """A generated tenant with `users` members, plus an app that may read them (secret auth)."""
    doc = generate(
        users=users, groups=SEED_GROUPS, tenant_id=CONTOSO, domain="contoso.onmicrosoft.com", display_name="Contoso"
    )
    doc["tenants"][0]["apps"] = [{"appId": APP_ID, "displayName": "bench", "roles": ROLES, "secrets": [SECRET]}]
    return doc


def token(base_url: str, ca: str) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": SECRET,
        "scope": "https://graph.microsoft.com/.default",
    }
    reply = httpx.post(f"{base_url}/{CONTOSO}/oauth2/v2.0/token", data=form, verify=ca)
    reply.raise_for_status()
    return str(reply.json()["access_token"])


# --- seeding ------------------------------------------------------------------------------------------------


def bench_seed(work: Path) -> list[Figure]:
    doc = tenant_doc(SEED_USERS)
    with stopwatch() as loaded:
        load_seed(World(), doc)
    seed_file = work / "seed.json"
    command = [
        sys.executable, "-m", "entrasim", "seed", "generate", "--users", str(SEED_USERS),
        "--groups", str(SEED_GROUPS), "--tenant-id", CONTOSO, "--domain", "contoso.onmicrosoft.com",
        "-o", str(seed_file),
    ]  # fmt: skip
    with stopwatch() as generated_and_loaded:
        subprocess.run(command, check=True, capture_output=True)
        (tenant,) = load_seed(World(), read_seed_file(seed_file))
    assert len(tenant.directory.users) == SEED_USERS
    return [
        at_most("seed: load_seed, 100k users + 10 groups", loaded[0], 10, "load_seed(World(), generate(...))"),
        at_most(
            "seed: `entrasim seed generate` + read + load, 100k",
            generated_and_loaded[0],
            10,
            "entrasim seed generate --users 100000 --groups 10 ...; load_seed(read_seed_file(...))",
        ),
    ]


# --- paging -------------------------------------------------------------------------------------------------


def bench_paging(work: Path) -> list[Figure]:
    sim = EntraSim(work / "paging", time_scale=0).start()
    try:
        sim.call(lambda world: setattr(world.throttle, "enabled", False))
        sim.call(lambda world: load_seed(world, tenant_doc(SEED_USERS)))
        headers = {"Authorization": f"Bearer {token(sim.base_url, str(sim.ca_path))}"}
        seen = 0
        with httpx.Client(verify=str(sim.ca_path), headers=headers) as client, stopwatch() as paged:
            url: str | None = f"{sim.base_url}/v1.0/users?$top={PAGE_SIZE}"
            while url:
                body = client.get(url).raise_for_status().json()
                seen += len(body["value"])
                url = body.get("@odata.nextLink")
    finally:
        sim.stop()
    assert seen == SEED_USERS, seen
    return [
        at_most(
            "paging: 100k users, 999 per page, httpx (sync)",
            paged[0],
            3,
            "GET /v1.0/users?$top=999, then each @odata.nextLink",
        )
    ]


# --- member paging ------------------------------------------------------------------------------------------

MEMBER_SELECT = "id,displayName,userPrincipalName"
MEMBER_ROUNDS = 3


def read_all(client: httpx.Client, url: str) -> tuple[float, float]:
    """Follows @odata.nextLink from `url` to the end; returns the objects read per wall-clock second and
    per CPU second of this process (the server and the client both)."""
    seen = 0
    next_url: str | None = url
    with stopwatch() as wall, stopwatch(time.process_time) as cpu:
        while next_url:
            body = client.get(next_url).raise_for_status().json()
            seen += len(body["value"])
            next_url = body.get("@odata.nextLink")
    assert seen == SEED_USERS, (url, seen)
    return seen / wall[0], seen / cpu[0]


def bench_members(work: Path) -> list[Figure]:
    """A group holding all 100k users, read through members and transitiveMembers, against /users read with
    the same $select and page size from the same server. The target is a ratio, checked on CPU time: on a
    shared machine the wall time mostly measures the other processes, the CPU time what a page costs."""
    sim = EntraSim(work / "members", time_scale=0).start()
    try:
        sim.call(lambda world: setattr(world.throttle, "enabled", False))
        (tenant,) = sim.call(lambda world: load_seed(world, tenant_doc(SEED_USERS)))
        everyone = {"displayName": "everyone", "mailEnabled": False, "mailNickname": "all", "securityEnabled": True}
        group = sim.call(lambda _: tenant.directory.create_group(everyone, members=list(tenant.directory.users)))
        headers = {"Authorization": f"Bearer {token(sim.base_url, str(sim.ca_path))}"}
        query = f"$select={MEMBER_SELECT}&$top={PAGE_SIZE}"
        urls = {
            "/users": f"{sim.base_url}/v1.0/users?{query}",
            "/groups/{id}/members": f"{sim.base_url}/v1.0/groups/{group['id']}/members?{query}",
            "/groups/{id}/transitiveMembers": f"{sim.base_url}/v1.0/groups/{group['id']}/transitiveMembers?{query}",
        }
        wall, cpu = dict.fromkeys(urls, 0.0), dict.fromkeys(urls, 0.0)
        with httpx.Client(verify=str(sim.ca_path), headers=headers, timeout=600) as client:
            for _ in range(MEMBER_ROUNDS):  # interleaved, best of each: a burst of load hits one read, not all
                for name, url in urls.items():
                    by_wall, by_cpu = read_all(client, url)
                    wall[name], cpu[name] = max(wall[name], by_wall), max(cpu[name], by_cpu)
    finally:
        sim.stop()
    command = f"GET ...?{query}, then each @odata.nextLink; best of {MEMBER_ROUNDS}"
    floor = cpu["/users"] / 2
    figures = [Figure(f"members: {name}, wall clock", "(reference)", wall[name], "/s", True, command) for name in urls]
    figures.append(Figure("members: /users, per CPU second", "(reference)", cpu["/users"], "/s", True, command))
    figures += [at_least(f"members: {name}, per CPU second", cpu[name], floor, command) for name in list(urls)[1:]]
    return figures


# --- small GETs per second ----------------------------------------------------------------------------------


@contextmanager
def served(work: Path, seed_file: Path) -> Iterator[tuple[str, str]]:
    """`entrasim serve` pinned to core 0; yields (base URL, CA path) from the JSON line it prints."""
    command = [
        "taskset", "-c", "0", sys.executable, "-m", "entrasim", "serve", "--state-dir", str(work / "serve"),
        "--seed", str(seed_file), "--time-scale", "0", "--no-throttling",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = ""
        while not line.startswith("{"):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError("entrasim serve exited before listening")
        started = json.loads(line)
        yield started["baseUrl"], started["caPath"]
    finally:
        process.terminate()
        process.wait(timeout=30)


def wrk_rate(urls: list[str], bearer: str, work: Path) -> tuple[float, str]:
    """wrk on core 1, each request to the next of `urls` (a Lua script rotates the paths)."""
    script = work / "rotate.lua"
    paths = ", ".join(json.dumps(urlsplit(u).path) for u in urls)
    script.write_text(
        f"local paths = {{{paths}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n"
    )
    command = [
        "taskset", "-c", "1", "wrk", "-t1", f"-c{GETS_CONNECTIONS}", f"-d{GETS_SECONDS}s", "-s", str(script),
        "-H", f"Authorization: Bearer {bearer}", urls[0],
    ]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if "Non-2xx or 3xx responses" in out:
        raise RuntimeError(f"wrk saw errors:\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert rate is not None, out
    return float(rate.group(1)), f"wrk -t1 -c{GETS_CONNECTIONS} -d{GETS_SECONDS}s, {len(urls)} ids in turn (core 1)"


def python_rate(urls: list[str], bearer: str, ca: str) -> tuple[float, str]:
    """The fallback load: one keep-alive httpx client in this process, on core 1. One connection cannot
    keep the server busy while it parses each answer, so this figure is lower than wrk's."""
    os.sched_setaffinity(0, {1})
    count, deadline = 0, time.perf_counter() + GETS_SECONDS
    with httpx.Client(verify=ca, headers={"Authorization": f"Bearer {bearer}"}) as client:
        start = time.perf_counter()
        while time.perf_counter() < deadline:
            client.get(urls[count % len(urls)]).raise_for_status()
            count += 1
        elapsed = time.perf_counter() - start
    return count / elapsed, f"httpx sync loop, ONE connection, {len(urls)} ids in turn (core 1; no wrk here)"


def bench_gets(work: Path) -> list[Figure]:
    seed_file = work / "gets-seed.json"
    doc = tenant_doc(SEED_USERS)
    seed_file.write_text(json.dumps(doc))
    with served(work, seed_file) as (base_url, ca):
        bearer = token(base_url, ca)
        # Ids are made when the server loads the seed: ask it for some.
        auth = {"Authorization": f"Bearer {bearer}"}
        listed = httpx.get(f"{base_url}/v1.0/users?$top={GETS_IDS}&$select=id", headers=auth, verify=ca).json()["value"]
        urls = [f"{base_url}/v1.0/users/{user['id']}" for user in listed]
        rate, how = wrk_rate(urls, bearer, work) if shutil.which("wrk") else python_rate(urls, bearer, ca)
    return [
        at_least(
            "gets: GET /v1.0/users/{id}, varied ids, server on one core",
            rate,
            1000,
            f"taskset -c 0 entrasim serve --no-throttling; {how}",
        )
    ]


# --- the provisioning engine --------------------------------------------------------------------------------


def cts_world(users: int) -> tuple[World, Tenant, Tenant, dict[str, Any], Any]:
    """Contoso provisioning `users` members into Fabrikam through one started CTS job, policies allowed."""
    world = World(time_scale=0)
    source = world.add_tenant(CONTOSO, "contoso.onmicrosoft.com", "Contoso")
    target = world.add_tenant(FABRIKAM, "fabrikam.onmicrosoft.com", "Fabrikam")
    target.policies.create_partner({"tenantId": CONTOSO})
    target.policies.create_identity_sync(CONTOSO, {"userSyncInbound": {"isSyncAllowed": True}})
    target.policies.update_partner(CONTOSO, {"automaticUserConsentSettings": {"inboundAllowed": True}})
    source.policies.create_partner({"tenantId": FABRIKAM})
    source.policies.update_partner(FABRIKAM, {"automaticUserConsentSettings": {"outboundAllowed": True}})
    _, sp = source.applications.instantiate(CTS_TEMPLATE_ID, "Fabrikam")
    directory = source.directory
    ids = [
        directory.create_user(
            {
                "userPrincipalName": f"user{i:05d}@contoso.com",
                "displayName": f"User {i:05d}",
                "accountEnabled": True,
                "mail": f"user{i:05d}@contoso.com",
                "department": "Sales",
                "jobTitle": "Engineer",
                "city": "Paris",
            }
        )["id"]
        for i in range(users)
    ]
    group = directory.create_group(
        {"displayName": "everyone", "mailEnabled": False, "mailNickname": "everyone", "securityEnabled": True},
        members=ids,
    )
    role = sp["appRoles"][0]["id"]
    source.applications.assign(sp["id"], {"principalId": group["id"], "resourceId": sp["id"], "appRoleId": role})
    sync = source.synchronization
    job = sync.create_job(sp["id"], "Azure2Azure")
    secrets = {
        "CompanyId": FABRIKAM,
        "SyncAll": "false",
        "SyncNotificationSettings": '{"DeleteThresholdEnabled":false}',
    }
    sync.put_secrets(sp["id"], [{"key": k, "value": v} for k, v in secrets.items()])
    sync.start_job(sp["id"], job.id)
    return world, source, target, sp, job


def cycle_cpu(world: World, seconds: float) -> float:
    """CPU seconds this process spends moving the clock forward and running the cycle(s) that fall due."""
    with stopwatch(time.process_time) as cpu:
        world.clock.advance(seconds)
        world.tick()
    return cpu[0]


def bench_engine(_: Path) -> list[Figure]:
    world, source, target, sp, job = cts_world(ENGINE_USERS)
    initial = cycle_cpu(world, ENGINE_USERS * CREATE_SECONDS + 1)  # + 1: the cycle adds up costs in floats
    assert len(target.directory.users) == ENGINE_USERS
    for user_id in list(source.directory.users)[:CHANGED_USERS]:
        source.directory.update_user(user_id, {"department": "Ops"})
    incremental = cycle_cpu(world, CYCLE_INTERVAL_SECONDS + CHANGED_USERS * INCREMENTAL_EXPORT_SECONDS)
    assert job.status["lastSuccessfulExecutionWithExports"]["countExported"] == CHANGED_USERS
    source.synchronization.restart_job(sp["id"], job.id, {"resetScope": "Watermark"})
    full = cycle_cpu(world, ENGINE_USERS * MATCH_SECONDS + 1)
    assert job.status["lastSuccessfulExecution"]["countEntitled"] == ENGINE_USERS
    how = "World.tick() after advancing the clock; time.process_time()"
    return [
        at_most("engine: initial cycle, 10k users (all created), CPU", initial, 5, how),
        at_most("engine: incremental cycle, 100 of 10k changed, CPU", incremental, 5, how),
        at_most("engine: full re-evaluation, 10k users (watermark), CPU", full, 5, how),
    ]


BENCHES: dict[str, Callable[[Path], list[Figure]]] = {
    "seed": bench_seed,
    "paging": bench_paging,
    "members": bench_members,
    "gets": bench_gets,
    "engine": bench_engine,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(BENCHES), help="comma-separated: " + ", ".join(BENCHES))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(names) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmarks: {sorted(unknown)}")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"{'figure':<56} {'target':>12} {'measured':>12} {'':<6} result")
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="entrasim-bench-") as tmp:
        for name in names:
            for figure in BENCHES[name](Path(tmp)):
                print(figure.row(), flush=True)
                figures.append(figure)
    if args.json:
        args.json.write_text(json.dumps([f.__dict__ for f in figures], indent=2))
    missed = [f.name for f in figures if not f.passed]
    print(
        f"{len(figures) - len(missed)} of {len(figures)} figures within target"
        + (f"; missed: {missed}" if missed else "")
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
