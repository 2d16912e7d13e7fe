"""`ctsync bootstrap` against entrasim over HTTPS: the device code sign-in (completed through the control API in
place of the browser), the app registration, admin consent and one credential per kind, idempotent re-runs, the
role check before any write, and the printed Secret driving real token requests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import jwt
import pytest
import yaml

from ctsync import cli
from ctsync.commands import bootstrap as command
from ctsync.graph.credentials import make_credential
from ctsync.graph.endpoints import endpoints_for
from ctsync.reconcile.permissions import least_privilege
from support.sim import CONTOSO, FABRIKAM, GRAPH_SCOPE, ca_context, tenant_pair_body

ISSUER = "https://oidc.example.test/cluster-1"
SUBJECT = "system:serviceaccount:ctsync-system:ctsync"


@pytest.fixture
def sign_in_as(sim, monkeypatch):
    """sign_in_as(upn, *roles): the user, with those directory roles, completes every device code prompt."""

    def use(upn: str, *roles: str, tenant_key: str = "contoso") -> None:
        from support.sim import add_user_with_roles

        add_user_with_roles(sim, tenant_key, upn, roles)

        def complete(uri: str, user_code: str, expires_on: object) -> None:
            with httpx.Client(verify=ca_context(sim)) as http:
                done = http.post(f"{sim.base_url}/_entrasim/device-codes/{user_code}/complete", json={"user": upn})
                done.raise_for_status()

        monkeypatch.setattr(command, "_show_prompt", complete)

    return use


def bootstrap(sim, capsys, *args: str, tenant: str = CONTOSO) -> tuple[int, list[dict], str]:
    code = cli.main(
        [
            "bootstrap",
            "--tenant",
            tenant,
            "--cloud",
            "Custom",
            "--authority-host",
            sim.base_url,
            "--graph-endpoint",
            sim.base_url,
            "--ca-file",
            str(sim.ca_path),
            *args,
        ]
    )
    out, err = capsys.readouterr()
    return code, [d for d in yaml.safe_load_all(out) if d], err


def token_roles(sim, secret_data: dict[str, str], token_file: Path | None = None) -> list[str]:
    endpoints = endpoints_for("Custom", sim.base_url, sim.base_url)

    async def get() -> str:
        cred = make_credential(
            CONTOSO,
            secret_data,
            endpoints,
            ca_file=str(sim.ca_path),
            federated_token_file=str(token_file) if token_file else None,
        )
        async with cred:
            return (await cred.get_token(GRAPH_SCOPE)).token

    return sorted(jwt.decode(asyncio.run(get()), options={"verify_signature": False})["roles"])


@pytest.mark.parametrize("role", ["source", "target", "both"])
def test_certificate_bootstrap_grants_exactly_the_roles_permissions(sim, capsys, sign_in_as, role):
    sign_in_as("admin@contoso.onmicrosoft.com", "Global Administrator")
    code, docs, err = bootstrap(sim, capsys, "--role", role, "--credential", "certificate")
    assert code == 0, err
    secret = docs[0]["stringData"]
    assert docs[0]["kind"] == "Secret" and set(secret) == {"clientId", "tls.crt", "tls.key"}
    wanted = least_privilege("source") + least_privilege("target") if role == "both" else least_privilege(role)
    assert token_roles(sim, secret) == sorted(set(wanted))
    assert "PRIVATE KEY" not in err


def test_secret_bootstrap_then_a_rerun_changes_nothing(sim, capsys, sign_in_as):
    sign_in_as("admin@contoso.onmicrosoft.com", "Global Administrator")
    code, docs, err = bootstrap(sim, capsys, "--role", "source", "--credential", "secret", "--secret-days", "90")
    assert code == 0, err
    secret = docs[0]["stringData"]
    assert secret["clientSecret"] not in err
    assert token_roles(sim, secret) == sorted(least_privilege("source"))
    code, docs, err = bootstrap(sim, capsys, "--role", "source", "--credential", "secret")
    assert code == 0 and docs == [] and "nothing to change" in err
    apps = sim.call(
        lambda w: [a for a in w.tenant(CONTOSO).applications.list_applications() if a["displayName"] == "ctsync"]
    )
    assert len(apps) == 1 and len(apps[0]["passwordCredentials"]) == 1
    assert apps[0]["passwordCredentials"][0]["endDateTime"] < time.strftime(
        "%Y-%m-%d", time.gmtime(time.time() + 91 * 86400)
    )


def test_workload_identity_bootstrap_serves_the_service_account(sim, capsys, sign_in_as, tmp_path):
    sign_in_as("admin@contoso.onmicrosoft.com", "Global Administrator")
    args = ("--role", "target", "--credential", "workload-identity", "--issuer", ISSUER, "--subject", SUBJECT)
    code, docs, err = bootstrap(sim, capsys, *args)
    assert code == 0, err
    secret, values = docs[0]["stringData"], docs[1]
    assert set(secret) == {"clientId"} and values == {
        "workloadIdentity": {"enabled": True, "clientId": secret["clientId"]}
    }
    token_file = tmp_path / "token"
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "iat": now, "exp": now + 600}
    token_file.write_text(jwt.encode(claims, "k" * 32))
    assert token_roles(sim, secret, token_file) == sorted(least_privilege("target"))
    code, docs, err = bootstrap(sim, capsys, *args)
    assert code == 0 and "nothing to change" in err and docs[0]["stringData"]["clientId"] == secret["clientId"]


def test_dry_run_prints_the_calls_and_writes_nothing(sim, capsys, sign_in_as):
    sign_in_as("admin@contoso.onmicrosoft.com", "Global Administrator")
    code, docs, err = bootstrap(sim, capsys, "--role", "source", "--dry-run")
    assert code == 0 and docs == []
    assert "would create the app registration ctsync: POST /applications" in err
    assert "would grant Policy.ReadWrite.CrossTenantAccess (admin consent)" in err
    assert sim.call(lambda w: w.tenant(CONTOSO).applications.list_applications()) == []


def test_application_administrator_is_stopped_before_any_write_with_the_role_named(sim, capsys, sign_in_as):
    sign_in_as("apps@contoso.onmicrosoft.com", "Application Administrator")
    code, docs, err = bootstrap(sim, capsys, "--role", "source")
    assert code == 1 and docs == []
    assert "needs Global Administrator or Privileged Role Administrator" in err and "nothing was written" in err
    assert sim.call(lambda w: w.tenant(CONTOSO).applications.list_applications()) == []


def test_an_interrupted_bootstrap_completes_on_rerun_without_duplicates(sim, capsys, sign_in_as, control):
    sign_in_as("admin@contoso.onmicrosoft.com", "Global Administrator")
    # the first run dies at its first grant (as if the connection dropped after the app and its service principal)
    fault = {"method": "POST", "path": "/appRoleAssignedTo$", "status": 500, "times": 1}
    control.post("/faults", json=fault).raise_for_status()
    code, _, err = bootstrap(sim, capsys, "--role", "source", "--credential", "secret")
    assert code == 1
    code, docs, err = bootstrap(sim, capsys, "--role", "source", "--credential", "secret")
    assert code == 0, err
    assert token_roles(sim, docs[0]["stringData"]) == sorted(least_privilege("source"))
    assert len(sim.call(lambda w: w.tenant(CONTOSO).applications.list_applications())) == 1
    assert len(sim.call(lambda w: w.tenant(CONTOSO).applications.list_service_principals())) == 1


def test_explain_warns_of_a_secret_ending_within_30_days(sim, capsys, sign_in_as, tmp_path):
    credentials = {"entrasim-ca": {"ca.crt": sim.ca_path.read_text()}}
    for tenant, key, days in ((CONTOSO, "contoso", "20"), (FABRIKAM, "fabrikam", "180")):
        sign_in_as(f"admin@{key}.onmicrosoft.com", "Global Administrator", tenant_key=key)
        code, docs, err = bootstrap(
            sim, capsys, "--role", "both", "--credential", "secret", "--secret-days", days, tenant=tenant
        )
        assert code == 0, err
        credentials[f"{key}-credentials"] = docs[0]["stringData"]
    pair = tenant_pair_body(sim)
    pair["metadata"] = {"name": pair["metadata"]["name"]}
    (tmp_path / "pair.yaml").write_text(yaml.safe_dump(pair))
    (tmp_path / "credentials.yaml").write_text(yaml.safe_dump(credentials))
    args = ["tenantpair/contoso-to-fabrikam", str(tmp_path / "pair.yaml")]
    code = cli.main(["explain", *args, "--credentials", str(tmp_path / "credentials.yaml"), "--namespace", "tenants"])
    out, err = capsys.readouterr()
    assert code == 3, out + err
    (warning,) = [line for line in out.splitlines() if line.startswith("  ! ") and "CredentialExpiring" in line]
    assert "the source tenant's app" in warning and "client secret ctsync ends" in warning
    assert "ctsync bootstrap" in out.splitlines()[out.splitlines().index(warning) + 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--credential", "workload-identity"], "--credential workload-identity needs --issuer"),
        (["--cloud", "Custom"], "--cloud Custom needs --authority-host and --graph-endpoint"),
        (["--secret-days", "0"], "--secret-days must be 1 to 730"),
    ],
)
def test_bad_flags_are_one_line_before_any_sign_in(capsys, args, message):
    code = cli.main(["bootstrap", "--tenant", CONTOSO, "--role", "source", *args])
    err = capsys.readouterr().err
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1
