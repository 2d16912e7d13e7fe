"""Plan: grouping per tenant, the diff-style rendering, and drift lines."""

from ctsync.planning.plan import Action, Plan, describe_drift, summary

PLAN = Plan(
    (
        Action("target", "target.partner", "create", "+ target partner policy for 3f1c5a9e…", key="s"),
        Action(
            "target",
            "target.partner",
            "update",
            summary("update", "target partner policy for 3f1c5a9e…", {"inboundTrust.isMfaAccepted": (False, True)}),
        ),
        Action(
            "source",
            "source.assignments",
            "delete",
            "- source assignment of group 11111111…",
            destructive=True,
        ),
        Action("source", "source.jobState", "start", "~ source synchronization job: start (status Paused)"),
    )
)


def test_render() -> None:
    assert PLAN.render() == "\n".join(
        [
            "Plan: 1 to create, 2 to change, 1 to remove.",
            "target tenant:",
            "  + target partner policy for 3f1c5a9e…",
            "  ~ target partner policy for 3f1c5a9e…: inboundTrust.isMfaAccepted false -> true",
            "source tenant:",
            "  - source assignment of group 11111111… [destructive]",
            "  ~ source synchronization job: start (status Paused)",
        ]
    )


def test_by_tenant_and_flags() -> None:
    grouped = PLAN.by_tenant()
    assert list(grouped) == ["target", "source"] and len(grouped["source"]) == 2
    assert PLAN.destructive and not PLAN.empty
    assert Plan().empty and not Plan().destructive


def test_drift_lines_are_the_summaries() -> None:
    assert describe_drift(PLAN)[1].endswith("false -> true")
    assert (
        summary("update", "x", {"a": (None, "b"), "c": ([1], {"k": True})})
        == '~ x: a null -> "b", c [1] -> {"k": true}'
    )
