"""`ctsync validate`: offline checks of manifests, reported as file:line: message, exit 1 on any problem."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from support.cli import REPO, one_line_error

EXAMPLES = REPO / "examples"
PAIR = """\
apiVersion: ctsync.io/v1alpha1
kind: TenantPair
metadata:
  name: pair
spec:
  source:
    tenantId: 3f1c5a9e-7b2d-4e8a-9c41-2d6b8e0f7a13
    credentialsRef: {name: source}
  target:
    tenantId: b84e2c17-59d0-4a6f-8e3b-c1f7a9052d64
    credentialsRef: {name: target}
"""
SCOPE = """\
apiVersion: ctsync.io/v1alpha1
kind: SyncScope
metadata:
  name: scope
spec:
  tenantPairRef: {name: pair}
  configurationName: Source to Target
  scope:
    groups: [{displayName: CTS}]
"""


def mapping(name: str, body: str) -> str:
    head = f"apiVersion: ctsync.io/v1alpha1\nkind: AttributeMapping\nmetadata:\n  name: {name}\nspec:\n"
    return head + textwrap.indent(textwrap.dedent(body), "  ")


def manifest(tmp_path: Path, *documents: str, name: str = "manifests.yaml") -> Path:
    path = tmp_path / name
    path.write_text("---\n".join(documents))
    return path


def test_the_examples_are_valid(ctsync):
    result = ctsync("validate", str(EXAMPLES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "valid: 12 ctsync object(s) in 13 file(s), 10 object(s) of other API groups ignored"


def test_json_output_lists_problems_with_their_place(ctsync, tmp_path):
    path = manifest(tmp_path, PAIR.replace("3f1c5a9e-7b2d-4e8a-9c41-2d6b8e0f7a13", "not-a-guid"))
    result = ctsync("validate", str(path), "--output", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False and report["objects"] == 0
    (problem,) = report["problems"]
    assert problem["file"] == str(path) and problem["line"] == 7
    assert problem["kind"] == "TenantPair" and problem["name"] == "pair"
    assert "spec.source.tenantId" in problem["message"]


def test_schema_problems_point_at_the_field(ctsync, tmp_path):
    bad = PAIR.replace("  target:\n", "  trust: {mfa: yes-please}\n  target:\n") + "  suspend: false\n  sync: true\n"
    path = manifest(tmp_path, bad)
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert f"{path}:9: TenantPair default/pair: spec.trust.mfa: 'yes-please' is not of type 'boolean'" in lines
    assert f"{path}:14: TenantPair default/pair: spec.sync: unknown field" in lines
    assert lines[-1] == "2 problem(s) found in 1 file(s)"


def test_rules_the_api_server_checks_with_cel_are_checked_too(ctsync, tmp_path):
    same_tenant = PAIR.replace("b84e2c17-59d0-4a6f-8e3b-c1f7a9052d64", "3f1c5a9e-7b2d-4e8a-9c41-2d6b8e0f7a13")
    result = ctsync("validate", str(manifest(tmp_path, same_tenant)))
    assert result.returncode == 1
    assert ":10: TenantPair default/pair: spec.target.tenantId: must differ from spec.source.tenantId" in result.stdout


def test_an_invalid_expression_is_reported_at_its_line(ctsync, tmp_path):
    body = """\
        syncScopeRef: {name: scope}
        mappings:
          - {target: jobTitle, source: "[jobTitle]"}
          - target: displayName
            source: 'Join(" ", [givenName], [surname]'
        """
    result = ctsync("validate", str(manifest(tmp_path, PAIR, SCOPE, mapping("names", body))))
    assert result.returncode == 1
    line = one_line_of(result.stdout)
    assert line.endswith(
        ":32: AttributeMapping default/names: spec.mappings[1].source: invalid expression: "
        "missing ) to close Join( (at character 33)"
    )


def test_a_scoping_filter_on_an_unknown_attribute_or_operator_is_reported_at_its_line(ctsync, tmp_path):
    clause = "  scopingFilters:\n    - clauses:\n        - {attribute: %s, operator: %s, value: Sales}\n"
    unknown_attribute = manifest(tmp_path, PAIR, SCOPE + clause % ("departmnt", "EQUALS"), name="a.yaml")
    result = ctsync("validate", str(unknown_attribute))
    assert result.returncode == 1
    assert (
        ":24: SyncScope default/scope: spec.scopingFilters[0].clauses[0].attribute: 'departmnt' is not a source "
        "user attribute of the CTS job schema"
    ) in result.stdout
    unknown_operator = manifest(tmp_path, PAIR, SCOPE + clause % ("department", "STARTS WITH"), name="o.yaml")
    result = ctsync("validate", str(unknown_operator))
    assert result.returncode == 1
    assert ":24: SyncScope default/scope: spec.scopingFilters[0].clauses[0].operator:" in result.stdout


def test_a_comparison_in_iif_is_valid(ctsync, tmp_path):
    body = """\
        syncScopeRef: {name: scope}
        mappings:
          - {target: country, source: 'IIF([country]="US", "United States", [country])'}
        """
    result = ctsync("validate", str(manifest(tmp_path, PAIR, SCOPE, mapping("country", body))))
    assert result.returncode == 0, result.stdout


def test_a_denied_attribute_may_not_be_mapped(ctsync, tmp_path):
    body = """\
        syncScopeRef: {name: scope}
        mappings:
          - {target: employeeId, source: "[employeeId]"}
        """
    result = ctsync("validate", str(manifest(tmp_path, PAIR, SCOPE, mapping("ids", body))))
    assert result.returncode == 1
    assert "spec.mappings[0].target: employeeId is listed in spec.denyAttributes" in one_line_of(result.stdout)


def test_two_mappings_of_one_scope_that_conflict(ctsync, tmp_path):
    first = mapping("a-titles", 'syncScopeRef: {name: scope}\nmappings: [{target: jobTitle, source: "[jobTitle]"}]\n')
    second = mapping("b-titles", 'syncScopeRef: {name: scope}\nmappings: [{target: jobTitle, source: "\\"x\\""}]\n')
    path = manifest(tmp_path, PAIR, SCOPE, first, second)
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    assert one_line_of(result.stdout) == (
        f"{path}:31: AttributeMapping default/b-titles: AttributeMapping default/a-titles and "
        "AttributeMapping default/b-titles both map jobTitle"
    )


def test_references_must_resolve_among_the_manifests(ctsync, tmp_path):
    orphan = mapping("orphan", "syncScopeRef: {name: nowhere}\n")
    path = manifest(tmp_path, SCOPE, orphan)
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{path}:6: SyncScope default/scope: spec.tenantPairRef: no TenantPair 'pair' in namespace default "
        "among the manifests given"
    )
    assert lines[1].startswith(f"{path}:16: AttributeMapping default/orphan: spec.syncScopeRef: no SyncScope 'nowhere'")


def test_objects_in_several_files_and_directories_refer_to_each_other(ctsync, tmp_path):
    (tmp_path / "pairs").mkdir()
    manifest(tmp_path / "pairs", PAIR, name="pair.yml")
    scope = manifest(tmp_path, SCOPE, name="scope.yaml")
    result = ctsync("validate", str(tmp_path / "pairs"), str(scope))
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "valid: 2 ctsync object(s) in 2 file(s)"


def test_a_duplicate_object_is_an_error(ctsync, tmp_path):
    path = manifest(tmp_path, PAIR, PAIR)
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    assert one_line_of(result.stdout) == f"{path}:13: TenantPair default/pair is also defined at {path}:1"


def test_unknown_ctsync_kinds_are_errors_and_other_groups_are_ignored(ctsync, tmp_path):
    widget = "apiVersion: ctsync.io/v1alpha1\nkind: Widget\nmetadata: {name: w}\n"
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n"
    old = PAIR.replace("v1alpha1", "v1beta9")
    path = manifest(tmp_path, widget, config_map, old)
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{path}:2: unknown kind ctsync.io/v1alpha1 Widget: "
        "ctsync serves AttributeMapping, SyncScope, TenantPair in ctsync.io/v1alpha1"
    )
    assert lines[1].startswith(f"{path}:11: unknown kind ctsync.io/v1beta9 TenantPair")
    assert lines[-1] == "2 problem(s) found in 1 file(s), 1 object(s) of other API groups ignored"


def test_a_document_that_is_no_kubernetes_object(ctsync, tmp_path):
    path = manifest(tmp_path, "just: a map\n")
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    assert one_line_of(result.stdout) == f"{path}:1: not a Kubernetes object: apiVersion and kind are required"


def test_malformed_yaml_names_its_line(ctsync, tmp_path):
    path = manifest(tmp_path, PAIR, "kind: SyncScope\nspec:\n  scope: [a, b\n  other: 1\n")
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    assert one_line_of(result.stdout).startswith(f"{path}:16: malformed YAML: ")


def test_a_path_that_does_not_exist(ctsync, tmp_path):
    result = ctsync("validate", str(EXAMPLES), str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    assert one_line_of(result.stdout) == f"{tmp_path / 'missing.yaml'}: no such file or directory"


def test_an_empty_directory(ctsync, tmp_path):
    result = ctsync("validate", str(tmp_path))
    assert result.returncode == 1
    assert one_line_of(result.stdout) == f"{tmp_path}: no .yaml or .yml files in this directory"


def test_usage_errors_exit_1_with_the_usage(ctsync):
    result = ctsync("validate")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "ctsync validate: the following arguments are required: PATH"
    # Not argparse's 2, which `ctsync plan` uses for "changes pending".
    result = ctsync("plan", str(EXAMPLES), "--dry-run")
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "ctsync plan: unrecognized arguments: --dry-run"


def test_crds_that_cannot_be_found(ctsync, tmp_path):
    result = ctsync("validate", str(EXAMPLES), "--crds", str(tmp_path))
    assert result.returncode == 1
    assert one_line_error(result) == (
        f"ctsync validate: {tmp_path} lacks the CRD of AttributeMapping, SyncScope, TenantPair "
        "(hint: pass --crds DIR (the crds/ of ctsync))"
    )


def one_line_of(stdout: str) -> str:
    """The one problem reported, without the count that follows it."""
    problems = stdout.splitlines()[:-1]
    assert len(problems) == 1, stdout
    return problems[0]


def test_misspelt_attributes_fail_at_their_lines_with_a_suggestion(ctsync, tmp_path):
    body = """\
        syncScopeRef: {name: scope}
        mappings:
          - {target: departmnt, source: "[department]"}
          - {target: companyName, source: '"Contoso"'}
          - {target: jobTitle, source: 'Left([jobTitel], 8)'}
        """
    path = manifest(tmp_path, PAIR, SCOPE, mapping("typos", body))
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"{path}:30: AttributeMapping default/typos: spec.mappings[0].target: 'departmnt' is not a target user "
        "attribute of the Azure2Azure template; did you mean department?",
        f"{path}:32: AttributeMapping default/typos: spec.mappings[2].source: 'jobTitel' is not a source user "
        "attribute of the Azure2Azure template; did you mean jobTitle?",
    ]
    assert lines[-1] == "2 problem(s) found in 1 file(s)"


def test_a_misspelt_scoping_filter_attribute_fails_at_its_line(ctsync, tmp_path):
    scope = SCOPE + "  scopingFilters:\n    - clauses:\n        - {attribute: departement, operator: IS NOT NULL}\n"
    path = manifest(tmp_path, PAIR, scope)
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    assert one_line_of(result.stdout) == (
        f"{path}:24: SyncScope default/scope: spec.scopingFilters[0].clauses[0].attribute: 'departement' is not "
        "a source user attribute of the Azure2Azure template; did you mean department?"
    )


def test_risky_mappings_need_an_acknowledgement(ctsync, tmp_path):
    body = """\
        syncScopeRef: {name: scope}
        mappings:
          - {target: userPrincipalName, source: "[mail]"}
        remove: [accountEnabled]
        """
    path = manifest(tmp_path, PAIR, SCOPE, mapping("risky", body))
    result = ctsync("validate", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}:30: AttributeMapping default/risky: spec.mappings[0].target: mapping ")
    assert "list userPrincipalName in spec.acknowledgeRisks" in lines[0]
    assert lines[1].startswith(f"{path}:31: AttributeMapping default/risky: spec.remove[0]: removing accountEnabled ")
    body = body.rstrip(" ") + "        acknowledgeRisks: [userPrincipalName, accountEnabled]\n"
    result = ctsync("validate", str(manifest(tmp_path, PAIR, SCOPE, mapping("risky", body), name="ok.yaml")))
    assert result.returncode == 0, result.stdout
