"""What the handlers share while the operator runs: its settings, metrics, the pool of Graph clients and a
Kubernetes client. The startup handler installs one Runtime; the cleanup handler closes and removes it."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
import weakref
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any
from wsgiref.simple_server import WSGIServer

import kubernetes
from kubernetes.client.exceptions import ApiException

from ..api.constants import GROUP, VERSION
from ..config import Settings
from ..errors import DependencyNotReady
from ..metrics import Metrics
from ..reconcile.connections import ClientPool
from ..reconcile.links import LinkCache
from .indexes import Key


def kube_configuration(kubeconfig: str | None = None, context: str | None = None) -> Any:
    """The cluster `ctsync operator` works on: the kubeconfig file and context it was given, as the other
    commands take them; without either, the pod's service account, else KUBECONFIG (or ~/.kube/config)."""
    configuration = kubernetes.client.Configuration()
    if kubeconfig is None and context is None:
        try:
            kubernetes.config.load_incluster_config(client_configuration=configuration)
            return configuration
        except kubernetes.config.ConfigException:
            pass
    kubernetes.config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
    return configuration


class Audits:
    """When each SyncScope last audited its scope (a full read of the scope and of the target's users), and
    at which generation. In memory: a restarted operator audits each SyncScope at its first pass.

    An audit holds its whole scope in memory, so only `at_once` run together: a restarted operator resumes
    every SyncScope at the same moment, and a hundred scopes read at once would hold a hundred scopes."""

    def __init__(self, interval: float, at_once: int = 4, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: dict[Key, tuple[int, float]] = {}
        self.slots = asyncio.Semaphore(at_once)

    def due(self, key: Key, generation: int) -> bool:
        """Whether the next pass audits: none yet, a new spec, or the last one is an interval old."""
        last = self._last.get(key)
        return last is None or last[0] != generation or self._clock() - last[1] >= self._interval

    def done(self, key: Key, generation: int) -> None:
        self._last[key] = (generation, self._clock())

    def forget(self, key: Key) -> None:
        self._last.pop(key, None)


class Runtime:
    def __init__(self, config: Settings, kube: Any) -> None:
        self.config = config
        self._kube = kube
        self._core = kubernetes.client.CoreV1Api(kube)
        self._custom = kubernetes.client.CustomObjectsApi(kube)
        self.metrics = Metrics()
        self.pool = ClientPool(
            self.read_secret,
            observer=self.metrics.observe_graph,
            max_requests=config.max_graph_requests,
            max_requests_per_tenant=config.max_graph_requests_per_tenant,
        )
        self.audits = Audits(config.audit_interval, config.max_concurrent_audits)
        self.links = LinkCache()
        self._metrics_server: WSGIServer | None = None
        # Change handlers and the drift timer of one object run concurrently in kopf; one pass at a time
        # keeps non-idempotent creates (configuration, assignments) from racing each other.
        self._locks: weakref.WeakValueDictionary[tuple[str, str, str], asyncio.Lock] = weakref.WeakValueDictionary()

    def serve_metrics(self) -> None:
        """Serves GET /metrics on the configured port; raises OSError when the port is taken."""
        self._metrics_server = self.metrics.serve(self.config.metrics_port)

    async def close(self) -> None:
        if self._metrics_server is not None:
            # shutdown() waits for the serving thread to notice, up to its half-second poll.
            await asyncio.to_thread(self._metrics_server.shutdown)
            self._metrics_server.server_close()
        await self.pool.close()
        await asyncio.to_thread(self._kube.close)

    @asynccontextmanager
    async def serialized(self, body: Mapping[str, Any]) -> AsyncIterator[None]:
        """Holds the object's lock for one reconcile or finalize pass."""
        meta = body.get("metadata") or {}
        key = (str(body.get("kind")), str(meta.get("namespace")), str(meta.get("name")))
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield

    async def read_secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """A Secret's data, decoded; None when it does not exist. Values never reach a log or an error."""
        try:
            secret = await asyncio.to_thread(self._core.read_namespaced_secret, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            # `from None`: the client's exception carries the whole HTTP exchange.
            raise DependencyNotReady(
                f"Secret {namespace}/{name} could not be read: {exc.status} {exc.reason}"
            ) from None
        try:
            return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}
        except (binascii.Error, UnicodeDecodeError):
            raise DependencyNotReady(f"Secret {namespace}/{name} holds a value that is not UTF-8 text") from None

    async def annotate(self, plural: str, namespace: str, name: str, annotations: Mapping[str, str]) -> bool:
        """Merge-patches annotations onto one of our resources; False when it no longer exists."""
        try:
            await asyncio.to_thread(
                self._custom.patch_namespaced_custom_object,
                GROUP,
                VERSION,
                namespace,
                plural,
                name,
                {"metadata": {"annotations": dict(annotations)}},
                _content_type="application/merge-patch+json",
            )
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def read_status(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The status the API server holds now; None when the object is gone. A pass that waited for the object's
        lock plans from this, not from the status its event carried: the pass before it may have recorded a
        create since, and planning from the older status would create the same object again."""
        try:
            found = await asyncio.to_thread(
                self._custom.get_namespaced_custom_object_status, GROUP, VERSION, namespace, plural, name
            )
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise DependencyNotReady(
                f"the status of {plural}/{namespace}/{name} could not be read: {exc.status} {exc.reason}"
            ) from None
        return dict(found.get("status") or {}) if isinstance(found, dict) else None

    async def patch_status(self, plural: str, namespace: str, name: str, fields: Mapping[str, Any]) -> None:
        """Merge-patches status fields at once, outside kopf's patch at the end of the handler. A failure is
        DependencyNotReady: the pass stops before its next Graph write."""
        try:
            await asyncio.to_thread(
                self._custom.patch_namespaced_custom_object_status,
                GROUP,
                VERSION,
                namespace,
                plural,
                name,
                {"status": dict(fields)},
                _content_type="application/merge-patch+json",
            )
        except ApiException as exc:
            raise DependencyNotReady(
                f"the status of {plural}/{namespace}/{name} could not be written: {exc.status} {exc.reason}"
            ) from None


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the ctsync runtime is not installed: the startup handler has not run")
    return _current


async def uninstall() -> None:
    global _current
    if _current is not None:
        await _current.close()
        _current = None
