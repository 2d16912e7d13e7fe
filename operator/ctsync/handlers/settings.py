"""Operator start-up and shutdown: kopf's settings, and the Runtime the handlers share."""

from __future__ import annotations

import logging
import socket
from typing import Any, Final

import kopf
import kubernetes

from ..api.constants import FINALIZER, GROUP
from ..config import Settings
from . import runtime

# kopf's own bookkeeping (handler progress, the last handled spec) lives in annotations under this prefix.
# Not GROUP itself: kopf marks its storage prefix and then ignores *every* annotation under it when it
# compares specs, which would hide ctsync.io/* annotations (restart-job, mappings-revision) from handlers.
STORAGE_PREFIX: Final = f"kopf.{GROUP}"

# Seconds a peering keep-alive stays valid. A replica killed without a goodbye (SIGKILL, a lost node) blocks
# its standby until its last keep-alive expires: kopf's 60 s would mean up to a minute with no operator.
# kopf renews every lifetime minus 5 to 10 s, so 20 s costs one small PATCH per replica every 10 to 15 s
# and bounds a take-over to about 20 s plus a re-list.
PEERING_LIFETIME: Final = 20


def configure(settings: kopf.OperatorSettings, config: Settings) -> None:
    # Our finalizer name on every TenantPair and SyncScope (timers and delete handlers need one).
    settings.persistence.finalizer = FINALIZER
    # Progress and the diff base in annotations, never in status: the CRDs' structural status schemas
    # would prune kopf's fields there, and handlers would then retry forever.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=STORAGE_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix=STORAGE_PREFIX)
    # We post our own Events (bridge.emit); kopf's log lines stay logs. `loggers` is already False in
    # kopf 1.45, and the level keeps "handler succeeded" lines out should anyone switch it on.
    settings.posting.loggers = False
    settings.posting.level = logging.WARNING
    # Events name their source: "ctsync" and the pod (its hostname) rather than "kopf"/"dev".
    settings.posting.reporting_component = "ctsync"
    settings.posting.reporting_instance = socket.gethostname()
    settings.posting.event_name_prefix = "ctsync-event-"
    # Framework errors (not handler errors, which Outcome.retry_after schedules): retry soon, then settle
    # at five minutes rather than kopf's ten.
    settings.queueing.error_delays = (1, 2, 5, 10, 30, 60, 120, 300)
    # Kubernetes API calls are small; a minute is generous and frees a stuck connection long before
    # aiohttp's five-minute default. Watch streams have their own inactivity timeout (70 s).
    # A timer still running when its resource is deleted is re-checked this often (kopf's default, 60 s,
    # keeps a deleted resource Terminating for a minute after its finalizer succeeded).
    settings.background.cancellation_polling = 1
    settings.networking.request_timeout = 60
    settings.networking.connect_timeout = 10
    # One replica by default (the chart's Deployment uses Recreate); a peering name makes replicas defer
    # to the highest priority alive.
    settings.peering.standalone = config.standalone
    if config.peering is not None:
        settings.peering.name = config.peering
        settings.peering.mandatory = True
        settings.peering.priority = config.priority
        settings.peering.lifetime = PEERING_LIFETIME


def connection_info(configuration: Any, settings: kopf.OperatorSettings) -> kopf.ConnectionInfo:
    """kopf's login from a kubernetes client Configuration, read as kopf.login_via_client reads one."""
    # Newer clients keep the token under BearerToken, older ones under authorization.
    header = configuration.get_api_key_with_prefix("BearerToken") or configuration.get_api_key_with_prefix(
        "authorization"
    )
    parts = header.split(" ", 1) if header else []
    scheme, token = (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
        trust_env=settings.networking.trust_env,
    )


def cluster_configuration(config: Settings) -> Any:
    try:
        return runtime.kube_configuration(config.kubeconfig, config.context)
    except (kubernetes.config.ConfigException, OSError) as exc:
        # Nothing works without cluster credentials: exit rather than let kopf retry every minute.
        where = config.kubeconfig or "in-cluster, KUBECONFIG or ~/.kube/config"
        context = f", context {config.context}" if config.context else ""
        raise kopf.PermanentError(f"no Kubernetes configuration ({where}{context}): {exc}") from None


def register(registry: kopf.OperatorRegistry, config: Settings) -> None:
    # A registry of our own starts without kopf's implicit logins: kopf logs in to the cluster that
    # --kubeconfig/--context name (else the pod's service account, else KUBECONFIG), as the Secret reads do.
    @kopf.on.login(registry=registry, id="ctsync.login")
    def login(settings: kopf.OperatorSettings, **_: Any) -> kopf.ConnectionInfo:
        return connection_info(cluster_configuration(config), settings)

    @kopf.on.startup(registry=registry, id="ctsync.startup")
    async def start(settings: kopf.OperatorSettings, **_: Any) -> None:
        configure(settings, config)
        kube = kubernetes.client.ApiClient(cluster_configuration(config))
        rt = runtime.Runtime(config, kube)
        try:
            rt.serve_metrics()
        except OSError as exc:  # the port is taken: exit, as without credentials
            raise kopf.PermanentError(f"cannot serve metrics on port {config.metrics_port}: {exc}") from None
        runtime.install(rt)

    @kopf.on.cleanup(registry=registry, id="ctsync.cleanup")
    async def stop(**_: Any) -> None:
        await runtime.uninstall()
