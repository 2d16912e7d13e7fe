"""Safety gates checked before a plan is applied."""

from ctsync.api import conditions, constants
from ctsync.errors import Blocked
from ctsync.planning.plan import Json


def check_scope_shrink(
    users_in_scope: int, users_leaving: int, max_percent: int, acknowledged: bool, generation: int | None = None
) -> None:
    """Refuse a change that takes more than `max_percent` of the users in scope out of it.

    Those of them already synced are soft-deleted in the target on the next cycle; the service's own
    deletion threshold is per cycle and counts absolute numbers, this gate is per change and relative.
    Exactly `max_percent` passes.
    """
    if acknowledged or users_leaving <= 0 or users_in_scope <= 0:
        return
    leaving = min(users_leaving, users_in_scope)
    if leaving * 100 <= max_percent * users_in_scope:
        return
    percent = f"{leaving * 100 / users_in_scope:.1f}".removesuffix(".0")
    acknowledge_with = "<generation>" if generation is None else generation
    raise Blocked(
        conditions.SCOPE_SHRINK_BLOCKED,
        f"{leaving:,} of {users_in_scope:,} users in scope ({percent}%) would leave it; max {max_percent}%; "
        f"annotate {constants.ANNOTATION_ACKNOWLEDGE_SHRINK}={acknowledge_with} to proceed",
    )


def check_uncountable_shrink(what: str, acknowledged: bool, generation: int | None = None) -> None:
    """A change that may take users out of scope while the current scope cannot be evaluated (a filter
    ctsync does not understand) waits for a human, like a shrink over the limit."""
    if acknowledged:
        return
    acknowledge_with = "<generation>" if generation is None else generation
    raise Blocked(
        conditions.SCOPE_SHRINK_BLOCKED,
        f"cannot count who would leave scope: {what}; "
        f"annotate {constants.ANNOTATION_ACKNOWLEDGE_SHRINK}={acknowledge_with} to proceed",
    )


def never_started(job: Json | None) -> bool:
    """A job that was never started and never ran a cycle has provisioned nobody, so a scope change
    before its first start (a new configuration getting its scoping filter) takes nobody out of the target."""
    if job is None:
        return True
    state = job.get("status") or {}
    began = (state.get("lastExecution") or {}).get("timeBegan")
    ran = bool(began) and not str(began).startswith("0001-")
    return not ran and (job.get("schedule") or {}).get("state") != "Active"
