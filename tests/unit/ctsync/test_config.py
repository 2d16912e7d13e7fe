"""`ctsync operator` settings: flags, CTSYNC_* variables, defaults, and the errors for bad values."""

from __future__ import annotations

import pytest

from ctsync import __version__, cli, config
from ctsync.config import Settings, Shard


def settings(*flags: str, **env: str) -> Settings:
    args = cli.build_parser().parse_args(["operator", *flags])
    return config.resolve(args, env, args.command_parser)


def refused(capsys: pytest.CaptureFixture[str], *flags: str, **env: str) -> str:
    with pytest.raises(SystemExit) as exited:
        settings(*flags, **env)
    assert exited.value.code == 1  # usage errors exit 1: 2 means "changes" to `ctsync plan` callers
    return capsys.readouterr().err


def test_defaults() -> None:
    got = settings()
    assert got == Settings()
    assert got.all_namespaces and got.standalone
    assert (got.metrics_port, got.health_port, got.drift_interval, got.log_format) == (8080, 8081, 300.0, "json")
    assert got.audit_interval == 900.0
    assert got.liveness_endpoint == "http://0.0.0.0:8081/healthz"


def test_every_flag_also_comes_from_its_variable() -> None:
    got = settings(
        CTSYNC_NAMESPACE="tenants team-*",
        CTSYNC_METRICS_PORT="9090",
        CTSYNC_HEALTH_PORT="9091",
        CTSYNC_DRIFT_INTERVAL="600",
        CTSYNC_AUDIT_INTERVAL="3600",
        CTSYNC_FAST_LANE_INTERVAL="5",
        CTSYNC_LOG_FORMAT="text",
        CTSYNC_PEERING="ctsync",
        CTSYNC_PRIORITY="7",
        CTSYNC_KUBECONFIG="/etc/ctsync/kubeconfig",
        CTSYNC_CONTEXT="prod",
        CTSYNC_MAX_CONCURRENT_AUDITS="2",
        CTSYNC_MAX_GRAPH_REQUESTS="64",
        CTSYNC_MAX_GRAPH_REQUESTS_PER_TENANT="4",
    )
    assert got == Settings(
        namespaces=("tenants", "team-*"),
        metrics_port=9090,
        health_port=9091,
        drift_interval=600.0,
        audit_interval=3600.0,
        fast_lane_interval=5.0,
        log_format="text",
        peering="ctsync",
        priority=7,
        kubeconfig="/etc/ctsync/kubeconfig",
        context="prod",
        max_concurrent_audits=2,
        max_graph_requests=64,
        max_graph_requests_per_tenant=4,
    )
    assert not got.standalone


def test_the_cluster_is_named_as_for_the_other_commands() -> None:
    got = settings("--kubeconfig", "ops.kubeconfig", "--context", "staging", CTSYNC_CONTEXT="prod")
    assert (got.kubeconfig, got.context) == ("ops.kubeconfig", "staging")


def test_a_flag_wins_over_its_variable() -> None:
    got = settings(
        "--namespace",
        "a",
        "-n",
        "b",
        "--drift-interval",
        "5",
        "--audit-interval",
        "60",
        "--log-format",
        "json",
        "--standalone",
        CTSYNC_NAMESPACE="c",
        CTSYNC_DRIFT_INTERVAL="600",
        CTSYNC_AUDIT_INTERVAL="3600",
        CTSYNC_LOG_FORMAT="text",
        CTSYNC_PEERING="ctsync",
    )
    assert (got.namespaces, got.drift_interval, got.audit_interval, got.log_format, got.peering) == (
        ("a", "b"),
        5.0,
        60.0,
        "json",
        None,
    )


def test_all_namespaces_flag_overrides_a_namespace_variable() -> None:
    assert settings("--all-namespaces", CTSYNC_NAMESPACE="tenants").all_namespaces
    assert settings(CTSYNC_ALL_NAMESPACES="true").all_namespaces


