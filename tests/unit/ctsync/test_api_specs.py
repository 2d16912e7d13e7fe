"""Parsing the three kinds from CR bodies: defaults, and validation errors that name the field."""

from collections.abc import Callable
from typing import Any

import pytest
from ctsync_samples import ATTRIBUTE_MAPPING, SOURCE, SYNC_SCOPE, TARGET, TENANT_PAIR, body

from ctsync.api.attributemapping import AttributeMapping, MappingEntry
from ctsync.api.syncscope import Deprovisioning, PrincipalRef, SyncScope
from ctsync.api.tenantpair import Endpoints, TenantPair, Trust
from ctsync.errors import InvalidSpec


def test_tenant_pair_defaults() -> None:
    pair = TenantPair.from_body(TENANT_PAIR)
    pair.validate()
    assert (pair.namespace, pair.name, pair.generation) == ("tenants", "contoso-to-fabrikam", 3)
    assert pair.source.tenant_id == SOURCE and pair.source.credentials_secret == "contoso-creds"
    assert pair.source.cloud == "AzurePublic" and pair.source.endpoints is None
    assert pair.trust == Trust(False, False, False)
    assert pair.automatic_redemption and pair.user_sync_inbound
    assert (pair.management_policy, pair.deletion_policy, pair.suspend) == ("Manage", "Orphan", False)
    assert pair.source.effective_endpoints().graph_endpoint == "https://graph.microsoft.com"


def test_tenant_pair_custom_cloud_and_upper_case_guid() -> None:
    custom = {
        "tenantId": TARGET.upper(),
        "credentialsRef": {"name": "fabrikam-creds"},
        "cloud": "Custom",
        "endpoints": {
            "authorityHost": "https://login.example.test:8443",
            "graphEndpoint": "https://graph.example.test",
            "caSecretRef": {"name": "sim-ca"},
        },
    }
    pair = TenantPair.from_body(body(TENANT_PAIR, target=custom, trust={"mfa": True}))
    pair.validate()
    assert pair.target.tenant_id == TARGET  # GUIDs are kept lower-case
    assert pair.target.effective_endpoints() == Endpoints(
        "https://login.example.test:8443", "https://graph.example.test", "sim-ca", "ca.crt"
    )
    assert pair.trust == Trust(mfa=True)


def test_sync_scope_defaults_and_annotations() -> None:
    raw = body(SYNC_SCOPE)
    raw["metadata"]["annotations"] = {"ctsync.io/acknowledge-shrink": "7", "ctsync.io/restart-job": "t1"}
    scope = SyncScope.from_body(raw)
    scope.validate()
    assert scope.adoption_policy == "AdoptOrCreate"
    assert scope.scope.groups == (PrincipalRef(display_name="CTS-Fabrikam"),)
    assert scope.deprovisioning == Deprovisioning(500, 20)
    assert scope.owner_tag == "ctsync.io/owner=tenants/contoso-to-fabrikam"
    assert scope.shrink_acknowledged and scope.restart_request == "t1"


def test_shrink_acknowledgement_names_one_generation() -> None:
    raw = body(SYNC_SCOPE)
    raw["metadata"]["annotations"] = {"ctsync.io/acknowledge-shrink": "6"}
    assert not SyncScope.from_body(raw).shrink_acknowledged


def test_attribute_mapping_defaults() -> None:
    spec = AttributeMapping.from_body(ATTRIBUTE_MAPPING)
    spec.validate()
    assert spec.mappings[0] == MappingEntry("jobTitle", "[jobTitle]", "Always", None)
    assert spec.deny_attributes == ("employeeId",)  # omitted -> the default deny list
    assert AttributeMapping.from_body(body(ATTRIBUTE_MAPPING, denyAttributes=[])).deny_attributes == ()


Mutation = Callable[[dict[str, Any]], object]

