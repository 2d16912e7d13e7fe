"""`entrasim serve` and `entrasim seed generate`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from dataclasses import replace
from pathlib import Path

from .core.profile import Profile, ProfileError, profile_named, tuned
from .seed import SeedError, generate, load_seed, read_seed_file
from .server import EntraSim

# Command-line options that override one knob of the chosen profile.
PROFILE_OPTIONS = {
    "--replication-delay": "replication_delay",
    "--own-write-visibility": "own_write_visibility",
    "--latency-scale": "latency_scale",
    "--transient-error-rate": "transient_error_rate",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="entrasim", description="Local emulator of Microsoft Graph and Entra ID.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve Graph, the token endpoint and the control API over HTTPS")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--state-dir", required=True, type=Path, help="where the CA and serving cert are written")
    serve.add_argument("--seed", type=Path, help="a YAML or JSON seed document")
    serve.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="simulated seconds per wall second (0 = only the control API moves time)",
    )
    serve.add_argument("--no-throttling", action="store_true", help="turn off Graph's request budgets")
    serve.add_argument(
        "--profile", default="fast", help="fast (default) or production: replication delay, latency, transient 5xx"
    )
    serve.add_argument("--random-seed", default="0", help="seed of the profile's random draws (an integer)")
    for option, knob in PROFILE_OPTIONS.items():
        serve.add_argument(option, dest=knob, help=f"override the profile's {knob.replace('_', ' ')}")

    seed = commands.add_parser("seed", help="work with seed documents")
    seed_commands = seed.add_subparsers(dest="seed_command", required=True)
    gen = seed_commands.add_parser("generate", help="write a large synthetic tenant as JSON")
    gen.add_argument("--users", type=int, required=True)
    gen.add_argument("--groups", type=int, default=1)
    gen.add_argument("--tenant-id", required=True)
    gen.add_argument("--domain", required=True)
    gen.add_argument("--display-name", default=None)
    gen.add_argument("--output", "-o", type=Path, required=True)

    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    doc = generate(
        users=args.users,
        groups=args.groups,
        tenant_id=args.tenant_id,
        domain=args.domain,
        display_name=args.display_name or args.domain,
    )
    args.output.write_text(json.dumps(doc))
    print(f"wrote {args.users} users to {args.output}")
    return 0


def _profile(args: argparse.Namespace) -> tuple[Profile, int]:
    """The profile with the command line's overrides, and the random seed; ProfileError names a bad option."""
    profile = profile_named(args.profile)
    for option, knob in PROFILE_OPTIONS.items():
        if getattr(args, knob) is not None:
            profile = tuned(profile, knob, getattr(args, knob), option)
    if args.no_throttling:
        profile = replace(profile, throttling=False)
    try:
        return profile, int(args.random_seed)
    except ValueError:
        raise ProfileError(f"--random-seed must be an integer (got {args.random_seed!r})") from None


def _serve(args: argparse.Namespace) -> int:
    try:
        profile, random_seed = _profile(args)
    except ProfileError as exc:
        print(f"entrasim: {exc}", file=sys.stderr)
        return 2
    sim = EntraSim(
        args.state_dir,
        host=args.host,
        port=args.port,
        time_scale=args.time_scale,
        profile=profile,
        random_seed=random_seed,
    )
    if args.seed:
        try:
            load_seed(sim.world, read_seed_file(args.seed))
        except (OSError, SeedError, ValueError) as exc:
            print(f"entrasim: cannot load seed {args.seed}: {exc}", file=sys.stderr)
            return 2

    async def run() -> None:
        try:
            await sim.start_async()
        except OSError as exc:
            raise SystemExit(f"entrasim: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
        print(f"entrasim serving {sim.base_url} (CA: {sim.ca_path})", flush=True)
        print(json.dumps({"baseUrl": sim.base_url, "caPath": str(sim.ca_path)}), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await sim.stop_async()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
    return 0
