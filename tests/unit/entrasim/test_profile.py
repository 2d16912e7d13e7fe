"""Profiles: names and knobs, the command line's checks, and the production wire's draws."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from dataclasses import replace
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from entrasim.cli import main
from entrasim.core.profile import FAST, PRODUCTION, ProfileError, profile_named, tuned
from entrasim.core.transient import Transients
from entrasim.world import World


def test_profiles_by_name() -> None:
    assert profile_named("fast") is FAST
    assert profile_named("production") is PRODUCTION
    assert FAST.replication_delay == 0 and FAST.transient_error_rate == 0 and FAST.latency_median == 0
    assert PRODUCTION.throttling and FAST.throttling


@pytest.mark.parametrize("name", ["Production", "", None, 3])
def test_an_unknown_profile_names_the_option(name: object) -> None:
    with pytest.raises(ProfileError, match=r"^--profile must be one of fast, production \(got "):
        profile_named(name)


def test_knobs_override_one_value_each() -> None:
    assert tuned(PRODUCTION, "replication_delay", "2.5", "--replication-delay").replication_delay == 2.5
    assert tuned(PRODUCTION, "transient_error_rate", 0, "x").transient_error_rate == 0
    slower = tuned(PRODUCTION, "latency_scale", 2, "--latency-scale")
    assert (slower.latency_median, slower.latency_p99) == (0.06, 0.6)
    assert tuned(PRODUCTION, "latency_scale", "0", "--latency-scale").latency_median == 0


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("replication_delay", "-1"),
        ("replication_delay", "3601"),
        ("replication_delay", "soon"),
        ("replication_delay", "nan"),
        ("replication_delay", True),
        ("own_write_visibility", 1.5),
        ("latency_scale", "inf"),
        ("transient_error_rate", None),
    ],
)
def test_invalid_knob_values_name_the_option(knob: str, value: object) -> None:
    with pytest.raises(ProfileError, match=r"^--the-option must be "):
        tuned(PRODUCTION, knob, value, "--the-option")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "staging"], "entrasim: --profile must be one of fast, production (got 'staging')\n"),
        (["--replication-delay", "-1"], "entrasim: --replication-delay must be a number of seconds from 0 to 3600"),
        (["--own-write-visibility", "2"], "entrasim: --own-write-visibility must be a probability from 0 to 1"),
        (["--latency-scale", "fast"], "entrasim: --latency-scale must be a factor from 0 to 100"),
        (["--transient-error-rate", "5%"], "entrasim: --transient-error-rate must be a rate from 0 to 1"),
        (["--random-seed", "x"], "entrasim: --random-seed must be an integer (got 'x')\n"),
    ],
)
def test_serve_refuses_bad_profile_options_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["serve", "--state-dir", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message)
    assert err.count("\n") == 1
    assert not (tmp_path / "ca.pem").exists()  # refused before anything started


def test_a_world_takes_its_profile() -> None:
    world = World(profile=replace(PRODUCTION, throttling=False), random_seed=3)
    assert world.profile.name == "production"
    assert not world.throttle.enabled
    world.set_profile(FAST)
    assert world.throttle.enabled


def _errors(profile: object, method: str, n: int, seed: int = 0) -> list:
    transients = Transients(random.Random(seed))
    return [e for e in (transients.error(profile, method) for _ in range(n)) if e is not None]  # type: ignore[arg-type]


def test_production_answers_a_small_share_with_503_or_504() -> None:
    errors = _errors(PRODUCTION, "GET", 40_000)
    assert 0.004 < len(errors) / 40_000 < 0.006
    assert Counter(e.status for e in errors).keys() == {503, 504}
    assert _errors(FAST, "GET", 1_000) == []


def test_retry_after_comes_as_seconds_as_an_http_date_or_not_at_all() -> None:
    errors = _errors(replace(PRODUCTION, transient_error_rate=1.0), "GET", 300)
    forms = Counter(
        "none" if e.retry_after is None else "seconds" if e.retry_after.isdigit() else "date" for e in errors
    )
    assert set(forms) == {"none", "seconds", "date"} and min(forms.values()) > 60
    for e in errors:
        if e.retry_after is not None and not e.retry_after.isdigit():
            assert parsedate_to_datetime(e.retry_after).tzname() == "UTC"  # IMF-fixdate, GMT
        error = e.error()
        assert error.code == {503: "ServiceUnavailable", 504: "GatewayTimeout"}[e.status]
        assert error.headers == ({} if e.retry_after is None else {"Retry-After": e.retry_after})


def test_only_a_504_on_a_write_may_come_after_the_write_took_effect() -> None:
    always = replace(PRODUCTION, transient_error_rate=1.0)
    reads, writes = _errors(always, "GET", 400), _errors(always, "POST", 400)
    assert not any(e.applied for e in reads)
    assert not any(e.applied for e in writes if e.status == 503)
    applied = [e.applied for e in writes if e.status == 504]
    assert 0.35 < sum(applied) / len(applied) < 0.65


def test_draws_are_seeded() -> None:
    always = replace(PRODUCTION, transient_error_rate=1.0)
    assert _errors(always, "POST", 50, seed=1) == _errors(always, "POST", 50, seed=1)
    assert _errors(always, "POST", 50, seed=1) != _errors(always, "POST", 50, seed=2)


def test_latency_has_a_modest_median_and_a_heavier_tail() -> None:
    transients = Transients(random.Random(0))
    drawn = sorted(transients.latency(PRODUCTION) for _ in range(20_000))
    assert 0.027 < statistics.median(drawn) < 0.033
    assert 0.25 < drawn[int(0.99 * len(drawn))] < 0.35
    assert drawn[-1] <= 10 * PRODUCTION.latency_p99
    assert transients.latency(FAST) == 0
