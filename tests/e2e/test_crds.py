"""The CRDs in crds/ as a real API server enforces them: examples, defaults, validation, status, columns."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient

from e2e.helm_support import TESTDATA, establish

pytestmark = pytest.mark.e2e

GROUP, VERSION = "ctsync.io", "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
PLURALS = {"TenantPair": "tenantpairs", "SyncScope": "syncscopes", "AttributeMapping": "attributemappings"}
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = sorted(p for p in EXAMPLES_DIR.rglob("*") if p.suffix in (".yaml", ".yml"))
TENANT_A = "0f3a8c2e-4b6d-4e1f-9a7c-5d2b8e6f1a30"
TENANT_B = "7c9e1b4a-2d3f-4a5b-8c6d-9e0f1a2b3c4d"
FIELD_MANAGER = "ctsync-e2e"
# The other projects' kinds the examples use: External Secrets Operator's and Argo CD's (minimal copies).
EXAMPLE_CRDS = ("external-secrets.io-crds.yaml", "argoproj.io-crds.yaml")


def tenant_pair() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "TenantPair",
        "metadata": {"name": "pair"},
        "spec": {
            "source": {"tenantId": TENANT_A, "credentialsRef": {"name": "source-credentials"}},
            "target": {"tenantId": TENANT_B, "credentialsRef": {"name": "target-credentials"}},
        },
    }


def sync_scope() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "SyncScope",
        "metadata": {"name": "scope"},
        "spec": {
            "tenantPairRef": {"name": "pair"},
            "configurationName": "Source to Target",
            "scope": {"groups": [{"displayName": "CTS-Target"}]},
            "scopingFilters": [{"clauses": [{"attribute": "department", "operator": "EQUALS", "value": "Sales"}]}],
        },
    }


def attribute_mapping() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "AttributeMapping",
        "metadata": {"name": "mapping"},
        "spec": {
            "syncScopeRef": {"name": "scope"},
            "mappings": [{"target": "jobTitle", "source": "[jobTitle]"}],
            "remove": ["showInAddressList"],
            "denyAttributes": ["employeeId"],
        },
    }


DELETE = object()


def changed(manifest: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of manifest with each dotted path ("spec.scope.groups.0.id") set, or removed for DELETE."""
    result = copy.deepcopy(manifest)
    for path, value in changes.items():
        *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
        node: Any = result
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return result


@pytest.fixture
def custom(api_client: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture(scope="module")
def dynamic(api_client: client.ApiClient, tmp_path_factory: pytest.TempPathFactory) -> DynamicClient:
    # Keep the discovery cache out of the system temp dir: its name depends on the (random) port.
    return DynamicClient(api_client, cache_file=str(tmp_path_factory.mktemp("discovery") / "cache.json"))


def create(custom: client.CustomObjectsApi, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURALS[manifest["kind"]], manifest, field_validation="Strict"
    )
    return created


def test_examples_exist() -> None:
    # Guards the parametrized test below, which would otherwise pass by collecting nothing.
    assert EXAMPLES, f"no YAML manifests under {EXAMPLES_DIR}"


@pytest.fixture(scope="session")
def example_crds(api_client: client.ApiClient) -> None:
    establish(api_client, [crd for name in EXAMPLE_CRDS for crd in yaml.safe_load_all((TESTDATA / name).read_text())])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(EXAMPLES_DIR)))
