"""`ctsync bootstrap --tenant ID --role source|target|both`: gives ctsync its app registration in one tenant.

Signs in as an administrator with the device code flow (open the printed address on any machine, enter the
code), then through Microsoft Graph: creates or adopts the app registration `--app-name` and its service
principal (tagged `ctsync`), grants exactly the application permissions the role needs (docs/permissions.md,
least privilege, optional checks included) as admin consent, and adds one credential:

  workload-identity  a federated credential for --issuer and --subject (AKS: the cluster's OIDC issuer URL and
                     system:serviceaccount:<namespace>:<service account>); prints the Secret (clientId only)
                     and the Helm values for the ServiceAccount
  certificate        a new self-signed certificate; prints the Secret with tls.crt and tls.key
  secret             a client secret ending after --secret-days; prints the Secret with clientSecret

Idempotent: a re-run adds only what is missing and says when nothing is. --dry-run signs in, reads, and
prints the Graph calls it would make, writing nothing. Before the first write the signed-in user's directory
roles are checked: registering needs Application Administrator, Cloud Application Administrator or Global
Administrator; granting Graph application permissions needs Privileged Role Administrator or Global
Administrator. The secret or private key goes only to standard output, in the manifest; progress goes to
standard error.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import yaml

from ctsync.api.tenantpair import CLOUD_ENDPOINTS, CLOUDS
from ctsync.commands import EXIT_OK, CommandError, Subparsers, add_command
from ctsync.errors import TenantRole
from ctsync.planning.bootstrap import CREDENTIAL_KINDS, EXPIRY_WARNING_DAYS, Desired, Step

if TYPE_CHECKING:  # the Graph SDK: imported when the command runs
    from ctsync.graph.client import GraphClient

FEDERATION_AUDIENCES: Final = {
    "AzurePublic": "api://AzureADTokenExchange",
    "AzureUSGovernment": "api://AzureADTokenExchangeUSGov",
    "AzureChina": "api://AzureADTokenExchangeChina",
    "Custom": "api://AzureADTokenExchange",
}
DEFAULT_SUBJECT: Final = "system:serviceaccount:ctsync-system:ctsync"
CERTIFICATE_DAYS: Final = 365
Prompt = Callable[[str, str, datetime], None]


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "bootstrap",
        run,
        help="create ctsync's app registration, permissions and credential in one tenant",
        description=__doc__,
    )
    parser.add_argument("--tenant", required=True, metavar="ID", help="the tenant id (or initial domain)")
    parser.add_argument("--role", required=True, choices=("source", "target", "both"), help="what the tenant is")
    parser.add_argument("--credential", choices=CREDENTIAL_KINDS, default="certificate", help="default: certificate")
    parser.add_argument("--issuer", metavar="URL", help="workload identity: the cluster's service-account issuer")
    parser.add_argument(
        "--subject", metavar="SUBJECT", default=DEFAULT_SUBJECT, help=f"workload identity (default {DEFAULT_SUBJECT})"
    )
    parser.add_argument("--app-name", default="ctsync", help="display name of the app registration (default ctsync)")
    parser.add_argument(
        "--management-policy", choices=("Manage", "Observe"), default="Manage", help="the TenantPair's (default Manage)"
    )
    parser.add_argument("--cloud", choices=CLOUDS, default="AzurePublic", help="default AzurePublic")
    parser.add_argument("--authority-host", metavar="URL", help="Custom cloud: the login host")
    parser.add_argument("--graph-endpoint", metavar="URL", help="Custom cloud: the Graph endpoint")
    parser.add_argument("--ca-file", metavar="FILE", help="Custom cloud: the CA that signs its certificates")
    parser.add_argument("--secret-name", help="name of the printed Secret (default ctsync-<role>-credentials)")
    parser.add_argument("--namespace", default="ctsync-system", help="namespace of the printed Secret")
    parser.add_argument("--secret-days", type=int, default=180, help="secret: days until it expires (default 180)")
    parser.add_argument("--dry-run", action="store_true", help="print the Graph calls it would make; write nothing")
    parser.add_argument("--output", "-o", choices=("yaml",), default="yaml", help="the manifest's format")


@dataclass(frozen=True)
class Outcome:
    client_id: str | None
    steps: list[Step]
    secret_values: dict[str, str]  # what goes into the Secret besides clientId (secret or key material)


def run(args: argparse.Namespace, prompt: Prompt | None = None) -> int:
    from ctsync.graph.delegated import delegated_client
    from ctsync.reconcile.permissions import least_privilege

    if args.credential == "workload-identity" and not args.issuer:
        raise CommandError("--credential workload-identity needs --issuer", "the cluster's OIDC issuer URL")
    if not 1 <= args.secret_days <= 730:
        raise CommandError("--secret-days must be 1 to 730")
    roles: tuple[TenantRole, ...] = ("source", "target") if args.role == "both" else (args.role,)
    permissions = tuple(dict.fromkeys(p for r in roles for p in least_privilege(r, args.management_policy)))
    endpoints = _endpoints(args)
    now = datetime.now(UTC)
    desired, key_pem, cert_pem = _desired(args, permissions, now)
    known_cloud = args.cloud != "Custom"
    client = delegated_client(
        roles[0], args.tenant, endpoints, prompt or _show_prompt, known_cloud=known_cloud, ca_file=args.ca_file
    )
    outcome = asyncio.run(_bootstrap(client, desired, args.dry_run))
    if args.dry_run:
        return EXIT_OK
    values = dict(outcome.secret_values)
    if any(s.body and "keyCredentials" in s.body for s in outcome.steps):
        values.update({"tls.crt": cert_pem, "tls.key": key_pem})
    if values or args.credential == "workload-identity":
        _print_manifests(args, outcome.client_id or "", values)
    else:
        _say(f"no new {args.credential}: the Secret made when it was added stays valid; nothing printed")
    return EXIT_OK


def _endpoints(args: argparse.Namespace) -> Any:
    from ctsync.graph.endpoints import endpoints_for

    if args.cloud == "Custom":
        if not (args.authority_host and args.graph_endpoint):
            raise CommandError("--cloud Custom needs --authority-host and --graph-endpoint")
        return endpoints_for("Custom", args.authority_host, args.graph_endpoint)
    if args.authority_host or args.graph_endpoint:
        raise CommandError("--authority-host and --graph-endpoint are only for --cloud Custom")
    known = CLOUD_ENDPOINTS[args.cloud]
    return endpoints_for(args.cloud, known.authority_host, known.graph_endpoint)


def _desired(args: argparse.Namespace, permissions: tuple[str, ...], now: datetime) -> tuple[Desired, str, str]:
    key_pem = cert_pem = der_b64 = ""
    if args.credential == "certificate":
        key_pem, cert_pem, der_b64 = _new_certificate(args.app_name, now)
    desired = Desired(
        display_name=args.app_name,
        permissions=permissions,
        credential=args.credential,
        issuer=args.issuer,
        subject=args.subject,
        audience=FEDERATION_AUDIENCES[args.cloud],
        certificate_der_b64=der_b64 or None,
        secret_end=_iso(now + timedelta(days=args.secret_days)),
        renew_before=_iso(now + timedelta(days=EXPIRY_WARNING_DAYS)),
    )
    return desired, key_pem, cert_pem


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_certificate(name: str, now: datetime) -> tuple[str, str, str]:
    """A self-signed RSA certificate for client assertions: (key PEM, certificate PEM, base64 DER)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CERTIFICATE_DAYS))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode(), base64.b64encode(der).decode()


