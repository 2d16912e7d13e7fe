"""Settings of `ctsync operator`: each option comes from its flag, else from CTSYNC_<FLAG>, else a default.

Parsed once, at start-up, into a frozen `Settings`; nothing reads the environment after that.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, TypeVar, cast

ENV_PREFIX: Final = "CTSYNC_"
DEFAULT_MAX_REQUESTS: Final = 32
DEFAULT_MAX_REQUESTS_PER_TENANT: Final = 8
MAX_CONCURRENT_AUDITS: Final = 64
MAX_REQUEST_LIMIT: Final = 1024  # a sanity bound, far above what Graph lets one app send a tenant
LOG_FORMATS: Final = ("json", "text")
MAX_SHARDS: Final = 16

LogFormat = Literal["json", "text"]
T = TypeVar("T")


@dataclass(frozen=True)
class Shard:
    """`--shard INDEX/COUNT`: this replica handles the TenantPairs (with theirs) in slot INDEX of COUNT."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class Settings:
    namespaces: tuple[str, ...] = ()  # kopf namespace patterns; empty means every namespace
    metrics_port: int = 8080
    health_port: int = 8081
    drift_interval: float = 300.0  # seconds between drift checks of each resource
    audit_interval: float = 900.0  # seconds between scope audits (full reads) of each SyncScope
    fast_lane_interval: float = 15.0  # seconds between delta rounds of a SyncScope with spec.fastLane
    log_format: LogFormat = "json"
    peering: str | None = None  # a KopfPeering name; None runs standalone
    priority: int = 0  # this replica's peering priority (only with a peering)
    # The cluster, as the other commands name it; neither: the pod's service account, else KUBECONFIG.
    kubeconfig: str | None = None
    context: str | None = None
    max_graph_requests: int = DEFAULT_MAX_REQUESTS  # in flight, all tenants together
    max_graph_requests_per_tenant: int = DEFAULT_MAX_REQUESTS_PER_TENANT
    max_concurrent_audits: int = 4  # scope audits at once: each holds its whole scope in memory
    shard: Shard | None = None  # handle only the TenantPairs (and theirs) in this slot; None handles all

    @property
    def all_namespaces(self) -> bool:
        return not self.namespaces

    @property
    def standalone(self) -> bool:
        return self.peering is None

    @property
    def liveness_endpoint(self) -> str:
        return f"http://0.0.0.0:{self.health_port}/healthz"


def env_name(flag: str) -> str:
    """--drift-interval -> CTSYNC_DRIFT_INTERVAL."""
    return ENV_PREFIX + flag.removeprefix("--").replace("-", "_").upper()


def parse_shard(text: str) -> Shard:
    """ "INDEX/COUNT", e.g. "0/3": COUNT from 1 to MAX_SHARDS, INDEX from 0 to COUNT-1."""
    index_text, slash, count_text = text.partition("/")
    if not slash or not index_text.strip().isdigit() or not count_text.strip().isdigit():
        raise ValueError(f"{text!r} is not INDEX/COUNT (e.g. 0/3)")
    index, count = int(index_text), int(count_text)
    if not 1 <= count <= MAX_SHARDS:
        raise ValueError(f"COUNT must be from 1 to {MAX_SHARDS} (got {count})")
    if not 0 <= index < count:
        raise ValueError(f"INDEX must be from 0 to {count - 1} (got {index})")
    return Shard(index, count)


def port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise ValueError(f"{value} is not a TCP port (1..65535)")
    return value


def positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(f"{text} is not a positive number of seconds")
    return value


def count_up_to(upper: int) -> Callable[[str], int]:
    """A converter of a whole number from 1 to `upper`."""

    def convert(text: str) -> int:
        value = int(text)
        if not 1 <= value <= upper:
            raise ValueError(f"{value} is out of range (1..{upper})")
        return value

    return convert


def log_format(text: str) -> LogFormat:
    if text not in LOG_FORMATS:
        raise ValueError(f"{text!r} is not one of {', '.join(LOG_FORMATS)}")
    return cast(LogFormat, text)


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a boolean (true or false)")


