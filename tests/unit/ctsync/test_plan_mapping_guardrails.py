"""Guardrails on AttributeMappings: attribute names against the job schema, risky mappings, and the UPN
the service gives synced users."""

from pathlib import Path
from typing import Any

import pytest
import yaml
from ctsync_samples import ATTRIBUTE_MAPPING, SYNC_SCOPE, body

from ctsync.api import constants
from ctsync.api.attributemapping import RISKY_ATTRIBUTES, AttributeMapping
from ctsync.api.syncscope import SyncScope
from ctsync.errors import DependencyNotReady, InvalidSpec, ReadIncomplete
from ctsync.planning.attribute_names import AZURE2AZURE, from_job_schema
from ctsync.planning.mappings import attribute_mapping_errors, validate_attribute_mapping
from ctsync.planning.schema_names import check_names_in_job_schema
from ctsync.planning.upn import initial_domain_of, target_upn, upn_sample

REPO = Path(__file__).resolve().parents[3]


def spec(**fields: Any) -> AttributeMapping:
    return AttributeMapping.from_body(body(ATTRIBUTE_MAPPING, **fields))


def errors(**fields: Any) -> list[str]:
    return [str(e) for e in attribute_mapping_errors(spec(**fields))]


def job_schema(source: list[str], target: list[str]) -> dict[str, Any]:
    def directory(name: str, attributes: list[str]) -> dict[str, Any]:
        return {"name": name, "objects": [{"name": "User", "attributes": [{"name": a} for a in attributes]}]}

    return {
        "synchronizationRules": [{"sourceDirectoryName": "Entra ID", "targetDirectoryName": "Entra ID (target)"}],
        "directories": [directory("Entra ID", source), directory("Entra ID (target)", target)],
    }


def test_every_misspelt_name_is_reported_with_a_suggestion() -> None:
    assert errors(
        mappings=[
            {"target": "departmnt", "source": "[department]"},
            {"target": "jobTitle", "source": 'Join(" ", [jobTitel], [surnme])'},
        ],
        remove=["citty"],
        denyAttributes=["employeID"],
    ) == [
        "spec.mappings[0].target: 'departmnt' is not a target user attribute of the Azure2Azure template; "
        "did you mean department?",
        "spec.mappings[1].source: 'jobTitel' is not a source user attribute of the Azure2Azure template; "
        "did you mean jobTitle?",
        "spec.mappings[1].source: 'surnme' is not a source user attribute of the Azure2Azure template; "
        "did you mean surname?",
        "spec.remove[0]: 'citty' is not a target user attribute of the Azure2Azure template; did you mean city?",
        "spec.denyAttributes[0]: 'employeID' is not a source or target user attribute of the Azure2Azure "
        "template; did you mean employeeId?",
    ]


def test_known_names_pass_in_any_case_and_directory_extensions_pass_offline() -> None:
    assert (
        errors(
            mappings=[
                {"target": "JobTitle", "source": "[jobtitle]"},
                {"target": "extension_0a1b2c_costCenter", "source": "[extension_0a1b2c_costCenter]"},
            ]
        )
        == []
    )


def test_a_name_far_from_any_gets_no_suggestion() -> None:
    (message,) = errors(mappings=[{"target": "favouriteColour", "source": '"blue"'}])
    assert message.endswith("is not a target user attribute of the Azure2Azure template")


def test_target_only_and_source_only_names_are_told_apart() -> None:
    (message,) = errors(mappings=[{"target": "netId", "source": "[netId]"}])
    assert message.startswith("spec.mappings[0].target: 'netId' is not a target user attribute")


def test_the_live_job_schema_replaces_the_template_list() -> None:
    live = from_job_schema(job_schema(["department", "extension_0a1b_costCenter"], ["department"]))
    mapping = spec(mappings=[{"target": "department", "source": "[extension_0a1b_costCenter]"}], denyAttributes=[])
    assert attribute_mapping_errors(mapping, live) == []
    extension = spec(mappings=[{"target": "extension_0a1b_other", "source": "[department]"}], denyAttributes=[])
    (error,) = attribute_mapping_errors(extension, live)
    assert error.field_path == "spec.mappings[0].target" and "of the job's schema" in error.message


def test_a_schema_without_user_attributes_is_an_incomplete_read_not_an_empty_list() -> None:
    schema = job_schema(["department"], ["department"])
    schema["directories"].pop()
    with pytest.raises(ReadIncomplete, match="has no User object"):
        from_job_schema(schema)