def test_example_is_accepted(example_crds: None, dynamic: DynamicClient, namespace: str, path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert documents, f"{path} holds no manifest"
    for doc in documents:
        # The Argo CD objects name Argo CD's namespace; here every object goes to the test's.
        doc["metadata"]["namespace"] = namespace
        resource = dynamic.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
        applied = resource.server_side_apply(
            body=doc,
            namespace=namespace,
            field_manager=FIELD_MANAGER,
            query_params=[("fieldValidation", "Strict")],
        )
        assert applied.metadata.uid, f"{doc['kind']}/{doc['metadata']['name']} was not created"


@pytest.mark.parametrize(
    ("make", "expected_spec"),
    [
        pytest.param(
            tenant_pair,
            {
                "source": {
                    "tenantId": TENANT_A,
                    "credentialsRef": {"name": "source-credentials"},
                    "cloud": "AzurePublic",
                },
                "target": {
                    "tenantId": TENANT_B,
                    "credentialsRef": {"name": "target-credentials"},
                    "cloud": "AzurePublic",
                },
                "trust": {"mfa": False, "compliantDevice": False, "hybridJoinedDevice": False},
                "automaticRedemption": True,
                "userSyncInbound": True,
                "managementPolicy": "Manage",
                "deletionPolicy": "Orphan",
                "suspend": False,
            },
            id="TenantPair",
        ),
        pytest.param(
            sync_scope,
            {
                "tenantPairRef": {"name": "pair"},
                "configurationName": "Source to Target",
                "adoptionPolicy": "AdoptOrCreate",
                "scope": {"syncAll": False, "groups": [{"displayName": "CTS-Target"}]},
                "scopingFilters": [{"clauses": [{"attribute": "department", "operator": "EQUALS", "value": "Sales"}]}],
                "deprovisioning": {"deletionThreshold": 500, "maxScopeShrinkPercent": 20},
                "fastLane": {"enabled": False, "maxPerMinute": 30, "burstSize": 30},
                "suspend": False,
                "managementPolicy": "Manage",
            },
            id="SyncScope",
        ),
        pytest.param(
            attribute_mapping,
            {
                "syncScopeRef": {"name": "scope"},
                "mappings": [{"target": "jobTitle", "source": "[jobTitle]", "apply": "Always"}],
                "remove": ["showInAddressList"],
                "denyAttributes": ["employeeId"],
                "managementPolicy": "Manage",
            },
            id="AttributeMapping",
        ),
    ],
)
def test_minimal_manifest_is_accepted_and_defaulted(
    custom: client.CustomObjectsApi,
    namespace: str,
    make: Callable[[], dict[str, Any]],
    expected_spec: dict[str, Any],
) -> None:
    # These are also the valid bases of the rejection table below: each rejection comes from its change.
    assert create(custom, namespace, make())["spec"] == expected_spec


def test_omitted_deny_list_defaults_to_employee_id_and_an_empty_one_opts_out(
    custom: client.CustomObjectsApi, namespace: str
) -> None:
    defaulted = create(custom, namespace, changed(attribute_mapping(), {"spec.denyAttributes": DELETE}))
    assert defaulted["spec"]["denyAttributes"] == ["employeeId"]
    opted_out = changed(attribute_mapping(), {"metadata.name": "opted-out", "spec.denyAttributes": []})
    assert create(custom, namespace, opted_out)["spec"]["denyAttributes"] == []


@dataclass(frozen=True)
class Invalid:
    id: str
    make: Callable[[], dict[str, Any]]
    changes: dict[str, Any]
    field: str  # path the API server's message must name
    why: str  # another part of the message, to tell which rule fired
    on_update: bool = False
    # Schema and CEL violations are 422 Invalid; a strict-decoding error (unknown field) is 400 BadRequest.
    status: int = 422


INVALID = [
    # TenantPair
    Invalid("bad-guid", tenant_pair, {"spec.source.tenantId": "contoso"}, "spec.source.tenantId", "should match"),
    Invalid(
        "same-tenant",
        tenant_pair,
        {"spec.target.tenantId": TENANT_A.upper()},
        "spec.target.tenantId",
        "must be different tenants",
    ),
    Invalid(
        "unknown-cloud",
        tenant_pair,
        {"spec.source.cloud": "AzureGermany"},
        "spec.source.cloud",
        "Unsupported",
    ),
    Invalid(
        "unknown-management-policy",
        tenant_pair,
        {"spec.managementPolicy": "Enforce"},
        "spec.managementPolicy",
        "Unsupported",
    ),
    Invalid(
        "unknown-deletion-policy",
        tenant_pair,
        {"spec.deletionPolicy": "Purge"},
        "spec.deletionPolicy",
        "Unsupported",
    ),
    Invalid(
        "custom-cloud-without-endpoints",
        tenant_pair,
        {"spec.target.cloud": "Custom"},
        "spec.target.endpoints",
        "required when cloud is Custom",
    ),
    Invalid(
        "endpoints-with-public-cloud",
        tenant_pair,
        {
            "spec.source.endpoints": {
                "authorityHost": "https://login.example.test",
                "graphEndpoint": "https://graph.example.test",
            }
        },
        "spec.source.endpoints",
        "only be set when cloud is Custom",
    ),
    Invalid(
        "endpoint-not-https",
        tenant_pair,
        {
            "spec.source.cloud": "Custom",
            "spec.source.endpoints": {
                "authorityHost": "http://login.example.test",
                "graphEndpoint": "https://graph.example.test",
            },
        },
        "spec.source.endpoints.authorityHost",
        "should match",
    ),
    Invalid(
        "credentials-without-name",
        tenant_pair,
        {"spec.target.credentialsRef": {}},
        "spec.target.credentialsRef.name",
        "Required value",
    ),
    Invalid(
        "unknown-field",
        tenant_pair,
        {"spec.sourceTenant": TENANT_A},
        "spec.sourceTenant",
        "unknown field",
        status=400,
    ),
    # SyncScope
    Invalid(
        "missing-configuration-name",
        sync_scope,
        {"spec.configurationName": DELETE},
        "spec.configurationName",
        "Required value",
    ),
    Invalid(
        "configuration-name-too-long",
        sync_scope,
        {"spec.configurationName": "x" * 257},
        "spec.configurationName",
        "Too long",
    ),
    Invalid(
        "unknown-adoption-policy",
        sync_scope,
        {"spec.adoptionPolicy": "Steal"},
        "spec.adoptionPolicy",
        "Unsupported",
    ),
    Invalid(
        "group-id-and-display-name",
        sync_scope,
        {"spec.scope.groups.0.id": TENANT_B},
        "spec.scope.groups[0]",
        "exactly one of id or displayName",
    ),
    Invalid(
        "user-without-id-or-display-name",
        sync_scope,
        {"spec.scope.users": [{}]},
        "spec.scope.users[0]",
        "exactly one of id or displayName",
    ),
    Invalid(
        "group-id-not-guid",
        sync_scope,
        {"spec.scope.groups.0": {"id": "CTS-Target"}},
        "spec.scope.groups[0].id",
        "should match",
    ),
    Invalid(
        "sync-all-with-groups",
        sync_scope,
        {"spec.scope.syncAll": True},
        "spec.scope",
        "must be empty when syncAll",
    ),
    Invalid("empty-scope", sync_scope, {"spec.scope": {}}, "spec.scope", "selects nobody"),
    Invalid(
        "unary-operator-with-value",
        sync_scope,
        {"spec.scopingFilters.0.clauses.0.operator": "IS TRUE"},
        "spec.scopingFilters[0].clauses[0].value",
        "must not be set",
    ),
    Invalid(
        "binary-operator-without-value",
        sync_scope,
        {"spec.scopingFilters.0.clauses.0.value": DELETE},
        "spec.scopingFilters[0].clauses[0].value",
        "required for this operator",
    ),
    Invalid(
        "unknown-operator",
        sync_scope,
        {"spec.scopingFilters.0.clauses.0.operator": "LIKE"},
        "spec.scopingFilters[0].clauses[0].operator",
        "Unsupported",
    ),
    Invalid(
        "filter-without-clauses",
        sync_scope,
        {"spec.scopingFilters.0.clauses": []},
        "spec.scopingFilters[0].clauses",
        "at least 1",
    ),
    Invalid(
        "fast-lane-above-the-documented-limit",
        sync_scope,
        {"spec.fastLane": {"enabled": True, "maxPerMinute": 60}},
        "spec.fastLane",
        "at most 30: provisionOnDemand allows 5 requests per 10 seconds per job",
    ),
    Invalid(
        "deletion-threshold-too-high",
        sync_scope,
        {"spec.deprovisioning": {"deletionThreshold": 100001}},
        "spec.deprovisioning.deletionThreshold",
        "less than or equal to 100000",
    ),
    Invalid(
        "deletion-threshold-negative",
        sync_scope,
        {"spec.deprovisioning": {"deletionThreshold": -1}},
        "spec.deprovisioning.deletionThreshold",
        "greater than or equal to 0",
    ),
    Invalid(
        "shrink-percent-over-100",
        sync_scope,
        {"spec.deprovisioning": {"maxScopeShrinkPercent": 101}},
        "spec.deprovisioning.maxScopeShrinkPercent",
        "less than or equal to 100",
    ),
    Invalid(
        "tenant-pair-ref-changed",
        sync_scope,
        {"spec.tenantPairRef.name": "other-pair"},
        "spec.tenantPairRef",
        "immutable",
        on_update=True,
    ),
    # AttributeMapping
    Invalid(
        "missing-sync-scope-ref",
        attribute_mapping,
        {"spec.syncScopeRef": DELETE},
        "spec.syncScopeRef",
        "Required value",
    ),
    Invalid(
        "duplicate-mapping-target",
        attribute_mapping,
        {
            "spec.mappings": [
                {"target": "jobTitle", "source": "[jobTitle]"},
                {"target": "jobTitle", "source": '"x"'},
            ]
        },
        "spec.mappings",
        "mapped only once",
    ),
    Invalid(
        "map-matching-attribute",
        attribute_mapping,
        {"spec.mappings.0.target": "alternativeSecurityIds"},
        "spec.mappings[0].target",
        "matching attribute",
    ),
    Invalid(
        "remove-matching-attribute",
        attribute_mapping,
        {"spec.remove": ["alternativeSecurityIds"]},
        "spec.remove",
        "cannot be removed",
    ),
    Invalid(
        "mapped-and-removed",
        attribute_mapping,
        {"spec.remove": ["jobTitle"]},
        "spec.remove",
        "both mapped",
    ),
    Invalid(
        "unknown-apply",
        attribute_mapping,
        {"spec.mappings.0.apply": "Sometimes"},
        "spec.mappings[0].apply",
        "Unsupported",
    ),
    Invalid(
        "duplicate-deny-attribute",
        attribute_mapping,
        {"spec.denyAttributes": ["employeeId", "employeeId"]},
        "spec.denyAttributes[1]",
        "Duplicate value",
    ),
    Invalid(
        "unknown-acknowledged-risk",
        attribute_mapping,
        {"spec.acknowledgeRisks": ["alternativeSecurityIds"]},
        "spec.acknowledgeRisks[0]",
        "Unsupported value",
    ),
    Invalid(
        "too-many-mappings",
        attribute_mapping,
        {"spec.mappings": [{"target": f"extensionAttribute{i}", "source": "[mail]"} for i in range(101)]},
        "spec.mappings",
        "Too many",
    ),
]


@pytest.mark.parametrize("case", INVALID, ids=lambda case: case.id)
def test_invalid_manifest_is_rejected_naming_the_field(
    custom: client.CustomObjectsApi, namespace: str, case: Invalid
) -> None:
    manifest = case.make()
    plural = PLURALS[manifest["kind"]]
    with pytest.raises(ApiException) as rejected:
        if case.on_update:
            live = changed(create(custom, namespace, manifest), case.changes)
            custom.replace_namespaced_custom_object(
                GROUP, VERSION, namespace, plural, live["metadata"]["name"], live, field_validation="Strict"
            )
        else:
            create(custom, namespace, changed(manifest, case.changes))
    message = json.loads(rejected.value.body)["message"]
    assert rejected.value.status == case.status, message
    assert case.field in message
    assert case.why in message


CONDITIONS = [
    {
        "type": "Ready",
        "status": "True",
        "reason": "Reconciled",
        "message": "settings match the spec",
        "lastTransitionTime": "2026-01-02T03:04:05Z",
        "observedGeneration": 1,
    },
    {
        "type": "Stalled",
        "status": "False",
        "reason": "Reconciled",
        "message": "",
        "lastTransitionTime": "2026-01-02T03:04:05Z",
        "observedGeneration": 1,
    },
]
STATUSES = {
    "TenantPair": {
        "observedGeneration": 1,
        "conditions": CONDITIONS,
        "sourcePartnerCreated": True,
        "targetPartnerCreated": False,
        "identitySyncCreated": True,
    },
    "SyncScope": {
        "observedGeneration": 1,
        "conditions": CONDITIONS,
        "servicePrincipalId": "5a6b7c8d-0000-4000-8000-000000000001",
        "applicationId": "5a6b7c8d-0000-4000-8000-000000000002",
        "appRoleId": "5a6b7c8d-0000-4000-8000-000000000003",
        "jobId": "Azure2Azure.0f3a8c2e4b6d4e1f9a7c5d2b8e6f1a30.5a6b7c8d",
        "jobCode": "Azure2Azure",
        "lastExecutionTime": "2026-01-02T03:00:00Z",
        "lastSuccessfulExecutionTime": "2026-01-02T02:20:00Z",
        "quarantine": {
            "reason": "EncounteredQuarantineException",
            "since": "2026-01-02T02:40:00Z",
            "nextAttempt": "2026-01-02T04:40:00Z",
            "error": "Insufficient privileges to complete the operation.",
        },
        "scopeSize": 1200,
        "syncedUsers": 1180,
        "syncedDisabledUsers": 7,
        "softDeletedUsers": 3,
        "missingUsers": 20,
        "estimatedCycleCompletion": "2026-01-02T04:10:00Z",
        "assignments": [
            {
                "principalId": "5a6b7c8d-0000-4000-8000-000000000004",
                "principalType": "Group",
                "assignmentId": "jW1a2b3c4d5e6f7g8h9i0j",
            }
        ],
        "acknowledgedShrinkGeneration": 1,
    },
    "AttributeMapping": {
        "observedGeneration": 1,
        "conditions": CONDITIONS,
        "appliedTargets": ["jobTitle"],
        "schemaHash": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    },
}


@pytest.fixture
def objects(custom: client.CustomObjectsApi, namespace: str) -> dict[str, dict[str, Any]]:
    """One valid object of each kind, created in the test's namespace, by kind."""
    return {make()["kind"]: create(custom, namespace, make()) for make in (tenant_pair, sync_scope, attribute_mapping)}


@pytest.mark.parametrize("kind", list(STATUSES))
def test_status_survives_a_status_patch(
    custom: client.CustomObjectsApi, namespace: str, objects: dict[str, dict[str, Any]], kind: str
) -> None:
    name = objects[kind]["metadata"]["name"]
    # The undeclared field shows that pruning is on, so the equality below proves nothing declared was lost.
    written = {**STATUSES[kind], "undeclared": "pruned"}
    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        PLURALS[kind],
        name,
        {"status": written},
        _content_type="application/merge-patch+json",
    )
    live = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURALS[kind], name)
    assert live["status"] == STATUSES[kind]


