"""Conditions: lastTransitionTime moves only on a status flip; the kstatus triplet per outcome."""

import pytest

from ctsync.api import conditions
from ctsync.api.conditions import Condition, Health, kstatus_conditions, set_condition, set_conditions

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"


def test_new_condition_gets_now() -> None:
    out = set_condition([], Condition("Ready", "False", "Progressing", "creating", 2), T0)
    assert out == [
        {
            "type": "Ready",
            "status": "False",
            "reason": "Progressing",
            "message": "creating",
            "observedGeneration": 2,
            "lastTransitionTime": T0,
        }
    ]


def test_same_status_keeps_transition_time_but_updates_reason() -> None:
    first = set_condition([], Condition("Ready", "False", "Progressing", "creating", 2), T0)
    out = set_condition(first, Condition("Ready", "False", "DependencyNotReady", "waiting", 3), T1)
    assert out[0]["lastTransitionTime"] == T0
    assert (out[0]["reason"], out[0]["observedGeneration"]) == ("DependencyNotReady", 3)


def test_status_flip_moves_transition_time_and_keeps_others() -> None:
    start = [{"type": "Synced", "status": "True", "reason": "JobRunning", "message": "", "lastTransitionTime": T0}]
    start = set_condition(start, Condition("Ready", "False", "Progressing"), T0)
    out = set_condition(start, Condition("Ready", "True", "Reconciled"), T1)
    assert [c["type"] for c in out] == ["Synced", "Ready"]
    assert out[0]["lastTransitionTime"] == T0 and out[1]["lastTransitionTime"] == T1
    assert start[1]["status"] == "False"  # the input is not modified


@pytest.mark.parametrize(
    ("health", "ready", "reconciling", "stalled"),
    [
        (Health.READY, "True", "False", "False"),
        (Health.RECONCILING, "False", "True", "False"),
        (Health.STALLED, "False", "False", "True"),
    ],
)
def test_kstatus_triplet(health: Health, ready: str, reconciling: str, stalled: str) -> None:
    triplet = kstatus_conditions(health, conditions.SCOPE_SHRINK_BLOCKED, "held", 4)
    assert [(c.type, c.status) for c in triplet] == [
        ("Ready", ready),
        ("Reconciling", reconciling),
        ("Stalled", stalled),
    ]
    assert {c.reason for c in triplet} == {"ScopeShrinkBlocked"}
    assert {c.observed_generation for c in triplet} == {4}
    written = set_conditions([], triplet, T0)
    assert [c["type"] for c in written] == ["Ready", "Reconciling", "Stalled"]


def test_reasons_are_camel_case() -> None:
    reasons = [v for k, v in vars(conditions).items() if k.isupper() and isinstance(v, str)]
    assert len(reasons) > 20
    assert all(r[0].isupper() and r.isalnum() for r in reasons)
