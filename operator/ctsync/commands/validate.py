"""`ctsync validate PATH...`: offline checks of manifests, for pull-request pipelines.

Each ctsync.io object is checked against its CRD's structural schema (unknown fields included, as the API
server's strict field validation does; CRD defaults aside), then by the kinds' own validation (which
repeats the CRDs' CEL rules, which cannot run offline), expression parsing, attribute names (against the
user attributes of the Azure2Azure job template, with "did you mean") and risky mappings (userPrincipalName,
accountEnabled) that spec.acknowledgeRisks does not acknowledge, then against the other
objects given: references, duplicates, and conflicts between the AttributeMappings of one SyncScope.
Objects of other API groups are ignored.
"""

from __future__ import annotations

import argparse
import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jsonschema
import yaml

from ctsync.api import constants
from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.syncscope import SyncScope
from ctsync.api.tenantpair import TenantPair
from ctsync.commands import EXIT_ERROR, EXIT_OK, CommandError, Subparsers, add_command, add_output_flag
from ctsync.commands.manifests import Document, Problem, load, shipped_dir
from ctsync.commands.output import print_json
from ctsync.errors import Blocked, InvalidSpec
from ctsync.planning.mappings import attribute_mapping_errors, merge_mappings

Key = tuple[str, str]  # (namespace, name)
Model = TenantPair | SyncScope | AttributeMapping
MODELS: Final[dict[str, Callable[[Mapping[str, Any]], Model]]] = {
    constants.KIND_TENANT_PAIR: TenantPair.from_body,
    constants.KIND_SYNC_SCOPE: SyncScope.from_body,
    constants.KIND_ATTRIBUTE_MAPPING: AttributeMapping.from_body,
}


@dataclass
class Resources:
    """The valid ctsync objects of a set of manifests, by kind and (namespace, name)."""

    pairs: dict[Key, TenantPair] = field(default_factory=dict)
    scopes: dict[Key, SyncScope] = field(default_factory=dict)
    mappings: dict[Key, AttributeMapping] = field(default_factory=dict)
    documents: dict[tuple[str, str, str], Document] = field(default_factory=dict)  # (kind, ns, name)
    ignored: int = 0  # objects of other API groups

    def add(self, model: Model, document: Document | None = None) -> None:
        """`document`: where the model was read, if from a file."""
        key = (model.namespace, model.name)
        if isinstance(model, TenantPair):
            self.pairs[key] = model
        elif isinstance(model, SyncScope):
            self.scopes[key] = model
        else:
            self.mappings[key] = model
        if document is not None:
            self.documents[(model.kind, *key)] = document

    def document(self, model: Model) -> Document:
        return self.documents[(model.kind, model.namespace, model.name)]

    def pair_of(self, scope: SyncScope) -> TenantPair | None:
        return self.pairs.get((scope.namespace, scope.tenant_pair_name))

    def scopes_of(self, pair: TenantPair) -> list[SyncScope]:
        return [s for s in self.scopes.values() if self.pair_of(s) is pair]

    def mappings_of(self, scope: SyncScope) -> list[AttributeMapping]:
        """In the order merge_mappings reads them."""
        found = [m for m in self.mappings.values() if (m.namespace, m.sync_scope_name) == (scope.namespace, scope.name)]
        return sorted(found, key=lambda m: (m.namespace, m.name))

    @property
    def count(self) -> int:
        return len(self.pairs) + len(self.scopes) + len(self.mappings)


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "validate",
        run,
        help="check manifests offline (schemas, expressions, references, mapping conflicts)",
        description=__doc__,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="YAML files or directories (searched recursively)")
    add_crds_flag(parser)
    add_output_flag(parser)


def add_crds_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--crds", metavar="DIR", help="the CRDs to check against (default: the CRDs ctsync ships)")