TENANT_PAIR_INVALID: list[tuple[str, Mutation, str]] = [
    ("not a guid", lambda b: b["spec"]["source"].update(tenantId="contoso"), "spec.source.tenantId"),
    (
        "nil guid",
        lambda b: b["spec"]["target"].update(tenantId="0" * 8 + "-0000-0000-0000-" + "0" * 12),
        "spec.target.tenantId",
    ),
    ("same tenant", lambda b: b["spec"]["target"].update(tenantId=SOURCE.upper()), "spec.target.tenantId"),
    (
        "custom without endpoints",
        lambda b: b["spec"]["source"].update(cloud="Custom"),
        "spec.source.endpoints",
    ),
    (
        "endpoints on a public cloud",
        lambda b: b["spec"]["target"].update(
            endpoints={"authorityHost": "https://a.test", "graphEndpoint": "https://g.test"}
        ),
        "spec.target.endpoints",
    ),
    (
        "http endpoint",
        lambda b: b["spec"]["source"].update(
            cloud="Custom", endpoints={"authorityHost": "http://a.test", "graphEndpoint": "https://g.test"}
        ),
        "spec.source.endpoints.authorityHost",
    ),
    ("unknown cloud", lambda b: b["spec"]["source"].update(cloud="AzureGermany"), "spec.source.cloud"),
    ("unknown policy", lambda b: b["spec"].update(managementPolicy="Readonly"), "spec.managementPolicy"),
    ("missing target", lambda b: b["spec"].pop("target"), "spec.target"),
    (
        "missing credentials",
        lambda b: b["spec"]["source"].pop("credentialsRef"),
        "spec.source.credentialsRef",
    ),
    ("flag of the wrong type", lambda b: b["spec"].update(suspend="yes"), "spec.suspend"),
    ("trust flag of the wrong type", lambda b: b["spec"].update(trust={"mfa": 1}), "spec.trust.mfa"),
    ("no spec", lambda b: b.pop("spec"), "spec"),
]

SYNC_SCOPE_INVALID: list[tuple[str, Mutation, str]] = [
    ("selects nobody", lambda b: b["spec"].update(scope={}), "spec.scope"),
    ("syncAll with groups", lambda b: b["spec"]["scope"].update(syncAll=True), "spec.scope.groups"),
    ("both id and name", lambda b: b["spec"]["scope"]["groups"][0].update(id=SOURCE), "spec.scope.groups[0]"),
    (
        "group id not a guid",
        lambda b: b["spec"]["scope"].update(groups=[{"id": "g1"}]),
        "spec.scope.groups[0].id",
    ),
    (
        "same user twice",
        lambda b: b["spec"]["scope"].update(users=[{"displayName": "Ann"}, {"displayName": "ANN"}]),
        "spec.scope.users[1]",
    ),
    (
        "reserved MTO name",
        lambda b: b["spec"].update(configurationName="mto_sync_123"),
        "spec.configurationName",
    ),
    ("unknown adoption policy", lambda b: b["spec"].update(adoptionPolicy="Adopt"), "spec.adoptionPolicy"),
    (
        "unary operator with a value",
        lambda b: b["spec"].update(
            scopingFilters=[{"clauses": [{"attribute": "accountEnabled", "operator": "IS TRUE", "value": "x"}]}]
        ),
        "spec.scopingFilters[0].clauses[0].value",
    ),
    (
        "binary operator without a value",
        lambda b: b["spec"].update(scopingFilters=[{"clauses": [{"attribute": "department", "operator": "EQUALS"}]}]),
        "spec.scopingFilters[0].clauses[0].value",
    ),
    (
        "unknown operator",
        lambda b: b["spec"].update(
            scopingFilters=[{"clauses": [{"attribute": "department", "operator": "LIKE", "value": "x"}]}]
        ),
        "spec.scopingFilters[0].clauses[0].operator",
    ),
    (
        "unknown filter attribute",
        lambda b: b["spec"].update(
            scopingFilters=[{"clauses": [{"attribute": "dept", "operator": "EQUALS", "value": "x"}]}]
        ),
        "spec.scopingFilters[0].clauses[0].attribute",
    ),
    (
        "filter attribute in the wrong case",
        lambda b: b["spec"].update(
            scopingFilters=[{"clauses": [{"attribute": "Department", "operator": "EQUALS", "value": "x"}]}]
        ),
        "spec.scopingFilters[0].clauses[0].attribute",
    ),
    (
        "filter attribute Graph does not expose",
        lambda b: b["spec"].update(scopingFilters=[{"clauses": [{"attribute": "netId", "operator": "IS NOT NULL"}]}]),
        "spec.scopingFilters[0].clauses[0].attribute",
    ),
    (
        "undocumented filter operator",
        lambda b: b["spec"].update(
            scopingFilters=[{"clauses": [{"attribute": "department", "operator": "Less_Than", "value": "3"}]}]
        ),
        "spec.scopingFilters[0].clauses[0].operator",
    ),
    (
        "invalid regular expression",
        lambda b: b["spec"].update(
            scopingFilters=[{"clauses": [{"attribute": "department", "operator": "REGEX MATCH", "value": "("}]}]
        ),
        "spec.scopingFilters[0].clauses[0].value",
    ),
    (
        "filter without clauses",
        lambda b: b["spec"].update(scopingFilters=[{"clauses": []}]),
        "spec.scopingFilters[0].clauses",
    ),
    (
        "shrink over 100%",
        lambda b: b["spec"].update(deprovisioning={"maxScopeShrinkPercent": 101}),
        "spec.deprovisioning.maxScopeShrinkPercent",
    ),
    (
        "fast lane above provisionOnDemand's limit",
        lambda b: b["spec"].update(fastLane={"enabled": True, "maxPerMinute": 31}),
        "spec.fastLane.maxPerMinute",
    ),
    (
        "negative threshold",
        lambda b: b["spec"].update(deprovisioning={"deletionThreshold": -1}),
        "spec.deprovisioning.deletionThreshold",
    ),
    (
        "threshold not a number",
        lambda b: b["spec"].update(deprovisioning={"deletionThreshold": True}),
        "spec.deprovisioning.deletionThreshold",
    ),
    (
        "acknowledgement not a generation",
        lambda b: b["metadata"].update(annotations={"ctsync.io/acknowledge-shrink": "yes"}),
        "metadata.annotations[ctsync.io/acknowledge-shrink]",
    ),
]