def test_names_in_the_job_schema_hold_the_scope_and_name_the_mapping() -> None:
    scope = SyncScope.from_body(body(SYNC_SCOPE))
    live = job_schema(["department", "accountEnabled"], ["department", "accountEnabled"])
    with pytest.raises(
        DependencyNotReady, match=r"tenants/contoso-to-fabrikam is invalid: spec\.mappings\[0\]\.target"
    ):
        check_names_in_job_schema(scope, [spec(mappings=[{"target": "jobTitle", "source": "[department]"}])], live)
    filtered = body(SYNC_SCOPE, scopingFilters=[{"clauses": [{"attribute": "city", "operator": "IS NOT NULL"}]}])
    with pytest.raises(InvalidSpec, match=r"spec\.scopingFilters\[0\]\.clauses\[0\]\.attribute: 'city'"):
        check_names_in_job_schema(SyncScope.from_body(filtered), [], live)


@pytest.mark.parametrize(
    ("fields", "field_path"),
    [
        ({"mappings": [{"target": "userPrincipalName", "source": "[mail]"}]}, "spec.mappings[0].target"),
        ({"mappings": [{"target": "accountEnabled", "source": '"true"'}]}, "spec.mappings[0].target"),
        ({"remove": ["AccountEnabled"]}, "spec.remove[0]"),
        (
            {"mappings": [{"target": "accountEnabled", "source": "[accountEnabled]", "apply": "OnCreate"}]},
            "spec.mappings[0].target",
        ),
        ({"denyAttributes": ["employeeId", "accountEnabled"]}, "spec.denyAttributes[1]"),
        ({"remove": ["userPrincipalName"]}, "spec.remove[0]"),
    ],
)
def test_risky_mappings_are_refused_unless_acknowledged(fields: dict[str, Any], field_path: str) -> None:
    with pytest.raises(InvalidSpec, match=r"spec\.acknowledgeRisks") as raised:
        validate_attribute_mapping(spec(**fields))
    assert raised.value.field_path == field_path
    validate_attribute_mapping(spec(**fields, acknowledgeRisks=list(RISKY_ATTRIBUTES)))


def test_restating_a_default_mapping_is_not_risky() -> None:
    validate_attribute_mapping(
        spec(
            mappings=[
                {"target": "accountEnabled", "source": "[accountEnabled]"},
                {"target": "userPrincipalName", "source": "[userPrincipalName]", "apply": "Always"},
            ]
        )
    )


def test_the_matching_attribute_cannot_be_acknowledged_and_unknown_risks_are_refused() -> None:
    with pytest.raises(InvalidSpec, match="links each target user to its source user"):
        validate_attribute_mapping(
            spec(
                mappings=[{"target": "alternativeSecurityIds", "source": "[netId]"}],
                acknowledgeRisks=["accountEnabled"],
            )
        )
    with pytest.raises(InvalidSpec, match=r"spec\.acknowledgeRisks\[0\]: 'alternativeSecurityIds' is not one of"):
        validate_attribute_mapping(spec(acknowledgeRisks=["alternativeSecurityIds"]))


def _crd_spec(name: str) -> dict[str, Any]:
    crd = yaml.safe_load((REPO / "crds" / name).read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]


def test_the_crd_declares_the_default_deny_list_and_the_risks_the_code_knows() -> None:
    properties = _crd_spec("ctsync.io_attributemappings.yaml")
    assert tuple(properties["denyAttributes"]["default"]) == constants.DEFAULT_DENY_ATTRIBUTES
    assert tuple(properties["acknowledgeRisks"]["items"]["enum"]) == RISKY_ATTRIBUTES
    assert AttributeMapping.from_body(body(ATTRIBUTE_MAPPING)).deny_attributes == constants.DEFAULT_DENY_ATTRIBUTES


def test_every_default_mapping_of_the_template_names_known_attributes() -> None:
    defaults = ["IsSoftDeleted", "accountEnabled", "displayName", "mail", "manager", "showInAddressList", "userType"]
    for name in defaults:
        assert AZURE2AZURE.unknown("x", name, "target") is None
    assert AZURE2AZURE.unknown("x", "netId", "source") is None


def test_the_target_upn_is_the_source_upn_with_at_as_underscore_then_ext_and_the_initial_domain() -> None:
    assert target_upn("ada@contoso.com", "fabrikam.onmicrosoft.com") == "ada_contoso.com#EXT#@fabrikam.onmicrosoft.com"
    assert initial_domain_of(["bob@fabrikam.com", "ada_contoso.com#EXT#@Fabrikam.onmicrosoft.com"]) == (
        "fabrikam.onmicrosoft.com"
    )
    assert initial_domain_of(["bob@fabrikam.com"]) is None
    users = [{"userPrincipalName": f"u{i}@contoso.com"} for i in (5, 1, 3, 2)] + [{"id": "no-upn"}]
    assert upn_sample(users, "fabrikam.onmicrosoft.com") == [
        {"source": "u1@contoso.com", "target": "u1_contoso.com#EXT#@fabrikam.onmicrosoft.com"},
        {"source": "u2@contoso.com", "target": "u2_contoso.com#EXT#@fabrikam.onmicrosoft.com"},
        {"source": "u3@contoso.com", "target": "u3_contoso.com#EXT#@fabrikam.onmicrosoft.com"},
    ]
