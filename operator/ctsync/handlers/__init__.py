"""kopf wiring: the only package besides the CLI that imports kopf. Handlers parse a body, call a reconciler
and hand its Outcome to the bridge; they never list the API (indexes keep what they need in memory).

Handlers are registered into a registry built per run, because the drift timer's interval is a setting."""

import kopf

from ..config import Settings
from . import attributemapping, fast_lane, indexes, settings, syncscope, tenantpair


def build_registry(config: Settings) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    settings.register(registry, config)
    indexes.register(registry)
    tenantpair.register(registry, config)
    syncscope.register(registry, config)
    fast_lane.register(registry, config)
    attributemapping.register(registry, config)
    return registry