@pytest.mark.parametrize(
    ("flags", "env", "message"),
    [
        (("--drift-interval", "0"), {}, "--drift-interval: 0 is not a positive number of seconds"),
        ((), {"CTSYNC_DRIFT_INTERVAL": "soon"}, "CTSYNC_DRIFT_INTERVAL: could not convert"),
        (("--audit-interval", "-1"), {}, "--audit-interval: -1 is not a positive number of seconds"),
        (("--health-port", "70000"), {}, "--health-port: 70000 is not a TCP port"),
        ((), {"CTSYNC_LOG_FORMAT": "yaml"}, "CTSYNC_LOG_FORMAT: 'yaml' is not one of json, text"),
        (("--metrics-port", "8081"), {}, "--metrics-port and --health-port are both 8081"),
        (("--priority", "3"), {}, "--priority (CTSYNC_PRIORITY) only applies with --peering"),
        ((), {"CTSYNC_ALL_NAMESPACES": "maybe"}, "CTSYNC_ALL_NAMESPACES: 'maybe' is not a boolean"),
        ((), {"CTSYNC_NAMESPACE": "a", "CTSYNC_ALL_NAMESPACES": "true"}, "contradict each other"),
        ((), {"CTSYNC_STANDALONE": "false"}, "CTSYNC_STANDALONE and CTSYNC_PEERING contradict"),
        ((), {"CTSYNC_STANDALONE": "true", "CTSYNC_PEERING": "p"}, "CTSYNC_STANDALONE and CTSYNC_PEERING contradict"),
        (("--max-graph-requests", "0"), {}, "--max-graph-requests: 0 is out of range (1..1024)"),
        (("--max-concurrent-audits", "65"), {}, "--max-concurrent-audits: 65 is out of range (1..64)"),
        ((), {"CTSYNC_MAX_GRAPH_REQUESTS_PER_TENANT": "2000"}, "CTSYNC_MAX_GRAPH_REQUESTS_PER_TENANT: 2000 is out"),
        (("--shard", "3/3"), {}, "--shard: INDEX must be from 0 to 2 (got 3)"),
        (("--shard", "0/17"), {}, "--shard: COUNT must be from 1 to 16 (got 17)"),
        ((), {"CTSYNC_SHARD": "1"}, "CTSYNC_SHARD: '1' is not INDEX/COUNT"),
        (
            ("--max-graph-requests", "4", "--max-graph-requests-per-tenant", "8"),
            {},
            "--max-graph-requests-per-tenant (8) exceeds --max-graph-requests (4)",
        ),
    ],
)
def test_bad_values_exit_naming_the_flag_or_variable(
    capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    assert message in refused(capsys, *flags, **env)


def test_mutually_exclusive_flags_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert "not allowed with" in refused(capsys, "--namespace", "a", "--all-namespaces")
    assert "not allowed with" in refused(capsys, "--standalone", "--peering", "p")


def test_shard_takes_an_index_of_a_count() -> None:
    assert settings("--shard", "2/3").shard == Shard(2, 3)
    assert settings().shard is None


def test_peering_takes_a_name_and_a_priority() -> None:
    got = settings("--peering", "ctsync", "--priority", "100")
    assert (got.peering, got.priority, got.standalone) == ("ctsync", 100, False)


def test_version_and_help_need_no_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, shows in ((["--version"], f"ctsync {__version__}"), (["operator", "--help"], "--drift-interval")):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 0
        assert shows in capsys.readouterr().out


def test_a_kubeconfig_that_does_not_load_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    missing = str(tmp_path / "missing.kubeconfig")
    assert cli.main(["operator", "--kubeconfig", missing, "--context", "staging"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"ctsync operator: no Kubernetes configuration ({missing}, context staging): ")
    assert line.endswith("(hint: pass --kubeconfig FILE and --context NAME, or set KUBECONFIG)")
