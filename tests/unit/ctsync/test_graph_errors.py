"""Reading Graph's answers: Retry-After in either of its HTTP forms, and which failures hold the tenant."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from ctsync import errors as domain
from ctsync.graph import errors


def http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=seconds_from_now), usegmt=True)


@pytest.mark.parametrize(("value", "expected"), [("7", 7.0), ("0", 0.0), ("-3", 0.0), ("soon", None)])
def test_retry_after_in_seconds(value, expected):
    assert errors.retry_after_seconds({"Retry-After": value}) == expected


def test_retry_after_as_an_http_date():
    assert errors.retry_after_seconds({"retry-after": http_date(90)}) == pytest.approx(90, abs=2)
    assert errors.retry_after_seconds({"Retry-After": http_date(-60)}) == 0.0


def test_a_dated_retry_after_holds_for_that_long():
    error = errors.from_response("source", 503, "serviceUnavailable", "busy", {"Retry-After": http_date(120)})
    assert isinstance(error, domain.Throttled) and error.retry_after == pytest.approx(120, abs=2)


@pytest.mark.parametrize("status", [503, 504])
def test_unavailable_without_retry_after_is_not_a_hold(status):
    error = errors.from_response("target", status, "", "busy", {})
    assert isinstance(error, errors.ServiceBusy) and not isinstance(error, domain.Throttled)
    assert error.retry_after is None and "target tenant" in error.message


def test_throttling_without_retry_after_still_holds():
    error = errors.from_response("source", 429, "TooManyRequests", "slow down", None)
    assert isinstance(error, domain.Throttled) and error.retry_after == errors.DEFAULT_RETRY_AFTER


@pytest.mark.parametrize(
    ("status", "code"), [(400, "syncStateNotFound"), (410, "resyncRequired"), (410, ""), (400, "resyncRequired")]
)
def test_a_delta_token_graph_no_longer_honours_restarts_the_round(status, code):
    error = errors.from_response("source", status, code, "the delta token is no longer valid", None)
    assert isinstance(error, errors.DeltaExpired)