ATTRIBUTE_MAPPING_INVALID: list[tuple[str, Mutation, str]] = [
    (
        "duplicate target",
        lambda b: b["spec"]["mappings"].append({"target": "JobTitle", "source": "[title]"}),
        "spec.mappings[2].target",
    ),
    (
        "matching attribute mapped",
        lambda b: b["spec"]["mappings"].append({"target": "alternativeSecurityIds", "source": "[x]"}),
        "spec.mappings[2].target",
    ),
    ("denied target", lambda b: b["spec"].update(denyAttributes=["jobTitle"]), "spec.mappings[0].target"),
    (
        "mapped and removed",
        lambda b: b["spec"].update(remove=["department", "companyName"]),
        "spec.remove[1]",
    ),
    (
        "matching attribute removed",
        lambda b: b["spec"].update(remove=["AlternativeSecurityIds"]),
        "spec.remove[0]",
    ),
    (
        "matching attribute denied",
        lambda b: b["spec"].update(denyAttributes=["alternativeSecurityIds"]),
        "spec.denyAttributes[0]",
    ),
    ("unknown apply", lambda b: b["spec"]["mappings"][0].update(apply="Sometimes"), "spec.mappings[0].apply"),
    ("blank source", lambda b: b["spec"]["mappings"][0].update(source="  "), "spec.mappings[0].source"),
    ("source missing", lambda b: b["spec"]["mappings"][0].pop("source"), "spec.mappings[0].source"),
    ("remove not strings", lambda b: b["spec"].update(remove=[1]), "spec.remove[0]"),
]


INVALID = [
    *[(TenantPair, TENANT_PAIR, *case) for case in TENANT_PAIR_INVALID],
    *[(SyncScope, SYNC_SCOPE, *case) for case in SYNC_SCOPE_INVALID],
    *[(AttributeMapping, ATTRIBUTE_MAPPING, *case) for case in ATTRIBUTE_MAPPING_INVALID],
]


@pytest.mark.parametrize(
    ("kind", "template", "case", "mutate", "path"), INVALID, ids=[f"{c[0].__name__}: {c[2]}" for c in INVALID]
)
def test_invalid_spec_names_the_field(
    kind: Any, template: dict[str, Any], case: str, mutate: Mutation, path: str
) -> None:
    raw = body(template)
    mutate(raw)
    with pytest.raises(InvalidSpec) as info:
        kind.from_body(raw).validate()
    assert info.value.field_path == path
    assert info.value.reason == "InvalidSpec" and info.value.stalls