def run(args: argparse.Namespace) -> int:
    documents, problems = load(args.paths)
    resources, found = check(documents, load_schemas(args.crds))
    problems = sorted([*problems, *found], key=lambda p: (p.path, p.line))
    files = len({d.path for d in documents})
    if args.output == "json":
        print_json(
            {
                "valid": not problems,
                "files": files,
                "objects": resources.count,
                "ignored": resources.ignored,
                "problems": [p.to_dict() for p in problems],
            }
        )
    else:
        for problem in problems:
            print(problem)
        ignored = f", {resources.ignored} object(s) of other API groups ignored" if resources.ignored else ""
        if problems:
            print(f"{len(problems)} problem(s) found in {len({p.path for p in problems})} file(s){ignored}")
        else:
            print(f"valid: {resources.count} ctsync object(s) in {files} file(s){ignored}")
    return EXIT_ERROR if problems else EXIT_OK


# --- schemas ----------------------------------------------------------------------------------------------


def load_schemas(crd_dir: str | None) -> dict[str, jsonschema.Draft4Validator]:
    """Kind -> a validator of the served version's openAPIV3Schema (OpenAPI 3.0 schemas are Draft 4 style)."""
    directory = Path(crd_dir) if crd_dir else shipped_dir("crds", "--crds")
    validators = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            crd = yaml.safe_load(path.read_text())
            names, versions = crd["spec"]["names"], crd["spec"]["versions"]
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise CommandError(f"{path}: not a CustomResourceDefinition ({exc})", "pass --crds DIR") from None
        if crd["spec"].get("group") != constants.GROUP:
            continue
        for version in versions:
            if version.get("name") == constants.VERSION:
                schema = _strict(version["schema"]["openAPIV3Schema"])
                validators[names["kind"]] = jsonschema.Draft4Validator(schema)
    if set(validators) != set(MODELS):
        missing = ", ".join(sorted(set(MODELS) - set(validators)))
        raise CommandError(f"{directory} lacks the CRD of {missing}", "pass --crds DIR (the crds/ of ctsync)")
    return validators


def _strict(schema: Any) -> Any:
    """A copy in which objects with known properties refuse others: a structural schema prunes unknown fields
    and kubectl's strict field validation rejects them, so a misspelt field would otherwise pass unseen."""
    schema = copy.deepcopy(schema)
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if (
            "properties" in node
            and "additionalProperties" not in node
            and not node.get("x-kubernetes-preserve-unknown-fields")
        ):
            node["additionalProperties"] = False
        stack.extend(node.get("properties", {}).values())
        stack.extend(v for k, v in node.items() if k in ("items", "additionalProperties") and isinstance(v, dict))
    return schema


# --- checks -------------------------------------------------------------------------------------------------


def check(
    documents: Iterable[Document], schemas: Mapping[str, jsonschema.Draft4Validator]
) -> tuple[Resources, list[Problem]]:
    """Every problem of the documents, one by one and together; the valid objects."""
    resources = Resources()
    problems: list[Problem] = []
    for document in documents:
        model = _check_document(document, schemas, resources, problems)
        if model is None:
            continue
        key = (model.kind, model.namespace, model.name)
        if key in resources.documents:
            first = resources.documents[key]
            problems.append(document.problem(f"{model.ref} is also defined at {first.path}:{first.line}"))
            continue
        resources.add(model, document)
    problems.extend(_check_references(resources))
    problems.extend(_check_uniqueness(resources))
    problems.extend(_check_mapping_conflicts(resources))
    return resources, problems


