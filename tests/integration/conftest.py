"""Fixtures for tests that talk to a real entrasim server over HTTPS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from entrasim.core.profile import PRODUCTION
from entrasim.server import EntraSim
from support.sim import ca_context, fetch_token, graph_sdk_client, start_sim


def _serve_until_done(server: EntraSim) -> Iterator[EntraSim]:
    yield server
    internal_errors = server.call(lambda world: list(world.internal_errors))
    server.stop()
    assert not internal_errors, f"the emulator answered 500 for: {internal_errors}"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[EntraSim]:
    """A started emulator with Contoso (source) and Fabrikam (target); simulated time moves only when told."""
    yield from _serve_until_done(start_sim(tmp_path / "entrasim"))


@pytest.fixture
def production_sim(tmp_path: Path) -> Iterator[EntraSim]:
    """Like `sim`, on the production profile (replication delay, latency, transient 503/504s), random seed 0.
    New objects appear to other callers only after the clock moves (at most 15 s)."""
    yield from _serve_until_done(start_sim(tmp_path / "entrasim", profile=PRODUCTION))


@pytest.fixture
def graph_http(sim: EntraSim) -> Iterator[Callable[[str], httpx.Client]]:
    """graph_http("contoso") -> an httpx.Client on <base>/v1.0 carrying a token of that tenant's ctsync app."""
    clients: list[httpx.Client] = []

    def make(tenant_key: str) -> httpx.Client:
        client = httpx.Client(
            base_url=f"{sim.base_url}/v1.0",
            verify=ca_context(sim),
            headers={"Authorization": f"Bearer {fetch_token(sim, tenant_key)}"},
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def control(sim: EntraSim) -> Iterator[httpx.Client]:
    """An httpx.Client on the control API (/_entrasim)."""
    with httpx.Client(base_url=f"{sim.base_url}/_entrasim", verify=ca_context(sim)) as client:
        yield client


@pytest.fixture
def sdk_client(sim: EntraSim):  # type: ignore[no-untyped-def]
    """sdk_client("contoso") -> a msgraph GraphServiceClient for that tenant (use from async tests)."""
    return lambda tenant_key: graph_sdk_client(sim, tenant_key)