def add_operator_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of `ctsync operator`. Defaults are None so that an unset flag can fall back to the env."""
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--namespace",
        "-n",
        action="append",
        metavar="NS",
        help="watch this namespace (repeatable; kopf globs such as 'team-*,!*-dev' allowed). "
        "Env: CTSYNC_NAMESPACE, space-separated",
    )
    scope.add_argument(
        "--all-namespaces",
        "-A",
        action="store_true",
        default=None,
        help="watch every namespace (the default). Env: CTSYNC_ALL_NAMESPACES",
    )
    parser.add_argument("--metrics-port", metavar="PORT", help="Prometheus /metrics port (default 8080)")
    parser.add_argument("--health-port", metavar="PORT", help="liveness /healthz port (default 8081)")
    parser.add_argument(
        "--drift-interval",
        metavar="SECONDS",
        help="how often each resource is compared with its tenants (default 300)",
    )
    parser.add_argument(
        "--audit-interval",
        metavar="SECONDS",
        help="how often a SyncScope's users are counted in both tenants, a full read of each (default 900)",
    )
    parser.add_argument(
        "--fast-lane-interval",
        metavar="SECONDS",
        help="how often a SyncScope with spec.fastLane reads the source's changes (default 15)",
    )
    parser.add_argument("--log-format", metavar="FORMAT", help="json (default) or text")
    peering = parser.add_mutually_exclusive_group()
    peering.add_argument(
        "--standalone",
        action="store_true",
        default=None,
        help="run without peering (the default): run one replica",
    )
    peering.add_argument(
        "--peering", metavar="NAME", help="pause while a higher-priority replica in this KopfPeering is alive"
    )
    parser.add_argument("--priority", metavar="N", help="this replica's priority in --peering (distinct per replica)")
    parser.add_argument(
        "--shard",
        metavar="INDEX/COUNT",
        help=f"handle only the TenantPairs, with their SyncScopes and AttributeMappings, whose namespace/name "
        f"hash falls in slot INDEX of COUNT (1..{MAX_SHARDS}); one replica per slot (default: all)",
    )
    parser.add_argument(
        "--max-concurrent-audits",
        metavar="N",
        help="scope audits running at once, each holding its scope in memory (default 4, 1..64)",
    )
    parser.add_argument(
        "--max-graph-requests",
        metavar="N",
        help=f"Graph requests in flight at most, all tenants together (default {DEFAULT_MAX_REQUESTS})",
    )
    parser.add_argument(
        "--max-graph-requests-per-tenant",
        metavar="N",
        help=f"Graph requests in flight at most to one tenant (default {DEFAULT_MAX_REQUESTS_PER_TENANT})",
    )
    parser.add_argument(
        "--kubeconfig",
        metavar="FILE",
        help="kubeconfig to use (default: the pod's service account, else $KUBECONFIG, ~/.kube/config). "
        "Env: CTSYNC_KUBECONFIG",
    )
    parser.add_argument(
        "--context", metavar="NAME", help="kubeconfig context to use (default: the current one). Env: CTSYNC_CONTEXT"
    )


def resolve(args: argparse.Namespace, env: Mapping[str, str], parser: argparse.ArgumentParser) -> Settings:
    """Settings from the flags, else the environment, else the defaults; bad values exit via parser.error."""

    def pick(flag: str, convert: Callable[[str], T], default: T) -> T:
        given = getattr(args, flag.removeprefix("--").replace("-", "_"))
        source, text = (flag, given) if given is not None else (env_name(flag), env.get(env_name(flag)))
        if text is None:
            return default
        try:
            return convert(text)
        except ValueError as exc:
            parser.error(f"{source}: {exc}")

    def env_flag(flag: str) -> bool | None:
        text = env.get(env_name(flag))
        try:
            return None if text is None else boolean(text)
        except ValueError as exc:
            parser.error(f"{env_name(flag)}: {exc}")

    peering = _peering(args, env, env_flag, parser)
    priority = pick("--priority", int, 0)
    if peering is None and priority:
        parser.error("--priority (CTSYNC_PRIORITY) only applies with --peering (CTSYNC_PEERING)")
    metrics_port = pick("--metrics-port", port, Settings.metrics_port)
    health_port = pick("--health-port", port, Settings.health_port)
    max_requests = pick("--max-graph-requests", count_up_to(MAX_REQUEST_LIMIT), Settings.max_graph_requests)
    per_tenant = pick(
        "--max-graph-requests-per-tenant", count_up_to(MAX_REQUEST_LIMIT), Settings.max_graph_requests_per_tenant
    )
    if per_tenant > max_requests:
        parser.error(f"--max-graph-requests-per-tenant ({per_tenant}) exceeds --max-graph-requests ({max_requests})")
    if metrics_port == health_port:
        parser.error(f"--metrics-port and --health-port are both {health_port}; they need one port each")
    return Settings(
        namespaces=_namespaces(args, env, env_flag, parser),
        metrics_port=metrics_port,
        health_port=health_port,
        drift_interval=pick("--drift-interval", positive_seconds, Settings.drift_interval),
        audit_interval=pick("--audit-interval", positive_seconds, Settings.audit_interval),
        fast_lane_interval=pick("--fast-lane-interval", positive_seconds, Settings.fast_lane_interval),
        log_format=pick("--log-format", log_format, Settings.log_format),
        peering=peering,
        priority=priority,
        kubeconfig=pick("--kubeconfig", str, None),
        context=pick("--context", str, None),
        max_concurrent_audits=pick(
            "--max-concurrent-audits", count_up_to(MAX_CONCURRENT_AUDITS), Settings.max_concurrent_audits
        ),
        max_graph_requests=max_requests,
        max_graph_requests_per_tenant=per_tenant,
        shard=pick("--shard", parse_shard, None),
    )


# A flag on either side of a choice overrides both of its variables; two variables that contradict each
# other are an error rather than a silent precedence rule.


def _namespaces(
    args: argparse.Namespace,
    env: Mapping[str, str],
    env_flag: Callable[[str], bool | None],
    parser: argparse.ArgumentParser,
) -> tuple[str, ...]:
    if args.namespace:
        return tuple(args.namespace)
    if args.all_namespaces:
        return ()
    listed = tuple(env.get(env_name("--namespace"), "").split())
    if env_flag("--all-namespaces") and listed:
        parser.error("CTSYNC_NAMESPACE and CTSYNC_ALL_NAMESPACES=true contradict each other: set one")
    return listed


def _peering(
    args: argparse.Namespace,
    env: Mapping[str, str],
    env_flag: Callable[[str], bool | None],
    parser: argparse.ArgumentParser,
) -> str | None:
    if args.peering:
        return str(args.peering)
    if args.standalone:
        return None
    peering = env.get(env_name("--peering")) or None
    standalone = env_flag("--standalone")
    if standalone is not None and standalone == (peering is not None):
        parser.error(
            "CTSYNC_STANDALONE and CTSYNC_PEERING contradict each other: "
            "set CTSYNC_PEERING for peering, nothing (or CTSYNC_STANDALONE=true) for standalone"
        )
    return peering
