"""The `ctsync` command line: one function per subcommand, each registered in build_parser()."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from . import __version__, config
from .commands import CommandParser, bootstrap, demo, explain, plan, status, validate

log = logging.getLogger("ctsync")

# Libraries that log every request, token or liveness probe at INFO: lines that say nothing about resources.
QUIET_LOGGERS = ("azure", "httpx", "kubernetes", "aiohttp.access")


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="ctsync",
        description="Manage Microsoft Entra cross-tenant synchronization from Kubernetes resources.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    operator = commands.add_parser(
        "operator",
        help="run the operator",
        description="Reconcile TenantPair, SyncScope and AttributeMapping resources with both tenants. "
        "Every flag can also be set as CTSYNC_<FLAG>, e.g. CTSYNC_DRIFT_INTERVAL=600; a flag wins.",
    )
    config.add_operator_arguments(operator)
    operator.set_defaults(run=run_operator, command_parser=operator)
    validate.register(commands)
    plan.register(commands)
    status.register(commands)
    explain.register(commands)
    bootstrap.register(commands)
    demo.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args, args.command_parser)
    return code


def run_operator(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    settings = config.resolve(args, os.environ, parser)
    # Imported here, not at the top: kopf and the Graph SDK take seconds to import, which --help,
    # --version and the offline subcommands should not pay.
    import kopf

    from . import handlers
    from .commands.kube import KUBECONFIG_HINT
    from .handlers import logs
    from .handlers.settings import cluster_configuration

    try:
        cluster_configuration(settings)  # what kopf's login does: a wrong flag is one line, not a traceback
    except kopf.PermanentError as exc:
        print(f"ctsync operator: {exc} (hint: {KUBECONFIG_HINT})", file=sys.stderr)
        return 1

    kopf.configure(
        log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.FULL,
        log_prefix=settings.log_format == "text",  # "[namespace/name]" before each object's lines
        log_refkey="object" if settings.log_format == "json" else None,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logs.install()
    scope = ", ".join(settings.namespaces) or "all namespaces"
    mode = "standalone" if settings.standalone else f"peering {settings.peering} priority {settings.priority}"
    if settings.shard is not None:
        mode += f", shard {settings.shard}"
    log.info(
        "ctsync %s operator starting: %s, drift interval %gs, audit interval %gs, %s, liveness %s",
        __version__,
        scope,
        settings.drift_interval,
        settings.audit_interval,
        mode,
        settings.liveness_endpoint,
    )
    asyncio.run(
        kopf.operator(
            registry=handlers.build_registry(settings),
            clusterwide=settings.all_namespaces,
            namespaces=settings.namespaces,
            liveness_endpoint=settings.liveness_endpoint,
        )
    )
    return 0