async def _bootstrap(client: GraphClient, desired: Desired, dry_run: bool) -> Outcome:
    from ctsync.planning.bootstrap import BootstrapRefused, plan
    from ctsync.reconcile import bootstrap as graph

    try:
        try:
            observed = await graph.observe(client, desired.display_name)
            steps = plan(desired, observed)
        except (BootstrapRefused, graph.AmbiguousApp) as exc:
            raise CommandError(f"tenant {client.tenant_id}: {exc}", "nothing was written") from None
        client_id = (observed.app or {}).get("appId")
        if not steps:
            _say(
                f"tenant {client.tenant_id}: app registration {desired.display_name} ({client_id}) is complete; "
                "nothing to change"
            )
            return Outcome(client_id, [], {})
        for step in steps:
            _say(f"{'would ' if dry_run else ''}{step.summary}: {step.method} {step.path}")
            if dry_run and step.body is not None:
                _say("    " + _redacted_body(step.body))
        if dry_run:
            return Outcome(client_id, steps, {})
        answers = await graph.run(client, steps, observed)
    finally:
        await client.close()
    created = next((a for s, a in zip(steps, answers, strict=True) if s.saves == "application"), None)
    client_id = (created or {}).get("appId", client_id)
    secret = next((a for s, a in zip(steps, answers, strict=True) if s.secret_answer), None)
    _say(f"tenant {client.tenant_id}: done, {len(steps)} change(s); app {client_id}")
    return Outcome(client_id, steps, {"clientSecret": secret["secretText"]} if secret else {})


def _redacted_body(body: Mapping[str, Any]) -> str:
    """A step's body for the dry run, the certificate cut short (it is public, but long)."""
    text = yaml.safe_dump(dict(body), default_flow_style=True, width=10_000).strip()
    return text if len(text) < 400 else text[:400] + "..."


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def _show_prompt(verification_uri: str, user_code: str, expires_on: datetime) -> None:
    _say(
        f"To sign in as an administrator of the tenant, open {verification_uri} and enter the code {user_code} "
        f"(valid until {expires_on:%H:%M} UTC)."
    )


def _print_manifests(args: argparse.Namespace, client_id: str, values: Mapping[str, str]) -> None:
    name = args.secret_name or f"ctsync-{args.role}-credentials"
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": args.namespace},
        "type": "Opaque",
        "stringData": {"clientId": client_id, **values},
    }
    documents: list[dict[str, Any]] = [secret]
    if args.credential == "workload-identity":
        documents.append({"workloadIdentity": {"enabled": True, "clientId": client_id}})
        _say("the second document holds Helm values for the chart (workload identity on the ServiceAccount)")
    print(yaml.safe_dump_all(documents, sort_keys=False), end="")
