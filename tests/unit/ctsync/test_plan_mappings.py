"""Merging the AttributeMappings of one SyncScope, and the expression checks of one AttributeMapping."""

import re
from typing import Any

import pytest
from ctsync_samples import ATTRIBUTE_MAPPING, body

from ctsync.api.attributemapping import AttributeMapping
from ctsync.errors import Blocked, DependencyNotReady, InvalidSpec
from ctsync.planning.mappings import merge_mappings, validate_attribute_mapping


def spec(name: str, **fields: Any) -> AttributeMapping:
    raw = body(ATTRIBUTE_MAPPING, **fields)
    raw["metadata"]["name"] = name
    return AttributeMapping.from_body(raw)


def test_merge_unions_mappings_remove_and_deny() -> None:
    merged = merge_mappings(
        [
            spec(
                "b",
                mappings=[{"target": "jobTitle", "source": "[jobTitle]", "apply": "OnCreate", "default": "n/a"}],
            ),
            spec(
                "a",
                mappings=[{"target": "city", "source": "[city]"}],
                remove=["showInAddressList"],
                denyAttributes=[],
            ),
        ]
    )
    assert [(m.target, m.flow_type, m.default, m.origin) for m in merged.mappings] == [
        ("city", "Always", None, "AttributeMapping tenants/a"),
        ("jobTitle", "ObjectAddOnly", "n/a", "AttributeMapping tenants/b"),
    ]
    assert merged.remove == {"showinaddresslist"} and merged.deny == {"employeeid"}


@pytest.mark.parametrize(
    ("first", "second", "words"),
    [
        (
            {"mappings": [{"target": "jobTitle", "source": "[jobTitle]"}]},
            {"mappings": [{"target": "JOBTITLE", "source": '"x"'}]},
            ["tenants/a", "tenants/b", "both map", "JOBTITLE"],
        ),
        (
            {"mappings": [{"target": "city", "source": "[city]"}]},
            {"mappings": [], "remove": ["city"]},
            ["tenants/a maps city", "tenants/b removes it"],
        ),
        (
            {"mappings": [{"target": "mobile", "source": "[mobile]"}], "denyAttributes": []},
            {"mappings": [], "denyAttributes": ["mobile"]},
            ["tenants/a maps mobile", "tenants/b denies"],
        ),
        (
            {
                "mappings": [{"target": "extensionAttribute1", "source": 'Append([employeeId], "")'}],
                "denyAttributes": [],
            },
            {"mappings": []},  # the default deny list
            ["from employeeId", "tenants/b denies"],
        ),
    ],
)
def test_merge_conflicts_name_both_objects(first: dict[str, Any], second: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(Blocked) as info:
        merge_mappings([spec("b", **second), spec("a", **first)])
    assert info.value.reason == "MappingConflict"
    assert all(word in str(info.value) for word in words), str(info.value)


def test_an_invalid_mapping_holds_the_merge() -> None:
    with pytest.raises(DependencyNotReady, match=r"tenants/bad is invalid: spec.mappings\[0\].source"):
        merge_mappings([spec("ok"), spec("bad", mappings=[{"target": "city", "source": "city"}])])


@pytest.mark.parametrize(
    ("mappings", "deny", "path", "words"),
    [
        ([{"target": "city", "source": "[city"}], None, "spec.mappings[0].source", "unclosed ["),
        (
            [{"target": "a", "source": "[a]"}, {"target": "b", "source": "Join(,"}],
            None,
            "spec.mappings[1].source",
            "missing ) to close Join(",
        ),
        (
            [{"target": "extensionAttribute2", "source": "[EmployeeId]"}],
            None,
            "spec.mappings[0].source",
            "reads EmployeeId",
        ),
        (
            [{"target": "extensionAttribute2", "source": "Left([mobile], 3)"}],
            ["mobile"],
            "spec.mappings[0].source",
            "mobile",
        ),
    ],
)
def test_expression_checks(mappings: list[dict[str, str]], deny: list[str] | None, path: str, words: str) -> None:
    extra = {} if deny is None else {"denyAttributes": deny}
    with pytest.raises(InvalidSpec, match=re.escape(words)) as info:
        validate_attribute_mapping(spec("x", mappings=mappings, **extra))
    assert info.value.field_path == path


def test_valid_mapping_passes() -> None:
    validate_attribute_mapping(spec("x"))
