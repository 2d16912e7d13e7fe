"""`ctsync status`: the TenantPairs and SyncScopes of a cluster as the operator last reported them.

Read from their status (nothing is asked of the tenants): Ready and its reason, the synchronization job's
state, users in scope against users synced into the target, the last successful cycle, drift, and the
user principal name a synced user gets in the target.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ctsync.api import conditions, constants
from ctsync.commands import EXIT_OK, Subparsers, add_cluster_flags, add_command, add_output_flag
from ctsync.commands.output import Style, age, print_json, table

KINDS = (
    (constants.KIND_TENANT_PAIR, constants.PLURAL_TENANT_PAIRS),
    (constants.KIND_SYNC_SCOPE, constants.PLURAL_SYNC_SCOPES),
)


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "status",
        run,
        help="show the tenant pairs and sync scopes of a cluster: readiness, job, synced users, drift",
        description=__doc__,
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--namespace", "-n", help="the namespace to show (default: the kubeconfig context's)")
    where.add_argument("--all-namespaces", "-A", action="store_true", help="show every namespace")
    add_cluster_flags(parser)
    add_output_flag(parser)


def run(args: argparse.Namespace) -> int:
    from ctsync.commands.kube import Cluster  # the kubernetes client: imported when it runs (see ctsync.commands)

    cluster = Cluster(args.kubeconfig, args.context)
    try:
        namespace = None if args.all_namespaces else args.namespace or cluster.namespace
        rows = [row(kind, item) for kind, plural in KINDS for item in cluster.list(plural, namespace)]
    finally:
        cluster.close()
    rows.sort(key=lambda r: (r["namespace"], r["name"], r["kind"] != constants.KIND_TENANT_PAIR))
    if args.output == "json":
        print_json({"resources": rows})
    elif not rows:
        print(f"No ctsync resources found in {f'namespace {namespace}' if namespace else 'any namespace'}.")
    else:
        print_table(rows, all_namespaces=namespace is None)
    return EXIT_OK


def row(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    metadata, status = item.get("metadata") or {}, item.get("status") or {}
    found = {c.get("type"): c for c in status.get("conditions") or ()}
    ready, drifted = found.get(conditions.READY, {}), found.get(conditions.DRIFTED)
    return {
        "kind": kind,
        "namespace": metadata.get("namespace", ""),
        "name": metadata.get("name", ""),
        "ready": ready.get("status", "Unknown"),
        "reason": ready.get("reason", ""),
        "message": ready.get("message", "the operator has not reported on it yet"),
        # The status describes an older spec until the operator has seen this generation.
        "current": status.get("observedGeneration") == metadata.get("generation"),
        "jobCode": status.get("jobCode"),
        "scopeSize": status.get("scopeSize"),
        "syncedUsers": status.get("syncedUsers"),
        "lastSuccessfulExecutionTime": status.get("lastSuccessfulExecutionTime"),
        "quarantine": status.get("quarantine"),
        "drifted": None if drifted is None else drifted.get("status") == "True",
        "drift": drifted.get("message", "") if drifted and drifted.get("status") == "True" else "",
        "upnSample": status.get("upnSample") or [],
    }


def print_table(rows: list[dict[str, Any]], *, all_namespaces: bool) -> None:
    now = datetime.now(UTC)
    style = Style(sys.stdout)
    headers = ["KIND", "NAME", "READY", "REASON", "JOB", "SYNCED/SCOPE", "LAST SYNC", "DRIFT"]
    lines = []
    for r in rows:
        synced = "-" if r["scopeSize"] is None else f"{r['syncedUsers'] or 0}/{r['scopeSize']}"
        drift = {None: "-", True: "yes", False: "no"}[r["drifted"]]
        cells = [r["kind"], r["name"], r["ready"] + ("" if r["current"] else "*"), r["reason"] or "-"]
        cells += [r["jobCode"] or "-", synced, _ago(r["lastSuccessfulExecutionTime"], now), drift]
        lines.append([r["namespace"], *cells] if all_namespaces else cells)
    for line in table(["NAMESPACE", *headers] if all_namespaces else headers, lines):
        print(line)
    if not all(r["current"] for r in rows):
        print(style.dim("* the operator has not reconciled the latest spec yet"))
    for r in rows:
        if r["ready"] != "True" or r["drifted"]:
            detail = r["drift"] if r["ready"] == "True" else r["message"]
            print(f"{style.yellow('!')} {r['kind']} {r['namespace']}/{r['name']}: {detail}")
    for r in rows:
        for entry in r["upnSample"][:1]:  # one example: the table stays a table
            print(f"{r['kind']} {r['namespace']}/{r['name']}: named in the target like {entry['target']}")


def _ago(timestamp: str | None, now: datetime) -> str:
    text = age(timestamp, now)
    return text if text == "-" else f"{text} ago"
