"""The Kubernetes cluster of a kubeconfig, as `plan`, `apply` and `status` read it: Secrets and ctsync objects.

Every failure becomes a CommandError that says what to check (kubeconfig, reachability, RBAC, CRDs).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any, Final, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ctsync.api import constants
from ctsync.commands import CommandError

T = TypeVar("T")
REQUEST_TIMEOUT: Final = 15  # seconds per API call
KUBECONFIG_HINT: Final = "pass --kubeconfig FILE and --context NAME, or set KUBECONFIG"


class Cluster:
    def __init__(self, kubeconfig: str | None, context: str | None) -> None:
        try:
            self.api = config.new_client_from_config(config_file=kubeconfig, context=context)
            contexts, current = config.list_kube_config_contexts(config_file=kubeconfig)
        except (ConfigException, OSError, TypeError, ValueError) as exc:
            raise CommandError(f"cannot load the kubeconfig: {exc}", KUBECONFIG_HINT) from None
        chosen = next((c for c in contexts if c["name"] == context), current) if context else current
        # The context's namespace, as kubectl uses it for objects that name none.
        self.namespace: str = (chosen or {}).get("context", {}).get("namespace") or "default"
        self.server: str = self.api.configuration.host
        self._core = client.CoreV1Api(self.api)
        self._custom = client.CustomObjectsApi(self.api)

    def close(self) -> None:
        self.api.close()

    def secret(self, namespace: str, name: str) -> dict[str, str] | None:
        """A Secret's data, decoded; None when it does not exist."""
        found = self._call(
            lambda: self._core.read_namespaced_secret(name, namespace, _request_timeout=REQUEST_TIMEOUT),
            f"read Secret {namespace}/{name}",
            if_missing=lambda: None,
        )
        if found is None:
            return None
        try:
            return {key: base64.b64decode(value).decode() for key, value in (found.data or {}).items()}
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise CommandError(f"Secret {namespace}/{name} holds a value that is not text: {exc}") from None

    def status(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        """The status of a ctsync object, {} when it (or its CRD) does not exist in the cluster."""

        def fetch() -> Any:
            return self._custom.get_namespaced_custom_object(
                constants.GROUP, constants.VERSION, namespace, plural, name, _request_timeout=REQUEST_TIMEOUT
            )

        found = self._call(fetch, f"read {plural} {namespace}/{name}", if_missing=dict)
        return dict(found.get("status") or {})

    def list(self, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        """ctsync objects of one kind, in a namespace or (None) in all of them."""
        where = f"in namespace {namespace}" if namespace else "in all namespaces"

        def fetch() -> Any:
            if namespace is None:
                return self._custom.list_cluster_custom_object(
                    constants.GROUP, constants.VERSION, plural, _request_timeout=REQUEST_TIMEOUT
                )
            return self._custom.list_namespaced_custom_object(
                constants.GROUP, constants.VERSION, namespace, plural, _request_timeout=REQUEST_TIMEOUT
            )

        found = self._call(fetch, f"list {plural}.{constants.GROUP} {where}")
        return list(found.get("items") or [])

    def _call(self, fn: Callable[[], T], what: str, *, if_missing: Callable[[], T] | None = None) -> T:
        """fn(), or if_missing() when the API answers 404 and that is expected."""
        try:
            return fn()
        except ApiException as exc:
            if exc.status == 404 and if_missing is not None:
                return if_missing()
            raise self._refused(exc, what) from None
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            raise CommandError(
                f"cannot reach the Kubernetes API at {self.server}: {reason}",
                "check that the cluster is up and that --kubeconfig/--context point at it",
            ) from None

    def _refused(self, exc: ApiException, what: str) -> CommandError:
        message = f"the Kubernetes API refused to {what}: {exc.status} {exc.reason}"
        if exc.status in (401, 403):
            return CommandError(message, f"the kubeconfig's user needs RBAC permission to {what.split()[0]} it")
        if exc.status == 404:
            return CommandError(
                message, "are the ctsync CRDs installed? (kubectl apply -f crds/, or install the Helm chart)"
            )
        return CommandError(message)
