"""Desired state, diffs and plans: pure functions from (spec, observed Graph objects) to a Plan."""
