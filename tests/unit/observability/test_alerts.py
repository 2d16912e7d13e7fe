"""The alert rules (charts/ctsync/files/alerts.yaml): valid for Prometheus, unit-tested with promtool
(alerts_test.yaml), each with a runbook, and reading only metrics ctsync exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from observability_support import ALERTS, PROMETHEUS_SERIES, REPO, base_name, metric_names, unknown_labels

ALERT_TESTS = Path(__file__).with_name("alerts_test.yaml")
EXPECTED = {
    "CtsyncOperatorDown",
    "CtsyncJobQuarantined",
    "CtsyncDeletionsHeld",
    "CtsyncNoSuccessfulCycle",
    "CtsyncScopeGap",
    "CtsyncDriftNotCorrected",
    "CtsyncGraphThrottling",
    "CtsyncCredentialsInvalid",
    "CtsyncProvisioningFailures",
}


def alert_rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def test_the_rules_file_is_valid(promtool):
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_pass_their_unit_tests(promtool):
    result = promtool("test", "rules", str(ALERT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_expected_alerts_exist():
    assert {rule["alert"] for rule in alert_rules()} == EXPECTED


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_waits_and_has_a_severity_and_a_runbook(rule):
    name = rule["alert"]
    assert rule.get("for"), f"{name}: a `for:` keeps one bad scrape from paging"
    assert rule["labels"]["severity"] in {"critical", "warning"}
    annotations = rule["annotations"]
    assert annotations["summary"] and annotations["description"]
    assert annotations["runbook_url"].endswith(f"/docs/runbooks/{name}.md")
    assert (REPO / "docs" / "runbooks" / f"{name}.md").is_file()


def test_each_alert_is_tested_firing_and_not_firing():
    cases: dict[str, set[bool]] = {}
    for group in yaml.safe_load(ALERT_TESTS.read_text())["tests"]:
        for case in group["alert_rule_test"]:
            cases.setdefault(case["alertname"], set()).add(bool(case["exp_alerts"]))
    assert {name: {True, False} for name in EXPECTED} == cases


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_reads_metrics_ctsync_exports(rule, exported_names):
    read = {base_name(name) for name in metric_names(rule["expr"])} - PROMETHEUS_SERIES
    assert read, "an alert on no metric at all"
    assert read <= exported_names, f"not exported by ctsync: {sorted(read - exported_names)}"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_matches_and_groups_by_labels_its_metrics_carry(rule, exported_labels):
    assert not unknown_labels(rule["expr"], exported_labels)
