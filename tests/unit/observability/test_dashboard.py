"""The Grafana dashboard (charts/ctsync/dashboards/ctsync.json) queries only metrics the operator really
exports, compared against a real scrape, in PromQL that Prometheus' own parser accepts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from observability_support import (
    ALERTS,
    DASHBOARD,
    PROMETHEUS_SERIES,
    base_name,
    label_names,
    metric_names,
    unknown_labels,
)

# Grafana replaces these before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$namespace": ".*", "$scope": ".*"}
LABEL_VALUES = re.compile(r"^label_values\((.+),\s*\w+\)$")


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(container: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in container.get("panels", []):
        yield panel
        yield from panels(panel)  # collapsed rows hold their panels


def queries() -> list[str]:
    """Every PromQL expression: panel targets, and the selectors of label_values() variables."""
    exprs = [target["expr"] for panel in panels(dashboard()) for target in panel.get("targets", [])]
    for variable in dashboard()["templating"]["list"]:
        if variable["type"] == "query":
            exprs.append(LABEL_VALUES.match(variable["query"]["query"]).group(1))
    return exprs


def test_the_dashboard_reads_only_metrics_ctsync_exports(exported_names):
    read = {base_name(name) for expr in queries() for name in metric_names(expr)}
    assert read - PROMETHEUS_SERIES <= exported_names, (
        f"not exported: {sorted(read - PROMETHEUS_SERIES - exported_names)}"
    )
    # the dashboard covers the families the issue asks for
    assert {
        "ctsync_resource_condition",
        "ctsync_sync_job_quarantined",
        "ctsync_drift_detected",
        "ctsync_scope_users",
        "ctsync_synced_users",
        "ctsync_provisioning_events_total",
        "ctsync_change_to_target_seconds",
        "ctsync_sync_job_last_successful_execution_timestamp_seconds",
        "ctsync_graph_requests_total",
        "ctsync_graph_throttled_total",
        "ctsync_provisioning_failures_total",
        "ctsync_target_guest_changes_total",
    } <= read


def test_every_query_matches_and_groups_by_labels_its_metrics_carry(exported_labels):
    unknown = {expr: labels for expr in queries() if (labels := unknown_labels(expr, exported_labels))}
    assert not unknown


def test_every_query_is_valid_promql(promtool, tmp_path: Path):
    """promtool parses each query as a recording rule, after Grafana's variables are substituted."""
    rules = []
    for n, expr in enumerate(queries()):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        rules.append({"record": f"ctsync_dashboard:query_{n}", "expr": expr})
    rules_file = tmp_path / "dashboard-queries.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = promtool("check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_scope_row_follows_the_namespace_and_scope_variables():
    assert {"datasource", "namespace", "scope"} <= {v["name"] for v in dashboard()["templating"]["list"]}
    row, exprs = "", []
    for panel in dashboard()["panels"]:
        if panel["type"] == "row":
            row = panel["title"]
        elif row.startswith("Sync scope"):
            exprs += [target["expr"] for target in panel["targets"]]
    assert exprs and all('namespace=~"$namespace", name=~"$scope"' in expr for expr in exprs)


def test_the_failure_ratio_panel_draws_the_alert_threshold():
    [panel] = [p for p in panels(dashboard()) if p.get("title") == "Provisioning failure ratio"]
    red = [step["value"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"] if step["color"] == "red"]
    [rule] = [
        r
        for g in yaml.safe_load(ALERTS.read_text())["groups"]
        for r in g["rules"]
        if r["alert"] == "CtsyncProvisioningFailures"
    ]
    assert red == [float(re.search(r"\) > ([0-9.]+)\)", rule["expr"]).group(1))]
    assert "[1h]" in panel["targets"][0]["expr"] and "[1h]" in rule["expr"]  # the same window


def test_metric_names_skip_functions_labels_strings_and_durations():
    expr = (
        'histogram_quantile(0.95, sum by (le) (rate(a_bucket{x="}{", y=~"$v"}[$__rate_interval])))'
        " / on (namespace) group_left b offset 5m > bool 1e3 or vector(0) unless c:rule"
    )
    assert metric_names(expr) == {"a_bucket", "b", "c:rule"}
    assert label_names(expr) == {"le", "x", "y", "namespace"}


def test_every_panel_uses_the_datasource_variable():
    for panel in panels(dashboard()):
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_the_scrape_passes_promtool_lint(promtool, exposition):
    result = promtool("check", "metrics", stdin=exposition)
    assert result.returncode == 0, result.stdout + result.stderr
