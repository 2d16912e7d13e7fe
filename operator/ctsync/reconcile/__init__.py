"""Reconcilers: observe both tenants, plan, apply in order, and describe the result as an Outcome (no kopf)."""
