"""Runs the emulator over HTTPS: in a background thread for tests and the demo, or in the foreground.

A CA and a serving certificate for 127.0.0.1/localhost are generated into the state directory;
clients trust `ca.pem` explicitly."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import trustme
from aiohttp import web

from .app import create_app
from .core.profile import FAST, Profile
from .world import World

T = TypeVar("T")
TICK_SECONDS = 0.25  # how often scaled simulated time is checked for due provisioning cycles


def make_tls(state_dir: Path) -> tuple[ssl.SSLContext, Path]:
    ca = trustme.CA()
    ca_path = state_dir / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost", "::1").configure_cert(context)
    return context, ca_path


class EntraSim:
    """One emulator server. `start()` binds a port (0 = any free one) and serves from a daemon thread."""

    def __init__(
        self,
        state_dir: str | Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_scale: float = 1.0,
        world: World | None = None,
        profile: Profile = FAST,
        random_seed: int = 0,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.host, self.port = host, port
        self.world = world or World(time_scale=time_scale, profile=profile, random_seed=random_seed)
        self.base_url = ""
        self.ca_path = self.state_dir / "ca.pem"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ticker: asyncio.Task[None] | None = None

    async def start_async(self) -> None:
        """Starts serving on the running loop (the foreground `entrasim serve` path)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tls, self.ca_path = make_tls(self.state_dir)
        self._runner = web.AppRunner(create_app(self.world), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=tls, backlog=512)
        await site.start()
        self.port = self._runner.addresses[0][1]  # the port the OS picked when asked for 0
        self.base_url = f"https://{self.host}:{self.port}"
        self.world.base_url = self.base_url
        self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def stop_async(self) -> None:
        if self._ticker:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._runner:
            await self._runner.cleanup()

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            if self.world.clock.time_scale > 0:
                self.world.tick()

    def start(self) -> EntraSim:
        """Serves from a daemon thread with its own event loop; returns once the port is bound."""
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(self.start_async())
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.stop_async())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="entrasim", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            raise failure[0]
        return self

    def call(self, fn: Callable[[World], T]) -> T:
        """Runs fn(world) on the server thread, so tests never race the request handlers."""
        assert self._loop is not None, "EntraSim.call needs a server started with start()"

        async def run() -> T:
            return fn(self.world)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=60)

    def stop(self) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = self._thread = None

    def __enter__(self) -> EntraSim:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
