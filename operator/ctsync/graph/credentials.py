"""Builds an azure-identity async credential from the keys of a credentials Secret.

Accepted shapes: clientId + clientSecret; clientId + tls.crt + tls.key (certificate); clientId alone
with a federated token file (workload identity). The CA for a Custom cloud is passed explicitly,
never through SSL_CERT_FILE or REQUESTS_CA_BUNDLE."""

from __future__ import annotations

import os
from collections.abc import Mapping

from azure.core.credentials_async import AsyncTokenCredential
from azure.identity.aio import CertificateCredential, ClientSecretCredential, WorkloadIdentityCredential

from .endpoints import CloudEndpoints

FEDERATED_TOKEN_FILE_ENV = "AZURE_FEDERATED_TOKEN_FILE"


class CredentialsMalformed(ValueError):
    """The Secret does not hold one usable credential. The message names keys, never values."""


def make_credential(
    tenant_id: str,
    secret: Mapping[str, str],
    endpoints: CloudEndpoints,
    *,
    ca_file: str | None = None,
    federated_token_file: str | None = None,
) -> AsyncTokenCredential:
    client_id = secret.get("clientId", "").strip()
    if not client_id:
        raise CredentialsMalformed("the credentials Secret has no 'clientId' key")
    authority, verify = endpoints.authority_host, ca_file or True
    if secret.get("clientSecret"):
        return ClientSecretCredential(
            tenant_id, client_id, secret["clientSecret"], authority=authority, connection_verify=verify
        )
    if secret.get("tls.crt") or secret.get("tls.key"):
        if not (secret.get("tls.crt") and secret.get("tls.key")):
            raise CredentialsMalformed("the credentials Secret needs both 'tls.crt' and 'tls.key'")
        pem = (secret["tls.key"].rstrip() + "\n" + secret["tls.crt"].rstrip() + "\n").encode()
        return CertificateCredential(
            tenant_id, client_id, certificate_data=pem, authority=authority, connection_verify=verify
        )
    token_file = secret.get("federatedTokenFile") or federated_token_file or os.environ.get(FEDERATED_TOKEN_FILE_ENV)
    if token_file:
        return WorkloadIdentityCredential(
            tenant_id=tenant_id,
            client_id=client_id,
            token_file_path=token_file,
            authority=authority,
            connection_verify=verify,
        )
    raise CredentialsMalformed(
        "the credentials Secret needs 'clientSecret', or 'tls.crt' and 'tls.key', or a federated token file "
        f"(workload identity: ${FEDERATED_TOKEN_FILE_ENV})"
    )
