"""How long the provisioning cycle that takes in a bulk scope change runs, from the cost per object that
Microsoft documents. `ctsync plan` shows it and the SyncScope's scope audit records it (status, metric,
condition), so that the scope-gap alert waits for it. Pure: the caller passes the time.

What Microsoft documents: the provisioning service starts a cycle every 40 minutes; a cycle over "assigned
users and groups only" takes from about 0.01 to about 0.08 minutes per object; creating users that do not
exist in the target takes about twice as long as matching existing ones. Users entering scope have no user
in the target yet, so the service creates them: 0.02 to 0.08 minutes each, 0.04 in the (geometric) middle.
That middle is the figure shown and recorded; the range is the documented one, from all matched at the
fastest to all created at the slowest. ctsync cannot know when the service starts its next cycle, so the
cycle is taken to start one full interval from now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CYCLE_INTERVAL = timedelta(minutes=40)
FASTEST_PER_USER = timedelta(minutes=0.01)  # the documented minimum per object
SLOWEST_PER_USER = timedelta(minutes=0.08)  # the documented maximum per object
CREATE_PER_USER = timedelta(minutes=0.04)  # creating: twice a match, the middle of 0.02 to 0.08
# More users entering scope than this is a bulk change. 100 creates take about 4 minutes, well inside one
# interval; below it the scope-gap alert's own grace of two cycles covers any cycle.
BULK_USERS = 100


@dataclass(frozen=True)
class CycleEstimate:
    users: int  # users entering scope, each created by the cycle
    starts: datetime  # by when the cycle that provisions them starts
    duration: timedelta  # the figure shown: every user created, at the middle cost
    fastest: timedelta
    slowest: timedelta

    @property
    def completion(self) -> datetime:
        return self.starts + self.duration

    @property
    def summary(self) -> str:
        return f"+{self.users:,} users enter scope: the next cycle takes about {duration_text(self.duration)}"

    @property
    def detail(self) -> str:
        return (
            f"between {duration_text(self.fastest)} and {duration_text(self.slowest)}; starting within "
            f"{duration_text(CYCLE_INTERVAL)}, it should end by about {rfc3339(self.completion)}"
        )


def estimate_cycle(users: int, now: datetime) -> CycleEstimate | None:
    """The estimate for `users` entering scope at `now`; None when that is no bulk change."""
    if users <= BULK_USERS:
        return None
    return CycleEstimate(
        users, now + CYCLE_INTERVAL, users * CREATE_PER_USER, users * FASTEST_PER_USER, users * SLOWEST_PER_USER
    )


def left_to_the_cycle(users: int) -> str:
    """What the fast lane says of the users a burst leaves to the cycle, with the same cost per user."""
    return (
        f"{users:,} users queued for the cycle, which starts within {duration_text(CYCLE_INTERVAL)} and takes "
        f"about {duration_text(users * CREATE_PER_USER)} for them"
    )


def recorded_completion(
    users: int, now: datetime, previous: datetime | None, previous_users: int
) -> tuple[datetime | None, CycleEstimate | None]:
    """The estimated completion a SyncScope records while `users` in scope are not provisioned yet, and the
    new estimate if one was made. A recorded estimate stands while the gap closes or grows by less than a
    bulk change: re-estimating on every audit would push it forward and silence the scope-gap alert for
    good. None once the gap is no bulk change any more."""
    if users <= BULK_USERS:
        return None, None
    if previous is not None and users - previous_users <= BULK_USERS:
        return previous, None
    estimate = estimate_cycle(users, now)
    assert estimate is not None
    return estimate.completion, estimate


def duration_text(duration: timedelta) -> str:
    """'3 h 10 min': whole minutes below an hour (at least 1), ten-minute steps above."""
    minutes = duration.total_seconds() / 60
    if minutes < 59.5:
        return f"{max(round(minutes), 1)} min"
    hours, rest = divmod(round(minutes / 10) * 10, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
