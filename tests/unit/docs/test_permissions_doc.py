"""docs/permissions.md is the table the permission preflight checks, and the optional permissions checks use
when granted: same rows, least privilege first."""

from __future__ import annotations

from pathlib import Path

from ctsync.reconcile import permissions

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "permissions.md"


def documented_rows() -> set[tuple[str, ...]]:
    rows = set()
    for line in DOC.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in ("source", "target"):
            tenant, resource, feature, least, alternatives = cells
            names = [least] + ([] if alternatives == "—" else alternatives.split(", "))
            rows.add((tenant, resource, feature, *(name.strip("`") for name in names)))
    return rows


def needed_rows() -> set[tuple[str, ...]]:
    kinds = {f"TenantPair ({policy})": needs for policy, needs in permissions.TENANT_PAIR.items()}
    kinds["SyncScope"] = permissions.SYNC_SCOPE
    kinds["TenantPair (optional)"] = permissions.TENANT_PAIR_OPTIONAL
    kinds["SyncScope (optional)"] = permissions.SYNC_SCOPE_OPTIONAL
    return {
        (tenant, resource, need.feature, *need.alternatives)
        for resource, needs in kinds.items()
        for tenant, tenant_needs in needs.items()
        for need in tenant_needs
    }


def test_the_document_lists_exactly_what_the_preflight_checks():
    assert documented_rows() == needed_rows()


def test_least_privilege_comes_first():
    first = {need.feature: need.alternatives[0] for need in permissions.SYNC_SCOPE["source"]}
    assert first["the configuration: instantiate, tag, delete"] == "Application.ReadWrite.OwnedBy"
    assert first["synchronization secrets, job, schema, start and pause"] == "Application.ReadWrite.OwnedBy"


def test_install_guide_and_runbook_link_to_it():
    for page in ("install.md", "runbooks/CtsyncCredentialsInvalid.md"):
        assert "permissions.md" in (ROOT / "docs" / page).read_text(), page