def _check_document(
    document: Document,
    schemas: Mapping[str, jsonschema.Draft4Validator],
    resources: Resources,
    problems: list[Problem],
) -> Model | None:
    if not isinstance(document.body, dict) or not document.api_version or not document.kind:
        problems.append(document.problem("not a Kubernetes object: apiVersion and kind are required"))
        return None
    if not document.is_ctsync:
        resources.ignored += 1
        return None
    if document.api_version != constants.API_VERSION or document.kind not in schemas:
        kinds = ", ".join(schemas)
        problems.append(
            document.problem(
                f"unknown kind {document.api_version} {document.kind}: "
                f"ctsync serves {kinds} in {constants.API_VERSION}",
                "kind",
            )
        )
        return None
    # Named as Resource.ref names objects, so that every message about one object starts alike.
    label = f"{document.kind} {document.namespace or 'default'}/{document.name or '(unnamed)'}"
    errors = sorted(schemas[document.kind].iter_errors(document.body), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            # One problem per unknown field, at its own line rather than at the object holding it.
            for extra in sorted(set(error.instance) - set(error.schema.get("properties", {}))):
                where = _field_text([*path, extra])
                problems.append(document.problem(f"{label}: {where}: unknown field", [*path, extra]))
            continue
        where = _field_text(path)
        problems.append(document.problem(f"{label}: {where + ': ' if where else ''}{error.message}", path))
    if errors:
        return None  # the models would only repeat what the schema said, less precisely
    try:
        model = MODELS[document.kind](document.body)
        if not isinstance(model, AttributeMapping):
            model.validate()
    except InvalidSpec as exc:
        problems.append(document.problem(f"{label}: {exc.message}", exc.field_path))
        return None
    errors = _model_errors(model)
    problems.extend(document.problem(f"{label}: {exc.message}", exc.field_path) for exc in errors)
    return None if errors else model


def _model_errors(model: Model) -> list[InvalidSpec]:
    """What an AttributeMapping's own validation leaves to planning: expression syntax, attribute names
    (against the Azure2Azure template's) and risky mappings. A SyncScope's validate checks its scoping
    filters' attribute names itself."""
    if isinstance(model, AttributeMapping):
        return attribute_mapping_errors(model)
    return []


def _field_text(path: Sequence[str | int]) -> str:
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else f".{key}" if text else str(key)
    return text


def _check_references(resources: Resources) -> list[Problem]:
    problems = []
    for scope in resources.scopes.values():
        if resources.pair_of(scope) is None:
            problems.append(
                resources.document(scope).problem(
                    f"{scope.ref}: spec.tenantPairRef: no TenantPair {scope.tenant_pair_name!r} in namespace "
                    f"{scope.namespace} among the manifests given",
                    "spec.tenantPairRef.name",
                )
            )
    for mapping in resources.mappings.values():
        if (mapping.namespace, mapping.sync_scope_name) not in resources.scopes:
            problems.append(
                resources.document(mapping).problem(
                    f"{mapping.ref}: spec.syncScopeRef: no SyncScope {mapping.sync_scope_name!r} in namespace "
                    f"{mapping.namespace} among the manifests given",
                    "spec.syncScopeRef.name",
                )
            )
    return problems


def _check_uniqueness(resources: Resources) -> list[Problem]:
    """One TenantPair per direction, one configuration name per source tenant: a second one would fight
    the first over the same Graph objects."""
    problems = []
    directions: dict[tuple[str, str], TenantPair] = {}
    for pair in resources.pairs.values():
        first = directions.setdefault((pair.source.tenant_id, pair.target.tenant_id), pair)
        if first is not pair:
            problems.append(
                resources.document(pair).problem(
                    f"{pair.ref}: {first.ref} already synchronizes this source tenant into this target tenant",
                    "spec.source.tenantId",
                )
            )
    configurations: dict[tuple[str, str], SyncScope] = {}
    for scope in resources.scopes.values():
        scope_pair = resources.pair_of(scope)
        if scope_pair is None:
            continue
        other = configurations.setdefault((scope_pair.source.tenant_id, scope.configuration_name.casefold()), scope)
        if other is not scope:
            problems.append(
                resources.document(scope).problem(
                    f"{scope.ref}: {other.ref} already manages configuration {scope.configuration_name!r} "
                    "in this source tenant",
                    "spec.configurationName",
                )
            )
    return problems


def _check_mapping_conflicts(resources: Resources) -> list[Problem]:
    """The merge of each SyncScope's AttributeMappings, reported at the mapping that brings the conflict."""
    problems = []
    for scope in resources.scopes.values():
        mappings = resources.mappings_of(scope)
        for end in range(1, len(mappings) + 1):
            try:
                merge_mappings(mappings[:end])
            except Blocked as exc:  # only valid mappings get here, so this is a conflict between them
                culprit = mappings[end - 1]
                problems.append(resources.document(culprit).problem(f"{culprit.ref}: {exc.message}"))
                break
    return problems
