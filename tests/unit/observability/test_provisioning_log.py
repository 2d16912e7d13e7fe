"""The provisioning log poller's bookkeeping: each entry is returned once, whatever the polls overlap, and a
failed read returns nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from observability_support import T0, entry

from ctsync.errors import ReadIncomplete
from ctsync.reconcile import provisioning
from ctsync.reconcile.log_reader import advance
from ctsync.reconcile.provisioning import ProvisioningEntry, Watermark, read_new_events


def graph_entry(n: int, second: float, **fields: object) -> dict[str, object]:
    """A provisioningObjectSummary as Graph returns it (the fields the poller reads)."""
    moment = T0 + timedelta(seconds=second)
    return {
        "id": f"entry-{n}",
        "activityDateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z",
        "jobId": "Azure2Azure.job",
        "cycleId": "cycle-1",
        "provisioningAction": "create",
        "durationInMilliseconds": 1250,
        "provisioningStatusInfo": {"status": "success", "errorInformation": None},
        "sourceIdentity": {"id": f"USER-{n}", "displayName": "Person", "identityType": "User"},
        **fields,
    }


class FakeSource:
    """Serves a log as Graph would for `ge <since>`: pages of `page_size`, oldest first; a read fails at
    page `fail_at` when set."""

    def __init__(self, log: list[dict[str, object]], page_size: int = 2, fail_at: int | None = None) -> None:
        self.log, self.page_size, self.fail_at = log, page_size, fail_at
        self.since: list[str | None] = []

    async def provisioning_events(self, job_id: str, since: str | None):  # type: ignore[no-untyped-def]
        self.since.append(since)
        floor = provisioning.parse_time(since) if since else None
        matching = [
            e for e in self.log if floor is None or provisioning.parse_time(str(e["activityDateTime"])) >= floor
        ]
        for page_no, start in enumerate(range(0, len(matching), self.page_size)):
            if page_no == self.fail_at:
                raise ReadIncomplete(f"source tenant /auditLogs/provisioning after {page_no} pages")
            yield matching[start : start + self.page_size]


def test_an_entry_keeps_what_metrics_need_and_bounds_action_and_status():
    parsed = ProvisioningEntry.from_graph(graph_entry(1, 2.5))
    assert parsed == ProvisioningEntry(
        "entry-1", T0 + timedelta(seconds=2.5), "create", "success", 1.25, "cycle-1", "user-1"
    )
    odd = ProvisioningEntry.from_graph(
        graph_entry(2, 0, provisioningAction="unknownFutureValue", provisioningStatusInfo=None, sourceIdentity=None)
    )
    assert (odd.action, odd.status, odd.source_user_id) == ("other", "warning", "")


def failed(status: str, code: str | None) -> dict[str, object]:
    error = None if code is None else {"errorCode": code, "reason": "...", "errorCategory": "failure"}
    return graph_entry(1, 0, provisioningStatusInfo={"status": status, "errorInformation": error})


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [
        ("failure", "AzureActiveDirectoryForbidden", "invitations_blocked"),
        ("failure", "AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure", "policy_not_configured"),
        ("failure", "SomethingNobodyDocumented", "other"),
        ("failure", None, "other"),
        ("skipped", "RedundantExport", "skipped"),
        ("skipped", "TooManyDeletes", "skipped"),
        ("success", None, ""),
        ("warning", "AzureActiveDirectoryForbidden", ""),
    ],
)
def test_an_entry_that_did_not_succeed_keeps_its_error_code_and_reason(status, code, reason):
    parsed = ProvisioningEntry.from_graph(failed(status, code))
    assert (parsed.error_code, parsed.reason) == (code or "", reason)


async def test_a_poll_logs_the_raw_codes_of_its_failures_once(caplog):
    log = [failed("failure", "AzureActiveDirectoryForbidden"), failed("failure", "Weird")]
    log[1]["id"] = "entry-2"
    caplog.set_level("INFO", logger=provisioning.__name__)
    await read_new_events(FakeSource(log), "Azure2Azure.job", Watermark())  # type: ignore[arg-type]
    [record] = [r for r in caplog.records if "failed provisioning entries" in r.getMessage()]
    assert "AzureActiveDirectoryForbidden x1 (invitations_blocked)" in record.getMessage()
    assert "Weird x1 (other)" in record.getMessage()


def test_a_first_read_returns_everything_and_remembers_the_last_second():
    fresh, mark = advance(Watermark(), [entry(1, second=0.2), entry(2, second=1.1), entry(3, second=1.9)])
    assert [e.id for e in fresh] == ["entry-1", "entry-2", "entry-3"]
    assert mark == Watermark("2025-03-01T09:00:01Z", frozenset({"entry-2", "entry-3"}))


def test_a_re_read_of_the_watermark_second_returns_only_its_new_entries():
    mark = Watermark("2025-03-01T09:00:01Z", frozenset({"entry-2", "entry-3"}))
    fresh, after = advance(mark, [entry(2, second=1.1), entry(4, second=1.5), entry(3, second=1.9)])
    assert [e.id for e in fresh] == ["entry-4"]
    assert after == Watermark("2025-03-01T09:00:01Z", frozenset({"entry-2", "entry-3", "entry-4"}))


def test_later_seconds_move_the_watermark_and_drop_the_old_ids():
    mark = Watermark("2025-03-01T09:00:01Z", frozenset({"entry-2"}))
    fresh, after = advance(mark, [entry(2, second=1.1), entry(5, second=3.0)])
    assert [e.id for e in fresh] == ["entry-5"]
    assert after == Watermark("2025-03-01T09:00:03Z", frozenset({"entry-5"}))


def test_entries_before_the_watermark_second_and_repeats_within_a_read_are_skipped():
    mark = Watermark("2025-03-01T09:00:01Z", frozenset())
    fresh, _ = advance(mark, [entry(1, second=0.5), entry(6, second=2), entry(6, second=2)])
    assert [e.id for e in fresh] == ["entry-6"]


def test_nothing_new_keeps_the_watermark():
    mark = Watermark("2025-03-01T09:00:01Z", frozenset({"entry-2"}))
    assert advance(mark, [entry(2, second=1.1)]) == ([], mark)


def test_the_watermark_survives_the_status_round_trip():
    mark = Watermark("2025-03-01T09:00:01Z", frozenset({"b", "a"}))
    assert mark.to_status() == {"time": "2025-03-01T09:00:01Z", "ids": ["a", "b"]}
    assert Watermark.from_status({"provisioningWatermark": mark.to_status()}) == mark
    assert Watermark.from_status({}) == Watermark()


async def test_a_read_follows_every_page_from_the_watermark():
    source = FakeSource([graph_entry(n, n * 0.6) for n in range(7)], page_size=3)
    entries, mark = await read_new_events(source, "Azure2Azure.job", Watermark())
    assert [e.id for e in entries] == [f"entry-{n}" for n in range(7)]
    again, same = await read_new_events(source, "Azure2Azure.job", mark)
    assert (again, same) == ([], mark)
    assert source.since == [None, "2025-03-01T09:00:03Z"]


async def test_a_failed_page_returns_nothing_and_the_old_watermark():
    source = FakeSource([graph_entry(n, n) for n in range(5)], page_size=2, fail_at=1)
    mark = Watermark("2025-03-01T09:00:00Z", frozenset())
    assert await read_new_events(source, "Azure2Azure.job", mark) == ([], mark)


async def test_a_backlog_drains_over_several_polls(monkeypatch):
    monkeypatch.setattr(provisioning, "MAX_NEW_ENTRIES_PER_POLL", 4)
    source = FakeSource([graph_entry(n, n // 3) for n in range(10)], page_size=3)  # three entries a second
    seen: list[str] = []
    mark = Watermark()
    for _ in range(4):
        entries, mark = await read_new_events(source, "Azure2Azure.job", mark)
        seen += [e.id for e in entries]
    assert seen == [f"entry-{n}" for n in range(10)]


@given(
    seconds=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=40),
    polls=st.lists(st.integers(min_value=0, max_value=40), max_size=8),
    page_size=st.integers(min_value=1, max_value=5),
)
async def test_overlapping_polls_return_each_entry_exactly_once(seconds, polls, page_size):
    """Entries arrive in time order, several per second; a poll sees those arrived so far, re-reads the
    watermark's second and may cut a second in two. A restart only keeps the watermark, which is all a poll
    passes on. Whatever the timing, the polls together return every entry once."""
    log = [graph_entry(n, second + n / 1000) for n, second in enumerate(sorted(seconds))]
    source = FakeSource([], page_size=page_size)
    returned: list[str] = []
    mark = Watermark()
    for arrived in [*sorted(polls), len(log)]:
        source.log = log[:arrived]
        entries, mark = await read_new_events(source, "Azure2Azure.job", mark)
        returned += [e.id for e in entries]
    assert returned == [e["id"] for e in log]


@pytest.mark.parametrize("status", ["success", "failure", "skipped", "warning"])
def test_known_statuses_are_kept(status):
    parsed = ProvisioningEntry.from_graph(graph_entry(1, 0, provisioningStatusInfo={"status": status}))
    assert parsed.status == status
