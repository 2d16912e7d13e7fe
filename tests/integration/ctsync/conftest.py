"""A ClientPool reading Secrets from a dict, against the emulator."""

from __future__ import annotations

import pytest

from ctsync.reconcile.connections import ClientPool
from support.sim import credentials_secrets


@pytest.fixture
def secrets(sim) -> dict[str, dict[str, str]]:
    return credentials_secrets(sim)


@pytest.fixture
async def pool(secrets):
    async def read_secret(namespace: str, name: str):
        return secrets.get(name)

    clients = ClientPool(read_secret)
    yield clients
    await clients.close()
