"""etcd and a kube-apiserver on loopback ports, as controller-runtime's envtest runs them: the e2e tests' cluster,
and the scale benchmark's. The binaries come from hack/envtest.sh."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import trustme
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

START_TIMEOUT = 60.0


class ControlPlaneError(Exception):
    """The control plane could not be started; the message is meant to be shown as is."""


def _free_ports(count: int) -> list[int]:
    # Hold all sockets open until every port is picked, so the ports differ from each other.
    socks = [socket.socket() for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def die_with_parent() -> None:
    # Runs in the child before exec. If pytest itself is killed (SIGKILL, or SIGTERM, which pytest
    # does not handle), no finalizer or atexit runs; the kernel then kills the child. 1 = PR_SET_PDEATHSIG.
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class ControlPlane:
    """etcd and kube-apiserver on loopback ports, with token auth and a kubeconfig for an admin."""

    def __init__(self, assets: Path) -> None:
        self.etcd_bin = assets / "etcd"
        self.apiserver_bin = assets / "kube-apiserver"
        self.dir = Path(tempfile.mkdtemp(prefix="ctsync-e2e-"))
        self.kubeconfig = self.dir / "kubeconfig"
        self._token = secrets.token_urlsafe(32)
        self._procs: list[subprocess.Popen[bytes]] = []
        # pytest's finalizers don't run when the interpreter exits early; atexit covers that.
        atexit.register(self.stop)

    def start(self) -> str:
        """Starts both processes, waits until the API server is ready, returns a summary line."""
        for binary in (self.etcd_bin, self.apiserver_bin):
            if not os.access(binary, os.X_OK):
                raise ControlPlaneError(
                    f"{binary} is missing or not executable; run hack/envtest.sh, or point "
                    "KUBEBUILDER_ASSETS at a directory holding kube-apiserver and etcd"
                )
        started = time.monotonic()
        etcd_port, peer_port, api_port = _free_ports(3)
        ca = self._write_credentials()

        etcd_url = f"http://127.0.0.1:{etcd_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        etcd = self._spawn(
            "etcd",
            [
                str(self.etcd_bin),
                f"--data-dir={self.dir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                # Test data is thrown away: skipping fsync makes every write much faster.
                "--unsafe-no-fsync=true",
            ],
        )
        plain = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._wait("etcd", etcd, lambda: json.load(plain.open(f"{etcd_url}/health", timeout=2))["health"])
        etcd_version = json.load(plain.open(f"{etcd_url}/version", timeout=2))["etcdserver"]

        server = f"https://127.0.0.1:{api_port}"
        apiserver = self._spawn(
            "kube-apiserver",
            [
                str(self.apiserver_bin),
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={api_port}",
                f"--cert-dir={self.dir}",
                f"--tls-cert-file={self.dir / 'apiserver.crt'}",
                f"--tls-private-key-file={self.dir / 'apiserver.key'}",
                f"--token-auth-file={self.dir / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                f"--service-account-issuer={server}/",
                f"--service-account-key-file={self.dir / 'sa.pub'}",
                f"--service-account-signing-key-file={self.dir / 'sa.key'}",
                # No controller manager runs here to create the default ServiceAccount.
                "--disable-admission-plugins=ServiceAccount",
                "--allow-privileged=true",
            ],
        )
        tls = ssl.create_default_context(cafile=str(ca))
        https = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=tls))

        def get(path: str) -> bytes:
            request = urllib.request.Request(server + path, headers={"Authorization": f"Bearer {self._token}"})
            with https.open(request, timeout=2) as response:
                return bytes(response.read())

        self._wait("kube-apiserver", apiserver, lambda: get("/readyz") == b"ok")
        elapsed = time.monotonic() - started
        version = json.loads(get("/version"))["gitVersion"]

        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "e2e", "cluster": {"server": server, "certificate-authority": str(ca)}}],
                    "users": [{"name": "admin", "user": {"token": self._token}}],
                    "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": "admin"}}],
                    "current-context": "e2e",
                }
            )
        )
        return f"kube-apiserver {version} (etcd {etcd_version}) at {server}, ready in {elapsed:.1f} s"

    def _write_credentials(self) -> Path:
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(self.dir / "ca.crt"))
        serving = ca.issue_cert("localhost", "127.0.0.1")
        serving.private_key_pem.write_to_path(str(self.dir / "apiserver.key"))
        with open(self.dir / "apiserver.crt", "wb") as chain:
            for pem in serving.cert_chain_pems:
                chain.write(pem.bytes())
        # The API server signs service-account tokens with this key; EC keeps key generation instant.
        sa_key = ec.generate_private_key(ec.SECP256R1())
        (self.dir / "sa.key").write_bytes(
            sa_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        (self.dir / "sa.pub").write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        # token,user,uid,"groups": system:masters bypasses RBAC, like envtest's admin user.
        (self.dir / "tokens.csv").write_text(f'{self._token},admin,admin,"system:masters"\n')
        return self.dir / "ca.crt"

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log_path = self.dir / f"{name}.log"
        with open(log_path, "wb") as out:
            # A new session makes the process a group leader, so stop() can kill all it spawned.
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
            )
        self._procs.append(proc)
        return proc

    def _wait(self, name: str, proc: subprocess.Popen[bytes], ready: Callable[[], object]) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ControlPlaneError(
                    f"{name} exited with code {proc.returncode} before it was ready" + self._tail(name)
                )
            try:
                if ready():
                    return
            except (OSError, ValueError, KeyError):
                pass  # not listening yet, or still starting up
            time.sleep(0.1)
        raise ControlPlaneError(f"{name} was not ready within {START_TIMEOUT:.0f} s" + self._tail(name))

    def _tail(self, name: str, lines: int = 8) -> str:
        log_path = self.dir / f"{name}.log"
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        hint = " (a port it needs is already in use)" if "address already in use" in text else ""
        last = "\n".join("    " + line for line in text.splitlines()[-lines:])
        return f"{hint}; last lines of its log:\n{last}"

    def stop(self) -> None:
        """Kills both process groups and removes the temporary directory; safe to call twice."""
        for proc in reversed(self._procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self._procs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)