PRINTER_COLUMNS = {
    "TenantPair": ["Ready", "Reason", "Age"],
    "SyncScope": ["Ready", "Reason", "Scope", "Synced", "Age"],
    "AttributeMapping": ["Ready", "Reason", "Age"],
}
SHORT_NAMES = {"TenantPair": ["tp"], "SyncScope": ["ss"], "AttributeMapping": ["am"]}


@pytest.mark.parametrize("kind", list(PRINTER_COLUMNS))
def test_crd_names_columns_and_status_subresource(api_client: client.ApiClient, kind: str) -> None:
    crd = client.ApiextensionsV1Api(api_client).read_custom_resource_definition(f"{PLURALS[kind]}.{GROUP}")
    assert crd.spec.scope == "Namespaced"
    assert crd.spec.names.short_names == SHORT_NAMES[kind]
    assert crd.spec.names.categories == ["ctsync"]
    (version,) = crd.spec.versions
    assert version.name == VERSION
    assert version.subresources.status is not None
    assert [c.name for c in version.additional_printer_columns] == PRINTER_COLUMNS[kind]


def test_printer_columns_show_status(
    custom: client.CustomObjectsApi,
    dynamic: DynamicClient,
    namespace: str,
    objects: dict[str, dict[str, Any]],
) -> None:
    custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        namespace,
        "syncscopes",
        "scope",
        {"status": STATUSES["SyncScope"]},
        _content_type="application/merge-patch+json",
    )
    # What `kubectl get ss` prints: the server renders the printer columns as a Table.
    table = dynamic.resources.get(api_version=API_VERSION, kind="SyncScope").get(
        name="scope",
        namespace=namespace,
        header_params={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"},
    )
    columns = [c["name"] for c in table.to_dict()["columnDefinitions"]]
    cells = dict(zip(columns, table.to_dict()["rows"][0]["cells"], strict=True))
    assert {k: cells[k] for k in ("Ready", "Reason", "Scope", "Synced")} == {
        "Ready": "True",
        "Reason": "Reconciled",
        "Scope": 1200,
        "Synced": 1180,
    }


def test_every_schema_field_has_a_description() -> None:
    # The descriptions are the API reference (`kubectl explain`): none may be missing.
    missing = []

    def walk(schema: dict[str, Any], path: str) -> None:
        if "description" not in schema and not path.endswith(".metadata"):
            missing.append(path)
        for name, child in schema.get("properties", {}).items():
            walk(child, f"{path}.{name}")
        if "items" in schema:
            walk(schema["items"], f"{path}[]")

    crd_dir = Path(__file__).resolve().parents[2] / "crds"
    for path in sorted(crd_dir.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            walk(version["schema"]["openAPIV3Schema"], f"{crd['spec']['names']['kind']}")
    assert not missing
