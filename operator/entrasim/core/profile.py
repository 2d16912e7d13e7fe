"""How much of production Graph's behaviour a world puts on.

`fast` (the default) answers at once and consistently, for unit tests and the demo. `production` adds
what a client of the real service must live with: replication delay (eventual consistency), a latency
distribution, and a small rate of transient 503/504s. Both keep Graph's throttling budgets. The numbers,
and which of them Microsoft publishes, are in docs/entrasim.md ("Profiles")."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any


class ProfileError(ValueError):
    """A profile name or knob value that cannot be used; the message names the option."""


@dataclass(frozen=True)
class Profile:
    name: str
    # Longest time (simulated seconds) a new object stays invisible to replicas other than the writer's; 0 = off.
    replication_delay: float = 0.0
    # Chance that one read of the writer is served by the replica that took its write.
    own_write_visibility: float = 1.0
    throttling: bool = True
    # Also the budgets per app across tenants and per tenant across apps.
    wide_throttling: bool = False
    # Wall-clock latency added to every Graph answer (lognormal): median and 99th percentile, in seconds.
    latency_median: float = 0.0
    latency_p99: float = 0.0
    # Share of Graph requests answered with a transient 503 or 504.
    transient_error_rate: float = 0.0


FAST = Profile("fast")
PRODUCTION = Profile(
    "production",
    replication_delay=15.0,
    wide_throttling=True,
    own_write_visibility=0.8,
    latency_median=0.03,
    latency_p99=0.3,
    transient_error_rate=0.005,
)
PROFILES = {p.name: p for p in (FAST, PRODUCTION)}

# Knobs that may be set on top of a profile: (low, high, what a valid value is).
KNOBS = {
    "replication_delay": (0.0, 3600.0, "a number of seconds from 0 to 3600"),
    "own_write_visibility": (0.0, 1.0, "a probability from 0 to 1"),
    "latency_scale": (0.0, 100.0, "a factor from 0 to 100"),
    "transient_error_rate": (0.0, 1.0, "a rate from 0 to 1"),
}


def profile_named(name: object, option: str = "--profile") -> Profile:
    if not isinstance(name, str) or name not in PROFILES:
        raise ProfileError(f"{option} must be one of {', '.join(PROFILES)} (got {name!r})")
    return PROFILES[name]


def tuned(profile: Profile, knob: str, value: object, option: str) -> Profile:
    """The profile with one knob changed. `value` is a number or the text of one (from the command line);
    `latency_scale` multiplies the latency median and tail (0 turns latency off)."""
    low, high, what = KNOBS[knob]
    number = _number(value)
    if number is None or not low <= number <= high:
        raise ProfileError(f"{option} must be {what} (got {value!r})")
    if knob == "latency_scale":
        return replace(
            profile, latency_median=profile.latency_median * number, latency_p99=profile.latency_p99 * number
        )
    changes: dict[str, Any] = {knob: number}
    return replace(profile, **changes)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        return None
    return number if math.isfinite(number) else None
