"""docs/metrics.md documents every metric the operator exports, with exactly the labels it carries."""

from __future__ import annotations

import re

from observability_support import REPO

METRICS_DOC = REPO / "docs" / "metrics.md"
# A table row: | `name` | type | `label`, `label` | meaning |
ROW = re.compile(r"^\| `(ctsync_\w+)` \| \w+ \| ([^|]*) \|", re.MULTILINE)


def test_every_exported_metric_is_documented_with_its_labels(exported_labels):
    documented = {name: set(re.findall(r"`(\w+)`", labels)) for name, labels in ROW.findall(METRICS_DOC.read_text())}
    exported = {name: labels - {"le"} for name, labels in exported_labels.items()}
    assert documented == exported
