"""Attribute names of a SyncScope and its AttributeMappings checked against the live job schema, which
knows the tenant's own attributes (directory extensions) and is what the service will hold the PUT to."""

from collections.abc import Sequence

from ctsync.api.attributemapping import AttributeMapping
from ctsync.api.syncscope import SyncScope
from ctsync.errors import DependencyNotReady
from ctsync.planning.attribute_names import from_job_schema, scoping_filter_name_errors
from ctsync.planning.mappings import attribute_mapping_errors
from ctsync.planning.plan import Json


def check_names_in_job_schema(scope: SyncScope, mappings: Sequence[AttributeMapping], schema: Json) -> None:
    """Raises InvalidSpec for the scope's own scoping filters; DependencyNotReady naming the AttributeMapping
    and its field for a mapping (the mapping is fixed in its own object, as merge_mappings reports it)."""
    known = from_job_schema(schema)
    for error in scoping_filter_name_errors(scope.scoping_filters, known):
        raise error
    for spec in sorted(mappings, key=lambda s: (s.namespace, s.name)):
        for error in attribute_mapping_errors(spec, known):
            raise DependencyNotReady(f"{spec.ref} is invalid: {error}")
