"""Conditional Access policies: seeded per tenant and served read-only."""
